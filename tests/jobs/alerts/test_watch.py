"""The criticism spike watch end to end on noida-db: one alert per crisis, none on calm days,
email delivery state kept on the alert (retried when SMTP is down, never sent twice)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest

from ecoute.es import make_client, scan_docs
from ecoute.kafka import high_watermarks, read_range
from jobs.alerts import replay_criticism_watch, run_criticism_watch
from jobs.notify import smtp_connection_uri
from tests.jobs.alerts.data import index_mentions, month_with_crisis
from tests.jobs.alerts.screenshots import preview_from_eml, screenshot_email

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)


def _stored(settings) -> list[dict]:
    client = make_client(settings)
    if not client.indices.exists(index=settings.indices.alerts):
        return []
    return sorted(scan_docs(client, settings.indices.alerts), key=lambda d: d["id"])


def _use_smtp(settings, monkeypatch, port: int) -> None:
    settings.smtp.port = port
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(settings))


@pytest.fixture
def crisis_month(settings):
    index_mentions(settings, month_with_crisis())
    return settings


def test_crisis_month_gives_one_episode_and_one_email(crisis_month, smtp_outbox, monkeypatch, tmp_path) -> None:
    settings = crisis_month
    _use_smtp(settings, monkeypatch, smtp_outbox.port)
    alerts = replay_criticism_watch(settings, START, END)
    assert len(alerts) == 1, [a["id"] for a in alerts]
    alert = alerts[0]
    start = datetime.fromisoformat(alert["episode_start"].replace("Z", "+00:00"))
    assert datetime(2026, 10, 20, 14, tzinfo=UTC) <= start < datetime(2026, 10, 20, 18, tzinfo=UTC)
    stored = _stored(settings)
    assert [a["id"] for a in stored] == [alert["id"]]
    assert stored[0]["email_sent_at"] and stored[0]["email_recipients"] == settings.alerts.recipients
    assert stored[0]["status"] == "ended"  # the burst is long over by the end of the month
    ended = datetime.fromisoformat(stored[0]["ended_at"].replace("Z", "+00:00"))
    assert start < ended <= start + timedelta(hours=12)  # when the burst calmed down, not when the replay ended
    assert len(stored[0]["top_mentions"]) == 5

    # The alert was produced to ecoute.alerts.v1, keyed by its id.
    marks = high_watermarks(settings.topics.alerts, settings=settings)
    records = [r for p, end in marks.items() for r in read_range(settings.topics.alerts, p, 0, end, settings)]
    assert [r.key.decode() if isinstance(r.key, bytes) else r.key for r in records] == [alert["id"]]

    # The saved email: text and HTML parts, inline chart, escaped user text, links.
    [path] = smtp_outbox.messages()
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert "Pic de critiques" in message["Subject"]
    assert message["To"] == ", ".join(settings.alerts.recipients)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Critiques observées" in text and "Niveau habituel" in text
    # The explanation: distinct authors, the same time yesterday and last week, feedback links.
    assert "auteurs distincts" in text and "Hier à la même heure" in text and "La semaine dernière" in text
    assert html.count("/alerts/feedback?t=") == 2 and stored[0]["distinct_authors"] > 0
    assert "&lt;b&gt;honteux&lt;/b&gt; &amp; inadmissible" in html  # user text escaped
    assert "<b>honteux" not in html
    assert 'src="cid:chart"' in html
    assert "https://facebook.com/maison-aurore/posts/" in html
    assert "/app/discover#/" in html
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<chart>"
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    # Replaying again changes nothing: same episode, no new alert, no second email.
    again = replay_criticism_watch(settings, START, END)
    assert [a["id"] for a in again] == [alert["id"]] and again[0]["email_sent_at"] == stored[0]["email_sent_at"]
    assert len(_stored(settings)) == 1 and len(smtp_outbox.messages()) == 1

    # What the manager sees (PNG in tests/artifacts/; skipped only when Chromium is absent).
    screenshot_email(preview_from_eml(path, tmp_path / "alert-preview"), "alert-email")


def test_calm_month_gives_no_alert(settings, smtp_outbox, monkeypatch) -> None:
    _use_smtp(settings, monkeypatch, smtp_outbox.port)
    index_mentions(settings, month_with_crisis(crisis_day=None, seed=11))
    assert replay_criticism_watch(settings, START, END) == []
    assert _stored(settings) == [] and smtp_outbox.messages() == []


def test_hourly_runs_match_the_replay_and_smtp_outage_is_retried(crisis_month, smtp_outbox, monkeypatch) -> None:
    settings = crisis_month
    # SMTP is down during the crisis: alerts are kept with the error, not lost.
    _use_smtp(settings, monkeypatch, 1)
    opened = []
    now = datetime(2026, 10, 20, 8, tzinfo=UTC)
    while now < datetime(2026, 10, 21, 0, tzinfo=UTC):
        opened += [a for a in run_criticism_watch(settings, now=now) if a.get("status") == "open"]
        now += timedelta(hours=1)
    stored = _stored(settings)
    assert len(stored) == 1 and len({a["id"] for a in opened}) == 1
    assert stored[0]["email_sent_at"] is None and "Error" in stored[0]["email_error"]
    assert stored[0]["id"].startswith("overall|2026-10-20T1")

    # SMTP is back: the next run sends it, the one after does not send it again.
    _use_smtp(settings, monkeypatch, smtp_outbox.port)
    sent = run_criticism_watch(settings, now=now)
    assert [a["id"] for a in sent] == [stored[0]["id"]]
    assert run_criticism_watch(settings, now=now + timedelta(minutes=15)) == []
    assert len(smtp_outbox.messages()) == 1
    assert _stored(settings)[0]["email_sent_at"]


def test_quiet_run_without_data(settings) -> None:
    assert run_criticism_watch(settings, now=datetime(2026, 10, 5, tzinfo=UTC), send_email=False) == []


def test_alert_index_from_an_older_release_gets_the_new_fields(crisis_month) -> None:
    settings = crisis_month
    client = make_client(settings)
    client.indices.delete(index=settings.indices.alerts)
    # The alerts index as created before window_minutes / breakdown / ended_at existed.
    client.indices.create(
        index=settings.indices.alerts,
        mappings={"dynamic": "strict", "properties": {"id": {"type": "keyword"}, "scope": {"type": "keyword"}}},
    )
    alerts = replay_criticism_watch(settings, START, END, send_email=False)
    assert len(alerts) == 1 and alerts[0]["window_minutes"] and alerts[0]["status"] == "ended"


def _subjects(outbox) -> list[str]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"] for p in outbox.messages()]


def test_copy_paste_campaign_is_not_a_crisis(settings, smtp_outbox, monkeypatch) -> None:
    from tests.jobs.alerts.data import mention

    _use_smtp(settings, monkeypatch, smtp_outbox.port)
    docs = month_with_crisis(crisis_day=None, seed=11)
    # 150 accounts post the same text within two hours: one voice, not 150.
    start = datetime(2026, 10, 20, 14, tzinfo=UTC)
    docs += [
        mention(
            900_000 + i,
            start + timedelta(seconds=48 * i),
            critical=True,
            author=f"a_bot{i}",
            text="Boycott Maison Aurore, partagez ce message partout !",
        )
        for i in range(150)
    ]
    index_mentions(settings, docs)
    assert replay_criticism_watch(settings, START, END) == []


def test_one_email_per_event_escalation_and_resolution(settings, smtp_outbox, monkeypatch) -> None:
    from tests.jobs.alerts.data import mention

    _use_smtp(settings, monkeypatch, smtp_outbox.port)
    docs = month_with_crisis()
    # The crisis grows: from 16:00 another ~60 critical mentions an hour for two hours.
    grows = datetime(2026, 10, 20, 16, tzinfo=UTC)
    docs += [mention(800_000 + i, grows + timedelta(seconds=30 * i), critical=True) for i in range(240)]
    index_mentions(settings, docs)
    now = datetime(2026, 10, 20, 12, tzinfo=UTC)
    while now < datetime(2026, 10, 21, 2, tzinfo=UTC):
        run_criticism_watch(settings, now=now)
        now += timedelta(hours=1)
    subjects = _subjects(smtp_outbox)
    assert len(subjects) == 3, subjects
    assert "Pic de critiques" in subjects[0] and "s'aggrave" in subjects[1] and "terminé" in subjects[2]
    [stored] = _stored(settings)
    assert stored["status"] == "ended" and stored["escalated_at"] and stored["resolved_email_sent_at"]
    assert stored["peak_ratio"] > stored["ratio"]
    resolved = email.message_from_bytes(smtp_outbox.messages()[2].read_bytes(), policy=email.policy.default)
    assert "niveau habituel" in resolved.get_body(preferencelist=("plain",)).get_content()


def test_quiet_hours_hold_alerts_for_a_morning_summary(crisis_month, smtp_outbox, monkeypatch) -> None:
    settings = crisis_month
    _use_smtp(settings, monkeypatch, smtp_outbox.port)
    settings.alerts.timezone = "UTC"
    settings.alerts.quiet_hours_start, settings.alerts.quiet_hours_end = 12, 20
    now = datetime(2026, 10, 20, 13, tzinfo=UTC)
    while now < datetime(2026, 10, 20, 20, tzinfo=UTC):
        run_criticism_watch(settings, now=now)
        now += timedelta(hours=1)
    assert smtp_outbox.messages() == []
    [held] = _stored(settings)
    assert held["held_for_morning"] and held["email_sent_at"] is None
    run_criticism_watch(settings, now=now)  # 20:00: quiet hours over
    [subject] = _subjects(smtp_outbox)
    assert "Résumé du matin" in subject
