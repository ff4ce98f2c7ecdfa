"""All configuration of Écoute in one place.

Values come, highest priority first, from: keyword arguments, ``ECOUTE_*`` environment variables
(nested fields with ``__``, e.g. ``ECOUTE_ES__API_KEY``), a TOML config file (``ECOUTE_CONFIG`` or
``ecoute.toml`` in the working directory), then the defaults below, which fit the embedded stack.
Secrets are ``SecretStr``: they never show in ``repr``, logs or ``ecoute config``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def config_sources(
    settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, env_settings: PydanticBaseSettingsSource
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


class TopicNames(BaseModel):
    raw: str = "ecoute.raw.v1"
    enriched: str = "ecoute.enriched.v1"
    dlq: str = "ecoute.dlq.v1"
    alerts: str = "ecoute.alerts.v1"


class IndexNames(BaseModel):
    mentions: str = "ecoute-mentions"
    rollups_daily: str = "ecoute-rollups-daily"
    alerts: str = "ecoute-alerts"
    quarantine: str = "ecoute-quarantine"
    job_metrics: str = "ecoute-job-metrics"
    erasures: str = "ecoute-erasures"
    feedback: str = "ecoute-feedback"


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ECOUTE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    state_dir: Path = PROJECT_ROOT / ".ecoute"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    es: ElasticsearchSettings = Field(default_factory=ElasticsearchSettings)
    topics: TopicNames = Field(default_factory=TopicNames)
    indices: IndexNames = Field(default_factory=IndexNames)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    # Key of the keyed hash that pseudonymises author ids; set it in production.
    pseudonym_key: SecretStr = SecretStr("ecoute-local-development-key")
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
        """The settings as a dict safe to print (secrets masked by pydantic)."""
        return self.model_dump(mode="json")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
