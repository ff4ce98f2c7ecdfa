"""Issue 28, item 13: an alert on a channel whose name holds a line break (RSS titles keep them) is
emailed with a one-line subject, and one alert that cannot be written never holds the others
(real noida-db, real SMTP sink, Airflow's SMTP hook)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

from ecoute import es
from ecoute.events import to_rfc3339
from jobs.alerts import send_pending_emails
from jobs.notify import smtp_connection_uri

NOW = datetime(2026, 10, 20, 16, tzinfo=UTC)


def _alert(channel: str, ratio: float, **extra) -> dict:
    start = NOW - timedelta(hours=1)
    return {
        "id": f"channel:{channel}|{to_rfc3339(start)}",
        "scope": f"channel:{channel}",
        "channel": channel,
        "severity": "high",
        "status": "open",
        "bucket_start": to_rfc3339(start),
        "bucket_minutes": 60,
        "window_minutes": 60,
        "episode_start": to_rfc3339(start),
        "observed": 40,
        "expected": 4.0,
        "ratio": ratio,
        "peak_ratio": ratio,
        "score": ratio,
        "messages": 40,
        "distinct_authors": 31,
        "repeat_share": 0.0,
        "top_mentions": [],
        "breakdown": [],
        "summary": f"40 critical messages on {channel}",
        "detected_at": to_rfc3339(NOW - timedelta(minutes=5)),
        "email_sent_at": None,
        "email_recipients": [],
        "email_error": None,
        **extra,
    }


def _setup(settings, smtp_outbox, monkeypatch, alerts: list[dict]):
    settings.smtp.port = smtp_outbox.port
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(settings))
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    for alert in alerts:
        client.index(index=settings.indices.alerts, id=alert["id"], document=alert, refresh="wait_for")
    return client


def _stored(client, settings, alert_id: str) -> dict:
    return client.get(index=settings.indices.alerts, id=alert_id)["_source"]


def test_a_channel_name_with_a_line_break_is_emailed_on_one_subject_line(settings, smtp_outbox, monkeypatch) -> None:
    rss = _alert("Le Monde\n— Économie\r\n", 10.0)
    other = _alert("facebook:maison-aurore", 3.0)
    client = _setup(settings, smtp_outbox, monkeypatch, [rss, other])
    sent = send_pending_emails(client, settings, NOW, {})
    assert {a["id"] for a in sent} == {rss["id"], other["id"]}
    [path] = smtp_outbox.messages()
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert "\n" not in message["Subject"] and "Le Monde — Économie" in message["Subject"]
    for alert in (rss, other):
        stored = _stored(client, settings, alert["id"])
        assert stored["email_sent_at"] and stored["email_error"] is None


def test_one_alert_that_cannot_be_written_does_not_hold_the_others(settings, smtp_outbox, monkeypatch) -> None:
    broken = _alert("facebook:page-a", 12.0, breakdown=[{"channel": "facebook:page-a", "share": None}])
    fine = _alert("facebook:page-b", 4.0)
    client = _setup(settings, smtp_outbox, monkeypatch, [broken, fine])
    sent = send_pending_emails(client, settings, NOW, {})
    assert [a["id"] for a in sent] == [fine["id"]]
    [path] = smtp_outbox.messages()
    assert "page-b" in email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Subject"]
    stored = _stored(client, settings, broken["id"])
    assert stored["email_sent_at"] is None and stored["email_error"].startswith("TypeError")
    assert _stored(client, settings, fine["id"])["email_sent_at"]
