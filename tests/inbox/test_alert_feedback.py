"""The verdict links of alert emails in the inbox (inbox/routes/pages.py ``alert_feedback``): opening
a link records nothing (mail scanners open every link), its confirmation page POSTs the signed
token back, one verdict per alert and manager, changed only when asked. No login: the token is
the credential. Against noida-db, and in headless Chromium at desktop and phone widths."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from ecoute.es import bulk_write, ensure_index_mapping, make_client, scan_docs, upsert_actions
from inbox.app import create_app
from jobs.alerts.verdicts import feedback_links
from tests.inbox.conftest import LiveServer, shot

ALERT = {"id": "overall|2026-10-17T09:00:00Z", "scope": "overall", "episode_start": "2026-10-17T09:00:00Z"}


def _store_alert(settings) -> None:
    client = make_client(settings)
    ensure_index_mapping(client, settings.indices.alerts, "ecoute-alerts")
    assert not bulk_write(client, upsert_actions(settings.indices.alerts, [dict(ALERT)]), refresh="wait_for").failed


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _form(html: str) -> dict[str, str]:
    """The hidden fields of the confirmation form, as a browser would submit them."""
    return {
        name: unescape(value) for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html)
    }


def _verdicts(settings) -> list[dict]:
    client = make_client(settings)
    if not client.indices.exists(index=settings.indices.alert_feedback):
        return []
    return list(scan_docs(client, settings.indices.alert_feedback))


def _alert(settings) -> dict:
    return make_client(settings).get(index=settings.indices.alerts, id=ALERT["id"])["_source"]


def test_a_get_changes_nothing_and_the_confirmation_records_one_verdict_per_manager(inbox_settings) -> None:
    _store_alert(inbox_settings)
    client = TestClient(create_app(inbox_settings))
    assert client.get("/alerts/feedback", params={"t": "whatever"}).status_code == 400  # forged: 400, never 500
    links = feedback_links(inbox_settings, ALERT, "claire@example.com")
    # A mail scanner fetches both links: nothing is written.
    for url in links.values():
        assert client.get(_path(url)).status_code == 200
    assert _verdicts(inbox_settings) == [] and "verdict" not in _alert(inbox_settings)
    # The manager follows "not useful" and confirms.
    page = client.get(_path(links["not_useful"]))
    # 09:00 UTC, shown in the inbox's time zone like every time it shows (Paris by default).
    assert "17/10/2026 11:00 (heure de Paris)" in page.text and 'method="post"' in page.text
    done = TestClient(create_app(inbox_settings)).post("/alerts/feedback", data=_form(page.text))  # no session needed
    assert done.status_code == 200 and "« pas utile »" in done.text  # the inbox speaks French by default
    [stored] = _verdicts(inbox_settings)
    assert (stored["alert_id"], stored["manager"], stored["verdict"]) == (
        ALERT["id"],
        "claire@example.com",
        "not_useful",
    )
    assert _alert(inbox_settings)["verdict"] == "not_useful"
    # The same verdict again changes nothing; the other link asks before changing it.
    assert client.post("/alerts/feedback", data=_form(page.text)).status_code == 200
    other = client.get(_path(links["useful"]))
    assert 'name="change" value="1"' in other.text
    assert client.post("/alerts/feedback", data={"t": _form(other.text)["t"]}).status_code == 409  # not asked for
    assert [v["verdict"] for v in _verdicts(inbox_settings)] == ["not_useful"]
    assert client.post("/alerts/feedback", data=_form(other.text)).status_code == 200
    [stored] = _verdicts(inbox_settings)
    assert stored["verdict"] == "useful" and stored["previous_verdict"] == "not_useful"
    # A second manager has their own verdict; the alert carries both (ties: useful).
    second = client.get(_path(feedback_links(inbox_settings, ALERT, "mo@example.com")["not_useful"]))
    assert client.post("/alerts/feedback", data=_form(second.text)).status_code == 200
    alert = _alert(inbox_settings)
    assert (alert["useful_votes"], alert["not_useful_votes"], alert["verdict"]) == (1, 1, "useful")
    # A GET cannot write even with the form's fields in the query.
    assert client.get("/alerts/feedback", params={**_form(second.text), "change": "1"}).status_code == 200
    assert len(_verdicts(inbox_settings)) == 2


def test_a_manager_confirms_from_the_email_link_in_a_browser(inbox_settings, browser) -> None:
    _store_alert(inbox_settings)
    links = feedback_links(inbox_settings, ALERT, "claire@example.com")
    with LiveServer(create_app(inbox_settings)) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server.url + _path(links["useful"]))
        shot(page, "alert-verdict-confirm-desktop")
        assert _verdicts(inbox_settings) == []  # opening the link wrote nothing
        page.get_by_role("button").click()
        page.wait_for_load_state()
        assert "« utile »" in page.inner_text("main")
        shot(page, "alert-verdict-done-desktop")
        page.close()
        # Later, on a phone, the other link: the page says what was judged and asks before changing it.
        page = browser.new_page(viewport={"width": 390, "height": 800})
        page.goto(server.url + _path(links["not_useful"]))
        assert "« pas utile »" in page.get_by_role("button").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        shot(page, "alert-verdict-change-phone")
        page.close()
    [stored] = _verdicts(inbox_settings)
    assert stored["verdict"] == "useful" and stored["manager"] == "claire@example.com"
