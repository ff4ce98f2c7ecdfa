"""Threats emailed to the moderators at once (jobs/notify/threats.py), each one once, on noida-db + aiosmtpd;
and the queues' promise: a flagged threat tops the moderation queue and is never in the answer queue."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

from ecoute.es import make_client
from ecoute.views.queues import answer_queue, moderate_queue
from jobs.notify.threats import notify_threats
from tests.jobs.alerts.data import index_mentions, mention

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
EVIDENCE = [{"category": "threat", "score": 0.93, "rule": "threat:implicit", "span": "je sais ou elle se gare"}]


def _docs() -> list[dict]:
    def labelled(n: int, minutes: int, text: str, **labels) -> dict:
        doc = mention(n, NOW - timedelta(minutes=minutes), text=text)
        doc.update({"toxic": False, "toxic_score": 0.0, "toxic_categories": [], "toxic_evidence": []})
        doc.update(labels)
        return doc

    threat = {"toxic": True, "toxic_score": 0.93, "toxic_categories": ["threat"], "toxic_evidence": EVIDENCE}
    insult = {
        "toxic": True,
        "toxic_score": 0.88,
        "toxic_categories": ["insult"],
        "toxic_evidence": [{"category": "insult", "score": 0.88, "rule": "rules", "span": "connard"}],
    }
    review = {"toxic": False, "toxic_score": 0.4, "toxic_categories": ["hate", "threat"]}
    return [
        # labelled criticism too (the heads' answer before the override): must still stay out of answers
        labelled(1, 50, "La vendeuse va le regretter, <b>je sais où elle se gare</b>.", criticism=True, **threat),
        labelled(2, 5, "Espèce de connard", **insult),  # newer than the threat: must still come after it
        labelled(3, 1, "« on va te retrouver » : il a écrit ça, c'est ignoble", **review),
        labelled(4, 30, "Déjà traité : je sais où tu habites", handled=True, **threat),
        labelled(5, 3 * 24 * 60, "Vieille menace : tu vas le regretter", **threat),
        labelled(6, 20, "Toujours pas livré, c'est inadmissible", criticism=True),
    ]


def test_threats_are_emailed_once_with_their_evidence(settings, smtp_outbox, monkeypatch) -> None:
    from jobs.notify import smtp_connection_uri

    settings.smtp.port = smtp_outbox.port
    settings.moderation.recipients = ["moderation@example.com"]
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(settings))
    index_mentions(settings, _docs())

    assert notify_threats(settings, now=NOW, send=False)["ids"] == ["facebook:1"]  # a dry run stamps nothing
    result = notify_threats(settings, now=NOW)
    assert result == {"threats": 1, "sent": True, "ids": ["facebook:1"]}
    [path] = smtp_outbox.messages()
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "moderation@example.com" and "Menace" in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "&lt;b&gt;je sais où elle se gare&lt;/b&gt;" in html and "<b>je sais" not in html  # escaped
    assert "« je sais ou elle se gare »" in html and '"je sais ou elle se gare"' in text  # the evidence
    assert "/threads/facebook:1" in text

    # the next run sends nothing: the threat was stamped
    assert notify_threats(settings, now=NOW + timedelta(minutes=5))["threats"] == 0
    assert len(smtp_outbox.messages()) == 1
    doc = make_client(settings).search(index=settings.indices.mentions, query={"ids": {"values": ["facebook:1"]}})
    assert doc["hits"]["hits"][0]["_source"]["threat_notified_at"] == "2026-10-20T12:00:00Z"


def test_failed_email_stamps_nothing_and_the_setting_turns_it_off(settings) -> None:
    import pytest

    settings.smtp.port = 1  # nothing listens: the send fails
    index_mentions(settings, _docs())
    with pytest.raises(Exception):  # noqa: B017 - Airflow's hook raises its own kinds
        notify_threats(settings, now=NOW)
    assert notify_threats(settings, now=NOW, send=False)["ids"] == ["facebook:1"]  # still pending
    settings.moderation.notify_threats = False
    assert notify_threats(settings, now=NOW) == {"threats": 0, "sent": False, "ids": []}


def test_a_threat_tops_moderation_and_never_waits_in_the_answer_queue(settings) -> None:
    index_mentions(settings, _docs())
    client = make_client(settings)
    rows = moderate_queue(settings, client=client)
    assert [r["id"] for r in rows] == ["facebook:1", "facebook:5", "facebook:2", "facebook:3"]  # threats, newest first
    assert rows[0]["evidence"] == EVIDENCE and rows[3]["review"]
    assert [r["id"] for r in answer_queue(settings, client=client)] == ["facebook:6"]
