"""Connector settings: credentials and source options, from the environment (or Airflow connections).

Environment variables use the same ``ECOUTE_`` prefix and ``__`` nesting as the rest of Écoute,
for example ``ECOUTE_FACEBOOK__PAGE_ID``, ``ECOUTE_FACEBOOK__PAGE_TOKEN`` (a SecretStr: never
printed), ``ECOUTE_REDDIT__SUBREDDITS='["france","brand"]'``. Only the base URLs differ between
tests and production. In Airflow, a connection ``ecoute_<source>`` (password = token/secret,
login = client id, extra = any other field as JSON) fills what the environment did not set.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ecoute.settings import config_sources

log = logging.getLogger(__name__)


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


class ConnectorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECOUTE_", env_nested_delimiter="__", extra="ignore")

    facebook: FacebookSettings = Field(default_factory=FacebookSettings)
    instagram: InstagramSettings = Field(default_factory=InstagramSettings)
    youtube: YouTubeSettings = Field(default_factory=YouTubeSettings)
    reddit: RedditSettings = Field(default_factory=RedditSettings)
    x: XSettings = Field(default_factory=XSettings)
    rss: RssSettings = Field(default_factory=RssSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)

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


# Which Airflow connection field fills which secret of each source.
_AIRFLOW_FIELDS: dict[str, dict[str, str]] = {
    "facebook": {"password": "page_token", "login": "page_id", "host": "base_url"},
    "instagram": {"password": "access_token", "login": "user_id", "host": "base_url"},
    "youtube": {"password": "api_key", "login": "channel_id", "host": "base_url"},
    "reddit": {"password": "client_secret", "login": "client_id", "host": "base_url"},
    "x": {"password": "bearer_token", "host": "base_url"},
    "rss": {},
    "webhook": {"password": "app_secret"},
}


def airflow_overrides(source: str) -> dict[str, Any]:
    """Fields of the Airflow connection ``ecoute_<source>``, when running under Airflow and it exists."""
    try:
        from airflow.sdk import BaseHook  # Airflow 3
    except ImportError:  # pragma: no cover - Airflow missing or older
        try:
            from airflow.hooks.base import BaseHook  # type: ignore[no-redef]
        except ImportError:
            return {}
    try:
        connection = BaseHook.get_connection(f"ecoute_{source}")
    except Exception:
        return {}
    values: dict[str, Any] = dict(connection.extra_dejson or {})
    for conn_field, setting in _AIRFLOW_FIELDS.get(source, {}).items():
        value = getattr(connection, conn_field, None)
        if value:
            values.setdefault(setting, value)
    return values


def load_connector_settings(source: str | None = None, use_airflow: bool | None = None) -> ConnectorSettings:
    """Connector settings from the environment; under Airflow, the connection fills unset fields."""
    settings = ConnectorSettings()
    if use_airflow is None:
        use_airflow = "AIRFLOW_CTX_DAG_ID" in os.environ or "AIRFLOW__CORE__DAGS_FOLDER" in os.environ
    if use_airflow and source:
        extra = airflow_overrides(source)
        if extra:
            current = getattr(settings, source)
            explicit = current.model_fields_set
            merged = {**{k: v for k, v in extra.items() if k not in explicit}, **current.model_dump(exclude_unset=True)}
            setattr(settings, source, type(current).model_validate(merged))
            log.info("%s: settings completed from Airflow connection ecoute_%s", source, source)
    return settings
