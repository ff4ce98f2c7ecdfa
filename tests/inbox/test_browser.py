"""The inbox driven in a real headless browser (Debian Chromium via Playwright), against noida-db and the
recorded-shape platform servers: log in, each queue, a thread, reply, hide, undo, a label correction,
a rule's dry run. Screenshots go to tests/artifacts/inbox-*.png."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ecoute.feedback import iter_corrections
from inbox.app import create_app
from inbox.store import Store
from tests.inbox.conftest import FB_CRITIC, FB_THREAT, IG_COMMENT, PASSWORD, LiveServer, shot

TIMEOUT_MS = 15_000


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/queues/answer")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/queues/answer")


def test_a_day_in_the_inbox(browser, inbox_settings, users, platforms) -> None:
    fb_critic, fb_threat = FB_CRITIC.split(":", 1)[1], FB_THREAT.split(":", 1)[1]
    platforms.add("POST", f"/v21.0/{fb_critic}/comments", "facebook/reply.json")
    platforms.add("POST", f"/v21.0/{fb_threat}", "facebook/success.json")
    store = Store(inbox_settings)
    store.put(
        inbox_settings.indices.inbox_replies,
        "fr:merci",
        {
            "id": "fr:merci",
            "title": "Merci + suivi",
            "lang": "fr",
            "created_by": "claire",
            "created_at": "2026-10-01T00:00:00Z",
            "text": "Bonjour {author}, merci pour cette idée : nous la transmettons à l'équipe livraison.",
        },
    )
    with LiveServer(create_app(inbox_settings, platforms.connector_settings())) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="fr-FR")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"{server.url}/login")
        shot(page, "login")
        log_in(page, server.url, "claire")

        # The three queues.
        assert page.locator("article.item").first.get_attribute("data-id") == FB_CRITIC
        shot(page, "queue-answer")
        page.click("a[data-queue=moderate]")
        page.wait_for_url("**/queues/moderate")
        assert page.locator(f'article[data-id="{FB_THREAT}"]').count() == 1
        shot(page, "queue-moderate")
        page.click("a[data-queue=welcome]")
        page.wait_for_url("**/queues/welcome")
        assert page.locator('article[data-id="facebook:811111111111111_900000000000007"]').count() == 1
        shot(page, "queue-welcome")
        page.click("summary[data-action=more-filters]")
        page.select_option("select[name=source]", "facebook")
        page.click("form.filters button")
        page.wait_for_url("**source=facebook**")

        # A thread, and a reply from a saved reply.
        page.goto(f"{server.url}/queues/answer")
        page.locator(f'article[data-id="{FB_CRITIC}"] a[data-action=open-thread]').click()
        page.wait_for_url(f"**/threads/{FB_CRITIC}")
        assert page.locator("svg.mood rect.tox").count() > 0
        shot(page, "thread")
        page.click(".card.focus summary[data-action=open-reply]")
        page.select_option(".card.focus select[name=saved]", "fr:merci")
        # A locator assertion, not a page-evaluated string: the inbox's CSP forbids eval (script-src 'self').
        expect(page.locator(".card.focus textarea")).to_have_value(
            re.compile(r"Bonjour \[prénom\], merci pour cette idée")
        )
        page.click(".card.focus button[data-action=send-reply]")  # the blank for the name is not filled in
        expect(page.locator(".flash.error")).to_contain_text("Remplacez [prénom]")
        assert platforms.calls_to("POST", f"/v21.0/{fb_critic}/comments") == []
        page.click(".card.focus summary[data-action=open-reply]")
        page.select_option(".card.focus select[name=saved]", "fr:merci")
        expect(page.locator(".card.focus textarea")).to_have_value(re.compile(r"\[prénom\]"))
        text = page.locator(".card.focus textarea").input_value().replace("[prénom]", "Anna")
        page.fill(".card.focus textarea", text)
        page.click(".card.focus button[data-action=send-reply]")
        page.wait_for_selector(".flash.ok")
        sent = platforms.calls_to("POST", f"/v21.0/{fb_critic}/comments")
        assert len(sent) == 1 and sent[0].form["message"].startswith("Bonjour Anna, merci pour cette idée")
        shot(page, "replied")

        # Hide from the moderation queue, then undo.
        page.goto(f"{server.url}/queues/moderate")
        page.locator(f'article[data-id="{FB_THREAT}"] button[data-action=hide]').click()
        page.wait_for_selector(".flash.ok button[data-undo]")
        assert page.locator(f'article[data-id="{FB_THREAT}"]').count() == 0  # handled: out of the queue
        shot(page, "hidden")
        page.click(".flash.ok button[data-undo]")
        page.wait_for_selector(f'article[data-id="{FB_THREAT}"]')
        assert [c.form["is_hidden"] for c in platforms.calls_to("POST", f"/v21.0/{fb_threat}")] == ["true", "false"]
        assert page.locator(f'article[data-id="{FB_THREAT}"]').count() == 1  # back in the queue

        # One-click label correction.
        page.goto(f"{server.url}/threads/{FB_THREAT}")
        page.click("button[data-label=toxic-false]")
        page.wait_for_selector(".flash.ok")
        corrections = list(iter_corrections(inbox_settings))
        labels = [(c["mention_id"], c["labels"]) for c in corrections]
        # the correction, beside what the actions taught (the reply, the hide and its undo)
        assert labels.count((FB_THREAT, {"toxic": False})) >= 1 and (FB_CRITIC, {"needs_answer": True}) in labels
        assert {m for m, _ in labels} == {FB_THREAT, FB_CRITIC}
        assert page.locator(".hist[data-status=undone]").count() == 1  # the history shows the undone hide
        shot(page, "thread-history")

        # A rule, and its dry run on the last 30 days.
        page.goto(f"{server.url}/rules")
        page.fill("form.form input[name=name]", "Arnaques")
        page.fill("form.form input[name=keywords]", "escrocs, voleurs")
        page.check("form.form input[name=actions][value=hide]")
        page.click("form.form button.primary")
        # A new rule starts disabled and opens on its dry run; it acts once enabled from there.
        page.wait_for_selector("[data-dry-run]")
        assert page.locator("[data-dry-matched]").get_attribute("data-dry-matched") == "2"
        assert page.locator("tr[data-rule]").get_attribute("data-enabled") == "false"
        shot(page, "rule-dry-run")
        page.reload()  # reloading a dry run shows it again (it was a raw "Method Not Allowed")
        assert page.locator("[data-dry-matched]").get_attribute("data-dry-matched") == "2"
        page.click("[data-confirm-rule] button[data-action=enable]")
        page.wait_for_selector("tr[data-rule][data-enabled=true]")
        # Delete asks first (htmx confirm), then goes to the platform.
        platforms.add("DELETE", f"/v21.0/{IG_COMMENT.split(':', 1)[1]}", "instagram/success.json")
        page.goto(f"{server.url}/threads/{IG_COMMENT}")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button[data-action=delete]")
        page.wait_for_selector(".flash.ok")
        assert len(platforms.calls_to("DELETE", f"/v21.0/{IG_COMMENT.split(':', 1)[1]}")) == 1

        page.goto(f"{server.url}/stats")
        shot(page, "stats")
        page.goto(f"{server.url}/activity?lang=en")
        assert page.locator("text=Audit log").count() >= 1
        shot(page, "activity-en")
        context.close()

        # A viewer sees the queues but no action.
        viewer = browser.new_context(viewport={"width": 1280, "height": 800})
        viewer.set_default_timeout(TIMEOUT_MS)
        page = viewer.new_page()
        log_in(page, server.url, "vic")
        page.goto(f"{server.url}/threads/{FB_THREAT}")
        assert page.locator("button[data-action=hide]").count() == 0
        assert page.locator("button[data-label]").count() == 0
        viewer.close()
    assert len(platforms.calls) == 4  # reply, hide, unhide, delete: nothing else reached a platform
