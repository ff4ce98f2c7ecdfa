"""The team digest on noida-db: figures vs the previous period, escaped text, sent through SMTP."""

from __future__ import annotations

import email
import email.policy
from datetime import date

from jobs.reporting.digest import run_digest, summarise
from jobs.reporting.rollups import compute_daily_rollups
from tests.jobs.alerts.data import index_mentions, month_with_crisis
from tests.jobs.alerts.screenshots import screenshot_email


def test_daily_and_weekly_digest(settings, smtp_outbox, monkeypatch) -> None:
    from jobs.notify import smtp_connection_uri

    settings.smtp.port = smtp_outbox.port
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(settings))
    docs = month_with_crisis(days=21)
    index_mentions(settings, docs)
    compute_daily_rollups(settings, date(2026, 10, 7), date(2026, 10, 20))

    result = run_digest(settings, date(2026, 10, 20))
    assert result["subject"] == "[Écoute] Bilan du 2026-10-20" and result["sent"]
    [path] = smtp_outbox.messages()
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    day_docs = [d for d in docs if d["created_at"].startswith("2026-10-20")]
    critical = sum(d["criticism"] for d in day_docs)
    assert f"Critiques: {critical} " in text  # the crisis day's criticism, vs the day before
    assert "Bilan quotidien" in html and 'src="cid:chart"' in html
    assert "&lt;b&gt;honteux&lt;/b&gt;" in html and "<b>honteux" not in html
    assert "Critiques sans réponse depuis plus de 24 h" in html
    assert any(p.get_content_type() == "image/png" for p in message.walk())
    screenshot_email(result["preview"], "digest-daily")

    weekly = run_digest(settings, date(2026, 10, 18), period="weekly", send_email=False)
    assert weekly["subject"] == "[Écoute] Bilan de la semaine du 2026-10-12" and not weekly["sent"]
    assert len(smtp_outbox.messages()) == 1


def test_digest_counts_questions_and_how_fast_the_brand_answered_them() -> None:
    def item(question: bool, answered_after_min: int | None) -> dict:
        answered = answered_after_min is not None
        return {
            "kind": "comment",
            "created_at": "2026-10-20T10:00:00Z",
            "question": question,
            "sentiment": "neutral",
            "answered_by_brand": answered,
            "brand_answered_at": f"2026-10-20T{10 + answered_after_min // 60:02d}:{answered_after_min % 60:02d}:00Z"
            if answered
            else None,
        }

    figures = summarise([item(True, 30), item(True, 90), item(True, None), item(False, 5)])
    assert figures["questions"] == 3
    assert figures["question_response_rate"] == 2 / 3
    assert figures["median_question_response_minutes"] == 60
    assert figures["median_response_minutes"] == 30  # every answered item: 5, 30 and 90 minutes
