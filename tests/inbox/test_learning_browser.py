"""The "Aidez Écoute à apprendre" page in headless Chromium: five one-click labels, each counted, each
in the feedback index; the page at desktop width and on a 390 px phone (tests/artifacts/inbox-learn-*.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.app import create_app
from tests.inbox.conftest import LiveServer, shot
from tests.inbox.test_browser import TIMEOUT_MS, log_in
from tests.inbox.test_learning import labels


@pytest.fixture
def app(inbox_settings, users, platforms, tmp_path, monkeypatch):
    monkeypatch.setenv("ECOUTE_LABELLER_DIR", str(tmp_path / "labeller"))
    return create_app(inbox_settings, platforms.connector_settings())


def test_five_labels_in_the_learning_view_are_counted(browser, app, inbox_settings) -> None:
    with LiveServer(app) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        context.set_default_timeout(TIMEOUT_MS * 4)  # the first visit loads the labeller
        page = context.new_page()
        log_in(page, server.url, "mo")
        page.click("a[data-nav=learn]")
        page.wait_for_url("**/learn")
        expect(page.locator("h1")).to_contain_text("Aidez Écoute à apprendre")
        expect(page.locator("[data-labels-total]")).to_have_text("0")
        items = page.locator("article.item")
        assert items.count() >= 5
        ids = [items.nth(k).get_attribute("data-id") for k in range(5)]
        shot(page, "learn")
        clicks = ["sentiment-negative", "criticism-true", "toxic-false", "sentiment-positive", "criticism-false"]
        for done, (mention_id, click) in enumerate(zip(ids, clicks, strict=True), start=1):
            page.click(f'article[data-id="{mention_id}"] button[data-teach="{click}"]')
            expect(page.locator("[data-labels-total]")).to_have_text(str(done))
            expect(page.locator(f'article[data-id="{mention_id}"] button[data-teach="{click}"]')).to_have_attribute(
                "aria-pressed", "true"
            )
        expect(page.locator("[data-learn-answered]")).to_contain_text("5/")
        expect(page.locator(".flash.ok").first).to_contain_text("libellé enregistré")
        shot(page, "learn-answered")
        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR", is_mobile=True)
        phone.set_default_timeout(TIMEOUT_MS)
        mobile = phone.new_page()
        log_in(mobile, server.url, "mo")
        mobile.goto(f"{server.url}/learn")
        expect(mobile.locator("[data-labels-total]")).to_have_text("5")
        # the questions fit the phone (the shared header is the inbox layout's, restyled elsewhere)
        widest = mobile.evaluate(
            "Math.max(...[...document.querySelectorAll('section.list article')].map(a => a.getBoundingClientRect().right))"
        )
        assert widest <= 390 + 1, widest
        shot(mobile, "learn-phone")
    given = {mention_id: labels(inbox_settings, mention_id) for mention_id in ids}
    assert all(len(docs) == 1 and docs[0]["source"] == "inbox-learning" for docs in given.values()), given
    assert given[ids[0]][0]["labels"] == {"sentiment": "negative"} and given[ids[2]][0]["labels"] == {"toxic": False}
