"""Alert emails render in French and English, escape user text and drop unsafe links (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape
from urllib.parse import unquote

import pytest

from ecoute.settings import Settings
from jobs.alerts import alert_email
from jobs.alerts.verdicts import verify_token
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


EXPLAINED = {
    **ALERT,
    "messages": 40,
    "distinct_authors": 12,
    "repeat_share": 0.7,
    "explanation": {"yesterday": 6.0, "last_week": 4.0, "usual_peak": 2.1, "score": 3.4, "mostly_repeats": True},
}


def test_alert_email_explains_voices_yesterday_last_week_and_carries_feedback_links(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path, alerts={"language": "fr"})
    email = alert_email(settings, [EXPLAINED], None, [POST], datetime(2026, 10, 20, 16, tzinfo=UTC))
    for part in (email.html, email.text):
        assert "40 messages critiques de 12 auteurs distincts" in part
        assert "Hier à la même heure" in part and "La semaine dernière à la même heure" in part
        assert "surtout faite de répétitions : 70 %" in part
        assert "indice 3.4 contre 2.1 au plus" in part
        assert part.count("/alerts/feedback?t=") == 2
    english = alert_email(
        Settings(state_dir=tmp_path, alerts={"language": "en"}),
        [EXPLAINED],
        None,
        [],
        datetime(2026, 10, 20, 16, tzinfo=UTC),
    )
    assert "40 critical messages from 12 distinct authors" in english.text and "mostly repeats" in english.text


def test_resolved_email_is_short_and_says_it_is_over(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path, alerts={"language": "en"})
    ended = {**EXPLAINED, "ended_at": "2026-10-20T19:00:00Z", "peak_ratio": 7.5}
    email = alert_email(settings, [ended], None, [], datetime(2026, 10, 20, 20, tzinfo=UTC), kind="resolved")
    assert (
        "over" in email.subject
        and "back to its usual level at 2026-10-20 19:00 UTC (4.0 h episode, up to × 7.5)" in email.text
    )
    assert "/alerts/feedback" not in email.html and "Critical mentions" not in email.text


@pytest.mark.parametrize(
    ("language", "fired", "words"),
    [
        (
            "fr",
            "sustained",
            [
                "Ce qui a déclenché l'alerte",
                "une hausse qui dure",
                "indice 3.1, seuil 2.6",
                "aujourd'hui × 4.0",
                "aujourd'hui × 6.0",
                "Gravité",
                "fort",
            ],
        ),
        ("en", "burst", ["What fired the alert", "a sharp rise", "today × 4.0", "today × 6.0", "high"]),
    ],
)
def test_alert_email_says_what_fired_compares_with_yesterday_and_last_week_in_the_readers_language(
    tmp_path, language: str, fired: str, words: list[str]
) -> None:
    why = {**EXPLAINED["explanation"], "fired_on": fired, "sustained_ratio": 3.1, "sustained_threshold": 2.6}
    alert = {**EXPLAINED, "observed": 24.0, "severity": "high", "explanation": why}
    settings = Settings(
        state_dir=tmp_path, alerts={"language": language, "recipients": ["a@example.com", "b@example.com"]}
    )
    email = alert_email(settings, [alert], None, [], datetime(2026, 10, 20, 16, tzinfo=UTC), recipient="b@example.com")
    for part in (unescape(email.html), email.text):
        for word in words:
            assert word in part, (word, part)
    # Each recipient gets their own email, its verdict links signed for them.
    assert email.recipients == ["b@example.com"]
    token = unquote(email.text.split("/alerts/feedback?t=")[1].split()[0])
    assert verify_token(settings, token)["r"] == "b@example.com"
