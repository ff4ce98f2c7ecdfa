"""What the community manager reads, in a real browser (Chromium), desktop and a 390 px phone: every
page in French without raw ids or English (authors, pages, topics, languages, rule conditions,
errors, the Journal), times in Paris time, French numbers and dates, the interface language apart
from the comment-language filter, rules and saved replies edited and deleted, and phone layouts
that never scroll sideways. Screenshots go to tests/artifacts/inbox-*.png."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from ecoute.events import pseudonymise
from inbox.app import create_app
from inbox.display import taxonomy
from inbox.store import Store
from tests.ecoute.views.synthetic import index_mentions, mention
from tests.inbox.conftest import FB_CRITIC, FB_THREAT, IG_COMMENT, PASSWORD, LiveServer, shot

TIMEOUT_MS = 15_000
RAW_ID = re.compile(r"a_[0-9a-f]{8}|facebook:|instagram:|youtube:|reddit:")
TOPIC_IDS = re.compile(r"\b(" + "|".join(re.escape(t) for t in taxonomy()) + r")\b")
# Words of the English interface or of raw data that a French page must not show.
ENGLISH = re.compile(
    r"\b(und|high|medium|low|insult|threat|hate|harassment|sexual|Method Not Allowed|Not Found|detail|None|null|"
    r"true|false|system|scheduler|rule|matched|mentions from|of \d+ mentions)\b"
)
# People's own words (comments, notes, replies typed) are theirs: not part of the interface checked.
USER_TEXT = ".text, .plain, .context, blockquote, .note, textarea, .answer, [data-reply] td"
HASHED = pseudonymise("someone", "test-key")


def interface_text(page) -> str:
    return page.evaluate(
        """(selector) => { const body = document.body.cloneNode(true);
             body.querySelectorAll(selector).forEach(e => e.remove());
             return body.innerText; }""",
        USER_TEXT,
    )


def log_in(context, base: str, username: str = "claire"):
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/queues/answer")
    return page


def seed_readable_month(settings) -> str:
    """A commenter with a real-looking hashed id, and a rule, a saved reply and some history."""
    index_mentions(
        settings,
        [
            mention(
                "facebook:811111111111111_900000000000077",
                datetime(2026, 10, 17, 13, 5, tzinfo=UTC),
                author_id=HASHED,
                text="Le colis est arrivé ouvert",
                sentiment="negative",
                criticism=True,
                topics=["delivery", "product_quality"],
                lang="und",
                parent_id="facebook:p1",
                thread_id="facebook:p1",
            )
        ],
    )
    store = Store(settings)
    store.put(
        settings.indices.inbox_replies,
        "fr:merci",
        {
            "id": "fr:merci",
            "title": "Merci",
            "lang": "fr",
            "created_by": "claire",
            "created_at": "2026-10-01T00:00:00Z",
            "text": "Bonjour {author}, merci pour votre message sur {page}.",
        },
    )
    return "facebook:811111111111111_900000000000077"


def test_every_french_page_reads_without_raw_ids_or_english(browser, inbox_settings, users, platforms) -> None:
    hashed_item = seed_readable_month(inbox_settings)
    platforms.add("POST", f"/v21.0/{FB_THREAT.split(':', 1)[1]}", "facebook/success.json")
    with LiveServer(create_app(inbox_settings, platforms.connector_settings())) as server:
        base = server.url
        for width in (1280, 390):
            context = browser.new_context(
                viewport={"width": width, "height": 900}, locale="en-US"
            )  # an English browser
            context.set_default_timeout(TIMEOUT_MS)
            page = log_in(context, base)
            if width == 1280:  # some history for the Journal and the thread: an action, a correction, a rule
                page.goto(f"{base}/threads/{FB_THREAT}")
                page.click(".card.focus button[data-action=hide]")
                page.wait_for_selector(".flash.ok")
                page.click("button[data-label=constructive-true]")
                page.wait_for_selector(".flash.ok")
                page.goto(f"{base}/rules")
                page.fill("form.form input[name=name]", "Insultes en anglais")
                page.check("form.form input[name=toxic_categories][value=insult]")
                page.fill("form.form input[name=min_toxic_score]", "0,6")
                page.fill("form.form input[name=lang]", "en, und")
                page.fill("form.form input[name=channel]", "facebook:maison-aurore")
                page.check("form.form input[name=actions][value=hide]")
                page.click("form.form button.primary")
                page.wait_for_selector("[data-dry-run]")
            rule_id = Store(inbox_settings).rules()[0]["id"]
            pages = [
                "/queues/answer",
                "/queues/moderate",
                "/queues/questions",
                "/queues/welcome",
                "/learn",
                f"/threads/{FB_CRITIC}",
                f"/threads/{FB_THREAT}",
                f"/threads/{hashed_item}",
                "/stats",
                "/rules",
                f"/rules/{rule_id}/dry-run",
                f"/rules/{rule_id}/edit",
                "/replies",
                "/replies?edit=fr:merci",
                "/activity",
                "/nope",
                f"/mentions/{FB_CRITIC}/done",
                "/queues/answer?q=introuvable",
            ]
            for path in pages:
                page.goto(base + path)
                assert page.locator("html").get_attribute("lang") == "fr", path
                text = interface_text(page)
                assert not RAW_ID.search(text), (path, RAW_ID.search(text).group(0))
                assert not TOPIC_IDS.search(text), (path, TOPIC_IDS.search(text).group(0))
                assert not ENGLISH.search(text), (path, ENGLISH.search(text).group(0))
                assert '{"detail"' not in page.content(), path
                # A phone: nothing wider than the screen, every menu entry on it.
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
                if width == 390:
                    for link in page.locator("header.top nav a").all():
                        box = link.bounding_box()
                        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (path, link.inner_text())
            # What the pages say instead.
            page.goto(f"{base}/threads/{hashed_item}")
            text = interface_text(page)
            assert "langue indéterminée" in text and "Livraison" in text and "Qualité produit" in text
            assert "Maison Aurore" in text  # the brand's page by its name, also as the post's author
            page.goto(f"{base}/rules")
            rule = page.locator("tr[data-rule]").first.inner_text()
            assert "catégories : insulte" in rule and "anglais" in rule and "Maison Aurore" in rule and "0,60" in rule
            page.goto(f"{base}/nope")
            expect(page.locator(".error-page")).to_contain_text("Cette page n'existe pas")
            page.goto(f"{base}/mentions/{FB_CRITIC}/done")
            expect(page.locator(".error-page")).to_contain_text("Cette adresse ne s'ouvre pas directement")
            if width == 390:
                for path, name in (
                    ("/queues/answer", "phone-queue-answer"),
                    (f"/threads/{FB_CRITIC}", "phone-thread"),
                    ("/queues/moderate", "phone-queue-moderate"),
                    ("/stats", "phone-stats"),
                    ("/queues/questions", "phone-queue-questions"),
                    ("/learn", "phone-learn"),
                ):
                    page.goto(base + path)
                    shot(page, name)
            else:
                page.goto(f"{base}/activity")
                journal = page.locator("table.grid").inner_text()
                assert "« Je vais venir vous trouver" in journal and "Correction : constructive : non → oui" in journal
                assert "« Insultes en anglais »" in journal and "Simulation de règle" in journal
                shot(page, "journal")
            context.close()


def test_paris_time_french_numbers_and_dates(browser, inbox_settings, users, platforms) -> None:
    with LiveServer(create_app(inbox_settings, platforms.connector_settings())) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        page = log_in(context, server.url)
        # FB_CRITIC was posted 09:10 UTC on 17 October: 11:10 in Paris (summer time).
        article = page.locator(f'article[data-id="{FB_CRITIC}"]')
        expect(article.locator("time")).to_have_text("17/10/2026 11:10")
        expect(page.locator(".foot-note")).to_contain_text("heure de Paris")
        # Dates are typed and shown as jj/mm/aaaa, whatever the browser's locale.
        page.click("summary[data-action=more-filters]")
        expect(page.locator("input[name=start]")).to_have_attribute("placeholder", "jj/mm/aaaa")
        page.fill("input[name=start]", "17/10/2026")
        page.fill("input[name=end]", "17/10/2026")
        page.click("form.filters button.btn:not(.ghost)")
        page.wait_for_url("**start=17%2F10%2F2026**")
        expect(page.locator("input[name=start]")).to_have_value("17/10/2026")
        assert page.locator("article.item").count() == 4
        page.goto(f"{server.url}/stats")
        expect(page.locator("input[name=start]")).to_have_value("01/10/2026")
        share = page.locator("[data-kpi=constructive-share]").inner_text()
        assert re.fullmatch(r"\d+\u202f%", share), share  # "0 %": French spacing
        context.close()


def test_interface_language_is_apart_from_the_comment_language_filter(
    browser, inbox_settings, users, platforms
) -> None:
    with LiveServer(create_app(inbox_settings, platforms.connector_settings())) as server:
        base = server.url
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        context.set_default_timeout(TIMEOUT_MS)
        page = log_in(context, base)
        # English comments, French interface (the filter used to switch the interface and stick).
        page.goto(f"{base}/queues/answer?comment_lang=en")
        assert page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.id)") == [IG_COMMENT]
        expect(page.locator("h1")).to_contain_text("À répondre")
        expect(page.locator("select[name=comment_lang] option:checked")).to_have_text("anglais")
        page.goto(f"{base}/queues/moderate")
        expect(page.locator("h1")).to_contain_text("À modérer")
        # The interface switch keeps the filter and is remembered: other pages, the next login.
        page.goto(f"{base}/queues/answer?comment_lang=en")
        page.click("a.lang")
        page.wait_for_url("**lang=en**")
        expect(page.locator("h1")).to_contain_text("To answer")
        assert page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.id)") == [IG_COMMENT]
        expect(page.locator("select[name=comment_lang] option:checked")).to_have_text("English")
        page.goto(f"{base}/queues/answer")
        assert page.locator("article.item").count() > 1  # the filter did not stick
        expect(page.locator("h1")).to_contain_text("To answer")
        page.click("header .me button.link")  # log out
        page.wait_for_url("**/login")
        page.fill("input[name=username]", "claire")
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary")
        page.wait_for_url(f"{base}/queues/answer")
        expect(page.locator("h1")).to_contain_text("To answer")
        shot(page, "queue-answer-en")
        page.click("a.lang")
        expect(page.locator("h1")).to_contain_text("À répondre")
        context.close()


def test_rules_and_saved_replies_are_edited_and_deleted(browser, inbox_settings, users, platforms) -> None:
    seed_readable_month(inbox_settings)
    with LiveServer(create_app(inbox_settings, platforms.connector_settings())) as server:
        base = server.url
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = log_in(context, base)
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{base}/rules")
        page.fill("form.form input[name=name]", "Arnaques")
        page.fill("form.form input[name=keywords]", "escrocs")
        page.check("form.form input[name=actions][value=hide]")
        page.click("form.form button.primary")
        page.wait_for_selector("[data-confirm-rule]")
        page.click("[data-confirm-rule] button[data-action=enable]")
        page.wait_for_selector("tr[data-rule][data-enabled=true]")
        # Edited: the new conditions, disabled again until its new dry run was seen.
        page.click("tr[data-rule] a[data-action=edit]")
        expect(page.locator("form[data-rule-form] input[name=keywords]")).to_have_value("escrocs")
        page.fill("form[data-rule-form] input[name=name]", "Arnaques et voleurs")
        page.fill("form[data-rule-form] input[name=keywords]", "escrocs, voleurs")
        page.click("form[data-rule-form] button.primary")
        page.wait_for_selector("[data-dry-run]")
        assert page.locator("[data-dry-matched]").get_attribute("data-dry-matched") == "2"
        assert page.locator("tr[data-rule]").count() == 1
        expect(page.locator("tr[data-rule]")).to_have_attribute("data-enabled", "false")
        expect(page.locator("tr[data-rule]")).to_contain_text("Arnaques et voleurs")
        page.click("tr[data-rule] button[data-action=delete-rule]")
        expect(page.locator(".flash.ok")).to_contain_text("Règle « Arnaques et voleurs » supprimée")
        assert page.locator("tr[data-rule]").count() == 0
        # Saved replies: edited, then deleted.
        page.goto(f"{base}/replies")
        page.click('tr[data-reply="fr:merci"] a[data-action=edit]')
        page.wait_for_url("**/replies?edit=*")  # the edit form, not the add form of the page it left
        page.fill("form[data-reply-form] textarea[name=text]", "Bonjour {author}, merci, nous regardons.")
        page.click("form[data-reply-form] button.primary")
        expect(page.locator('tr[data-reply="fr:merci"]')).to_contain_text("merci, nous regardons")
        assert page.locator("tr[data-reply]").count() == 1
        page.click('tr[data-reply="fr:merci"] button[data-action=delete-reply]')
        expect(page.locator("tr[data-reply]")).to_have_count(0)
        context.close()


@pytest.mark.parametrize("width", [390])
def test_a_new_rule_starts_disabled(browser, inbox_settings, users, platforms, width) -> None:
    with LiveServer(create_app(inbox_settings, platforms.connector_settings())) as server:
        context = browser.new_context(viewport={"width": width, "height": 844})
        context.set_default_timeout(TIMEOUT_MS)
        page = log_in(context, server.url)
        page.goto(f"{server.url}/rules")
        page.fill("form.form input[name=name]", "Liens")
        page.check("form.form input[name=has_link]")
        page.check("form.form input[name=actions][value=hide]")
        page.click("form.form button.primary")
        page.wait_for_selector("[data-dry-run]")
        [rule] = Store(inbox_settings).rules()
        assert rule["enabled"] is False  # nothing acts before someone looked at the dry run
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, "phone-rule-dry-run")
        context.close()
