"""Connector settings: credentials and source options, read through the one settings root.

The sources' sections (``HttpSourceSettings``, ``FacebookSettings`` … ``WebhookSettings``) are
declared in ecoute/settings.py with the rest of Écoute's configuration, so environment variables
keep the ``ECOUTE_`` prefix and ``__`` nesting, for example ``ECOUTE_FACEBOOK__PAGE_ID``,
``ECOUTE_FACEBOOK__PAGE_TOKEN`` (a SecretStr: never printed),
``ECOUTE_REDDIT__SUBREDDITS='["france","brand"]'``, and the TOML config file's ``[facebook]``
table. Only the base URLs differ between tests and production. In Airflow, a connection
``ecoute_<source>`` (password = token/secret, login = client id, extra = any other field as JSON)
fills what the environment did not set.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import model_validator

from ecoute.settings import (
    FacebookSettings,
    HttpSourceSettings,
    InstagramSettings,
    RedditSettings,
    RssSettings,
    Settings,
    SourceSections,
    WebhookSettings,
    XSettings,
    YouTubeSettings,
    under_airflow,
)

__all__ = [
    "ConnectorSettings",
    "FacebookSettings",
    "HttpSourceSettings",
    "InstagramSettings",
    "RedditSettings",
    "RssSettings",
    "WebhookSettings",
    "XSettings",
    "YouTubeSettings",
    "airflow_overrides",
    "load_connector_settings",
]

log = logging.getLogger(__name__)


class ConnectorSettings(SourceSections):
    """The sources' sections of the settings root; a section not given is read through the root
    (``ConnectorSettings()`` reads them all from the environment and the config file)."""

    @model_validator(mode="before")
    @classmethod
    def _from_the_root(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        missing = [name for name in cls.model_fields if name not in data]
        if not missing:
            return data
        root = Settings()
        return {**{name: getattr(root, name) for name in missing}, **data}


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
            from airflow.hooks.base import BaseHook  # type: ignore[no-redef, attr-defined]  # Airflow 2's place
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
        use_airflow = under_airflow()
    if use_airflow and source:
        extra = airflow_overrides(source)
        if extra:
            current = getattr(settings, source)
            explicit = current.model_fields_set
            merged = {**{k: v for k, v in extra.items() if k not in explicit}, **current.model_dump(exclude_unset=True)}
            setattr(settings, source, type(current).model_validate(merged))
            log.info("%s: settings completed from Airflow connection ecoute_%s", source, source)
    return settings
