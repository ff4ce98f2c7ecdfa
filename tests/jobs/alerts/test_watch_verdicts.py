"""Managers' verdicts reach the watch (jobs/alerts/watch.py → verdicts.page_verdicts → the detector),
on noida-db: two alike crises nine days apart; without a verdict the first is one of the page's
ordinary days and hides the second (the budget), judged useful it does not."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime
from urllib.parse import unquote

import pytest

from jobs.alerts import replay_criticism_watch
from jobs.alerts.verdicts import record_verdict, sign_token, verify_token
from jobs.notify import smtp_connection_uri
from tests.jobs.alerts.data import index_mentions, month_with_crisis

MIDDLE = datetime(2026, 10, 20, tzinfo=UTC)


def two_crises() -> list[dict]:
    docs = month_with_crisis(days=40, crisis_day=date(2026, 10, 15))
    second = month_with_crisis(first_day=date(2026, 10, 24), days=1, crisis_day=date(2026, 10, 24), seed=8)
    # Only the second crisis' own mentions (the calm ones of that day are already there).
    extra = [d for d in second if d["metrics"]["likes"] >= 20]
    for d in extra:
        d["id"] = d["id"] + "-b"
        d["author"]["id"] = d["author"]["id"] + "-b"
    return docs + extra


@pytest.mark.parametrize("judged", [False, True])
def test_a_useful_verdict_lets_the_next_alike_crisis_through(settings, judged: bool) -> None:
    settings.alerts.quiet_hours_start = settings.alerts.quiet_hours_end = None
    index_mentions(settings, two_crises())
    [first] = replay_criticism_watch(settings, datetime(2026, 10, 1, tzinfo=UTC), MIDDLE, send_email=False)
    assert first["episode_start"].startswith("2026-10-15")
    if judged:
        record_verdict(settings, sign_token(settings, first, "useful", "claire@example.com"))
    later = replay_criticism_watch(settings, MIDDLE, datetime(2026, 11, 9, tzinfo=UTC), send_email=False)
    assert [a["episode_start"][:10] for a in later] == (["2026-10-24"] if judged else [])


def test_each_recipient_gets_an_email_with_links_signed_for_them(settings, smtp_outbox, monkeypatch) -> None:
    settings.smtp.port = smtp_outbox.port
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(settings))
    settings.alerts.recipients = ["claire@example.com", "mo@example.com"]
    index_mentions(settings, month_with_crisis())
    [alert] = replay_criticism_watch(settings, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert alert["email_recipients"] == settings.alerts.recipients
    signed_for = {}
    for path in smtp_outbox.messages():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()
        token = unquote(text.split("/alerts/feedback?t=")[1].split()[0])
        signed_for[message["To"]] = verify_token(settings, token)["r"]
    assert signed_for == {"claire@example.com": "claire@example.com", "mo@example.com": "mo@example.com"}
