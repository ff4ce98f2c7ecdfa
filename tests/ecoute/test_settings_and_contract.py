"""Settings precedence and the event contract of schemas/."""

from __future__ import annotations

import pytest

from ecoute import events
from ecoute.settings import Settings

RAW = {
    "id": "facebook:123_456",
    "source": "facebook",
    "kind": "comment",
    "parent_id": "facebook:123",
    "thread_id": "facebook:123",
    "channel": "facebook:maison-aurore",
    "author": {"id": "a_1", "name": None, "is_brand": False},
    "text": "Livraison en retard 😡 #colis",
    "url": "https://facebook.com/123_456",
    "created_at": "2026-10-17T09:12:44Z",
    "fetched_at": "2026-10-17T09:13:00Z",
    "metrics": {"likes": 3, "replies": 0, "shares": 0},
}


def test_environment_overrides_defaults_and_secrets_stay_masked(monkeypatch, tmp_path):
    monkeypatch.setenv("ECOUTE_ES__URL", "https://es.example:9243")
    monkeypatch.setenv("ECOUTE_ES__API_KEY", "c2VjcmV0LWtleQ==")
    monkeypatch.setenv("ECOUTE_KAFKA__BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("ECOUTE_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(FileNotFoundError):
        Settings()
    (tmp_path / "ecoute.toml").write_text('state_dir = "/srv/ecoute"\n[topics]\nraw = "acme.raw.v1"\n')
    monkeypatch.setenv("ECOUTE_CONFIG", str(tmp_path / "ecoute.toml"))
    settings = Settings()
    assert settings.es.url == "https://es.example:9243"
    assert settings.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.topics.raw == "acme.raw.v1" and str(settings.state_dir) == "/srv/ecoute"
    assert "c2VjcmV0LWtleQ" not in repr(settings) and "c2VjcmV0LWtleQ" not in str(settings.redacted())


def test_es_auth_must_be_one_kind():
    with pytest.raises(ValueError, match="either"):
        Settings(es={"api_key": "k", "username": "u", "password": "p"})
    with pytest.raises(ValueError, match="go together"):
        Settings(es={"username": "u"})


def test_valid_raw_event_passes_and_every_violation_is_named():
    assert events.validation_errors(RAW) == []
    bad = {**RAW, "source": "myspace", "created_at": "yesterday", "extra": 1}
    bad.pop("text")
    errors = " | ".join(events.validation_errors(bad))
    for expected in ("source", "created_at", "text", "extra"):
        assert expected in errors


def test_enriched_event_requires_labels():
    errors = " | ".join(events.validation_errors(RAW, "enriched_event.schema.json"))
    assert "sentiment" in errors and "criticism" in errors


def test_pseudonyms_are_stable_keyed_and_not_the_native_id():
    a = events.pseudonymise("1234567", "k1")
    assert a == events.pseudonymise("1234567", "k1") != events.pseudonymise("1234567", "k2")
    assert "1234567" not in a


def test_dead_letter_keeps_invalid_bytes_recoverable():
    record = events.dead_letter(stage="connector:import", reason="invalid JSON", original=b"{\xff\x00")
    assert events.validation_errors(record, "dlq_record.schema.json") == []
    import base64

    assert base64.b64decode(record["original_b64"]) == b"{\xff\x00"


def test_event_ids_and_month_index():
    assert events.event_id("youtube", " Ugz1 ") == "youtube:Ugz1"
    with pytest.raises(ValueError):
        events.event_id("myspace", "1")
    assert events.month_index("ecoute-mentions", "2026-10-17T09:12:44Z") == "ecoute-mentions-2026.10"
