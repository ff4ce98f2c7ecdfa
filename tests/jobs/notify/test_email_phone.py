"""Emails read on a phone: a viewport, a fluid width, nothing wider than 390 px (Chromium), and the
alert's counts under one definition (voices; the messages and repeats said beside them)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from ecoute.settings import Settings
from inbox.display import Display
from inbox.routes.team import send_forward
from jobs.alerts import alert_email
from jobs.notify import TEMPLATES, smtp_connection_uri
from tests.inbox.conftest import ARTIFACTS, browser  # noqa: F401 (the Chromium fixture)

ALERT = {
    "id": "overall|2026-10-17T11:00:00Z",
    "scope": "overall",
    "channel": None,
    "severity": "high",
    "observed": 39.0,
    "expected": 9.0,
    "ratio": 4.3,
    "window_minutes": 120,
    "bucket_minutes": 60,
    "episode_start": "2026-10-17T11:00:00Z",
    "messages": 42,
    "distinct_authors": 42,
    "repeat_share": 0.07,
    "breakdown": [
        {"channel": "facebook:maison-aurore", "share": 0.69},
        {"channel": "instagram:maisonaurore", "share": 0.31},
    ],
    "explanation": {"yesterday": 15.0, "last_week": 9.0, "usual_peak": 1.5, "score": 2.6, "mostly_repeats": False},
}
POST = {
    "text": "Suivi ColiRapide : livré à 08h12. Chez moi : rien... " * 3,
    "url": "https://www.facebook.com/x",
    "channel": "facebook:maison-aurore",
    "created_at": "2026-10-17T09:01:00Z",
    "metrics": {"likes": 168},
}


def _phone_width(browser, html: str, name: str) -> int:  # noqa: F811
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.set_content(html)
    width = page.evaluate("document.documentElement.scrollWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"email-{name}-phone.png"), full_page=True)
    page.close()
    return width


def test_the_alert_email_renders_at_phone_width(tmp_path, browser) -> None:  # noqa: F811
    settings = Settings(state_dir=tmp_path, alerts={"language": "fr"})
    alert = alert_email(settings, [ALERT], None, [POST], datetime(2026, 10, 17, 13, tzinfo=UTC))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in alert.html
    assert _phone_width(browser, alert.html, "alert") <= 390  # was 980 wide: no viewport, a 640 px table


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_alert_counts_voices_once_and_says_so(tmp_path, language: str) -> None:
    settings = Settings(state_dir=tmp_path, alerts={"language": language})
    alert = alert_email(settings, [ALERT], None, [POST], datetime(2026, 10, 17, 13, tzinfo=UTC))
    for part in (alert.html, alert.text):
        if language == "fr":  # was "39" next to "42 messages critiques" with nothing to relate them
            assert "39 voix distinctes" in part and "dont 3 répétant un auteur ou un texte déjà compté" in part
        else:
            assert "39 distinct voices" in part and "3 of them repeating an author or a text" in part


def test_the_digest_layout_is_fluid() -> None:
    template = (TEMPLATES / "digest.html.j2").read_text(encoding="utf-8")
    assert 'name="viewport"' in template and 'width="640"' not in template and "max-width:640px" in template


def test_the_forward_email_renders_at_phone_width(tmp_path, browser, smtp_outbox, monkeypatch) -> None:  # noqa: F811
    settings = Settings(state_dir=tmp_path, smtp={"host": smtp_outbox.host, "port": smtp_outbox.port})
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(settings))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    focus = {
        "id": "facebook:c1",
        "author_id": "a_0123456789abcdef01234567",
        "author": "a_0123456789abcdef01234567",
        "channel": "facebook:maison-aurore",
        "source": "facebook",
        "text": "Où est ma commande " * 20,
        "created_at": "2026-10-17T09:01:00Z",
        "is_brand": False,
    }
    data = {"focus": focus, "items": [focus], "nearby": [focus], "post": None, "parent": None}
    links = {
        "answer": "https://inbox.example.com/forwards/x?k=y",
        "thread": "https://inbox.example.com/threads/facebook:c1",
    }
    send_forward(settings, Display(settings, "fr"), data, "claire", "marie@example.com", "On rembourse ?", links)
    [eml] = smtp_outbox.messages()
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert message["To"] == "marie@example.com" and "a_0123456789" not in html + text
    assert "11:01" in html and "09:01" not in html  # Paris time (UTC+2 in October)
    assert links["answer"] in text and "On rembourse ?" in html
    assert _phone_width(browser, html, "forward") <= 390
