"""Connector settings: environment variables (secrets stay secret) and Airflow connections."""

from __future__ import annotations

import json

from connectors.config import ConnectorSettings, load_connector_settings


def test_credentials_from_environment_are_secret(monkeypatch):
    monkeypatch.setenv("ECOUTE_FACEBOOK__PAGE_ID", "104857600123456")
    monkeypatch.setenv("ECOUTE_FACEBOOK__PAGE_TOKEN", "EAAGsecretvalue")
    monkeypatch.setenv("ECOUTE_REDDIT__SUBREDDITS", '["france", "paris"]')
    monkeypatch.setenv("ECOUTE_FACEBOOK__BACKOFF_BASE_S", "0.5")
    settings = ConnectorSettings()
    assert settings.facebook.page_id == "104857600123456"
    assert settings.facebook.page_token.get_secret_value() == "EAAGsecretvalue"
    assert settings.facebook.backoff_base_s == 0.5 and settings.reddit.subreddits == ["france", "paris"]
    assert "EAAGsecretvalue" not in repr(settings) and "EAAGsecretvalue" not in json.dumps(
        settings.model_dump(mode="json")
    )


def test_airflow_connection_fills_what_the_environment_did_not_set(monkeypatch):
    connection = {
        "conn_type": "http",
        "login": "104857600123456",
        "password": "EAAGfromAirflow",
        "extra": {"usage_slowdown_pct": 70},
    }
    monkeypatch.setenv("AIRFLOW_CONN_ECOUTE_FACEBOOK", json.dumps(connection))
    monkeypatch.setenv("ECOUTE_FACEBOOK__PAGE_ID", "999")  # the environment wins
    settings = load_connector_settings("facebook", use_airflow=True)
    assert settings.facebook.page_id == "999"
    assert settings.facebook.page_token.get_secret_value() == "EAAGfromAirflow"
    assert settings.facebook.usage_slowdown_pct == 70
    assert load_connector_settings("facebook", use_airflow=False).facebook.page_token is None
