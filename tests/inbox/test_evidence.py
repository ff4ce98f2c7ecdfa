"""Why a mention is flagged, shown to the community manager: the evidence of the labeller (category, score,
the words matched) on the moderation card and in the thread, escaped, at desktop and phone widths.
Screenshots: tests/artifacts/inbox-evidence-*.png."""

from __future__ import annotations

from inbox.app import create_app
from tests.ecoute.views.synthetic import index_mentions
from tests.inbox.conftest import FB_THREAT, LiveServer, inbox_settings_for, seed_docs, shot
from tests.inbox.test_browser import TIMEOUT_MS, log_in

SPAN = 'je sais ou elle se gare <img src=x onerror="alert(1)">'


def test_evidence_on_the_card_and_in_the_thread(browser, settings, platforms) -> None:
    from tests.inbox.conftest import add_user

    seeded = inbox_settings_for(settings)
    docs = seed_docs()
    for doc in docs:
        if doc["id"] == FB_THREAT:
            doc["toxic_categories"] = ["threat"]
            doc["toxic_evidence"] = [{"category": "threat", "score": 0.93, "rule": "threat:implicit", "span": SPAN}]
    index_mentions(seeded, docs)
    add_user(seeded, "claire", "moderator")
    with LiveServer(create_app(seeded, platforms.connector_settings())) as server:
        for width, name in ((1280, "desktop"), (390, "phone")):
            context = browser.new_context(viewport={"width": width, "height": 860}, locale="fr-FR")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            log_in(page, server.url, "claire")
            page.goto(f"{server.url}/queues/moderate")
            card = page.locator(f'article[data-id="{FB_THREAT}"]')
            assert page.locator("article.item").first.get_attribute("data-id") == FB_THREAT  # the threat first
            why = card.locator("p.why")
            assert why.is_visible()
            assert why.inner_text().startswith("Pourquoi : menace 0.93 « je sais ou elle se gare <img")
            assert card.locator("img").count() == 0  # the span is text, never markup
            box = why.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width  # no overflow on a phone
            shot(page, f"evidence-queue-{name}")
            page.goto(f"{server.url}/threads/{FB_THREAT}")
            assert page.locator(".card.focus p.why").inner_text().startswith("Pourquoi : menace 0.93")
            shot(page, f"evidence-thread-{name}")
            context.close()
