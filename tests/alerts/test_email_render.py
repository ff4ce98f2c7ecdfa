"""Alert emails render in French and English, escape user text and drop unsafe links (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecoute.settings import Settings
from jobs.alerts import alert_email
from jobs.notify import build_message

ALERT = {
    "id": "overall|2026-10-20T15:00:00Z",
    "scope": "overall",
    "channel": None,
    "severity": "high",
    "observed": 24.0,
    "expected": 5.2,
    "ratio": 4.6,
    "window_minutes": 120,
    "bucket_minutes": 60,
    "episode_start": "2026-10-20T15:00:00Z",
    "breakdown": [{"channel": "facebook:maison-aurore", "share": 0.8}, {"channel": "<i>x</i>", "share": 0.2}],
}
POST = {
    "text": '<script>alert("x")</script> Livraison "jamais" arrivée & rien',
    "url": "javascript:alert(1)",
    "channel": "facebook:<b>page</b>",
    "created_at": "2026-10-20T15:10:00Z",
    "metrics": {"likes": 12},
}


@pytest.mark.parametrize(("language", "words"), [("fr", "Pic de critiques"), ("en", "Criticism spike")])
def test_alert_email_languages_and_escaping(tmp_path, language: str, words: str) -> None:
    settings = Settings(state_dir=tmp_path, alerts={"language": language, "recipients": ["a@example.com"]})
    email = alert_email(settings, [ALERT], None, [POST], datetime(2026, 10, 20, 16, tzinfo=UTC))
    assert words.lower() in email.subject.lower() and words.lower() in email.html.lower()
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "&lt;b&gt;page&lt;/b&gt;" in email.html
    assert "facebook:maison-aurore 80 %" in email.html and "&lt;i&gt;x&lt;/i&gt; 20 %" in email.html
    assert "facebook:maison-aurore 80 %" in email.text
    assert "javascript:" not in email.html  # only http(s) links are kept
    assert '<script>alert("x")</script>' in email.text  # plain text stays plain
    message = build_message(settings, email)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
