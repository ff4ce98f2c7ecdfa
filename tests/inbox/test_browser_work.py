"""Working through a queue in a real browser (Chromium), desktop: pages with totals, searches,
"assigned to me", bulk actions, the keyboard, actions that keep the place and name the comment, a
correction seen at once, only the relevant of hide/unhide, the brand's reply in the thread, a note
confirmed, and a thread forwarded to a colleague whose answer lands in the thread."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from ecoute.events import pseudonymise
from inbox.app import create_app
from inbox.display import Display
from jobs.notify import smtp_connection_uri
from tests.ecoute.views.synthetic import index_mentions, mention
from tests.inbox.conftest import FB_CRITIC, FB_THREAT, PASSWORD, LiveServer, shot

TIMEOUT_MS = 15_000
EXTRA = 64  # criticism items beyond the seed: more than a page of 50


def hashed(n: int) -> str:
    return pseudonymise(f"person-{n}", "test-key")  # "a_" + 24 hex digits, like real pseudonyms


def many_critics(count: int = EXTRA) -> list[dict]:
    start = datetime(2026, 10, 18, 8, tzinfo=UTC)
    return [
        mention(
            f"facebook:811111111111111_95{i:04d}",
            start + timedelta(minutes=7 * i),
            author_id=hashed(i),
            text=f"Commande {1000 + i} toujours pas livrée" + (" — ColiRapide encore" if i % 8 == 0 else ""),
            sentiment="negative",
            criticism=True,
            topics=["delivery"],
            parent_id="facebook:p1",
            thread_id="facebook:p1",
            likes=i % 5,
        )
        for i in range(count)
    ]


def open_session(browser, base: str, username: str, width: int = 1280, lang: str | None = None):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base}/login" + (f"?lang={lang}" if lang else ""))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/queues/answer")
    return context, page


def test_paging_searching_and_bulk_work(browser, inbox_settings, users, platforms) -> None:
    index_mentions(inbox_settings, many_critics())
    with LiveServer(create_app(inbox_settings, platforms.connector_settings())) as server:
        context, page = open_session(browser, server.url, "claire")
        total = EXTRA + 4  # the seed's four unanswered critics
        assert page.locator("[data-total]").get_attribute("data-total") == str(total)
        assert page.locator("article.item").count() == 50
        first_page = set(page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.id)"))
        expect(page.locator("[data-page-of]")).to_have_text(re.compile(r"1–50 sur 68 · page 1/2"))
        page.click("a[data-page=next]")
        page.wait_for_url("**page=2**")
        second_page = set(page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.id)"))
        assert len(second_page) == total - 50 and not first_page & second_page  # other items, all of them
        shot(page, "queue-answer-page-2")
        api = page.request.get(f"{server.url}/api/queues/answer?page=2").json()
        assert api["total"] == total and {r["id"] for r in api["items"]} == second_page

        # Search: words of the text (accents and case ignored), then an author by the name people read.
        page.goto(f"{server.url}/queues/answer")
        page.fill("input[name=q]", "coliRAPIDE")
        page.press("input[name=q]", "Enter")
        page.wait_for_url("**q=coliRAPIDE**")
        assert page.locator("article.item").count() == EXTRA // 8
        shown_name = Display(inbox_settings, "fr").person({"author_id": hashed(3)})
        page.goto(f"{server.url}/queues/answer")
        page.fill("input[name=author]", shown_name.lower())
        page.press("input[name=author]", "Enter")
        page.wait_for_url("**author=**")
        assert page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.id)") == [
            "facebook:811111111111111_950003"
        ]
        # Clicking an author lists their messages, the box shows their name (never the hash).
        page.goto(f"{server.url}/queues/answer")
        page.locator('article[data-id="facebook:811111111111111_950003"] a.author').click()
        page.wait_for_url("**author=a_**")
        expect(page.locator("input[name=author]")).to_have_value(shown_name)

        # Bulk: assign three to me, then "assigned to me" lists them; mark them done together.
        page.goto(f"{server.url}/queues/answer?q=ColiRapide")
        picked = page.locator("article.item").evaluate_all("els => els.slice(0, 3).map(e => e.dataset.id)")
        for mention_id in picked:
            page.check(f'article[data-id="{mention_id}"] input.pick')
        expect(page.locator("[data-picked]")).to_have_text("3 message(s) sélectionné(s)")
        page.select_option("form#bulk select[name=assignee]", "claire")
        page.click("button[data-bulk=assign]")
        expect(page.locator(".flash.ok")).to_contain_text("3 message(s) attribué(s) sur 3")
        page.goto(f"{server.url}/queues/answer?assigned=me")
        mine = page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.id)")
        assert sorted(mine) == sorted(picked)
        page.check("[data-pick-all]")
        page.click("button[data-bulk=done]")
        expect(page.locator(".flash.ok")).to_contain_text("3 message(s) marqué(s) traité(s) sur 3")
        assert page.locator("article.item").count() == 0
        page.goto(f"{server.url}/queues/answer")
        assert page.locator("[data-total]").get_attribute("data-total") == str(total - 3)
        context.close()


def test_keyboard_and_actions_keep_the_place_and_name_the_comment(browser, inbox_settings, users, platforms) -> None:
    index_mentions(inbox_settings, many_critics())
    with LiveServer(create_app(inbox_settings, platforms.connector_settings())) as server:
        context, page = open_session(browser, server.url, "mo")
        # A skip link first, then j / k move the focus along the items, with a ring people see.
        page.keyboard.press("Tab")
        expect(page.locator("a.skip")).to_be_focused()
        page.keyboard.press("Escape")
        page.locator("h1").click()
        page.keyboard.press("j")
        page.keyboard.press("j")
        items = page.locator("article.item")
        expect(items.nth(1)).to_be_focused()
        assert items.nth(1).evaluate("e => getComputedStyle(e).outlineStyle") != "none"
        page.keyboard.press("k")
        expect(items.nth(0)).to_be_focused()
        # Down the list, "Traité" with the e key: the page stays where it was, the focus moves to
        # the next item, the confirmation names the comment.
        for _ in range(11):
            page.keyboard.press("j")
        target = items.nth(11)
        expect(target).to_be_focused()
        gone_id = target.get_attribute("data-id")
        gone_text = target.locator("p.text").inner_text()
        before = page.evaluate("window.scrollY")
        assert before > 300
        page.keyboard.press("e")
        expect(page.locator(".flash.ok")).to_contain_text(gone_text[:30])
        expect(page.locator(f'article[data-id="{gone_id}"]')).to_have_count(0)
        assert abs(page.evaluate("window.scrollY") - before) < 250  # not back at the top
        expect(page.locator("article.item").nth(11)).to_be_focused()
        shot(page, "queue-answer-after-done")
        # r opens the reply box of the focused item and puts the cursor in it.
        page.keyboard.press("r")
        expect(page.locator("article.item").nth(11).locator("textarea")).to_be_focused()
        context.close()


def test_corrections_hide_reply_note_and_forward_show_in_the_thread(
    browser, inbox_settings, users, platforms, smtp_outbox, monkeypatch
) -> None:
    fb_critic, fb_threat = FB_CRITIC.split(":", 1)[1], FB_THREAT.split(":", 1)[1]
    platforms.add("POST", f"/v21.0/{fb_critic}/comments", "facebook/reply.json")
    platforms.add("POST", f"/v21.0/{fb_threat}", "facebook/success.json")
    settings = inbox_settings.model_copy(
        update={"smtp": inbox_settings.smtp.model_copy(update={"port": smtp_outbox.port})}
    )
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(settings))
    with LiveServer(create_app(settings, platforms.connector_settings())) as server:
        context, page = open_session(browser, server.url, "mo")
        # A correction is seen at once: the chips, the history, and the queue it leaves.
        page.goto(f"{server.url}/threads/{FB_CRITIC}")
        expect(page.locator(".card.focus [data-chip=sentiment-negative]")).to_have_count(1)
        page.click("button[data-label=sentiment-positive]")
        expect(page.locator(".flash.ok")).to_contain_text("tonalité → positif")
        expect(page.locator(".card.focus [data-chip=sentiment-positive]")).to_have_count(1)
        expect(page.locator(".card.focus button[data-label=sentiment-positive]")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(page.locator(".hist[data-kind=correction]")).to_contain_text("tonalité : négatif → positif")
        # Topics come from the taxonomy, chosen, not typed; shown by their label.
        page.click("summary[data-label=topics]")
        page.check(".topics-form input[value=price]")
        page.click("button[data-action=save-topics]")
        expect(page.locator(".card.focus [data-chip=topic-price]")).to_have_text("Prix")
        page.click("button[data-label=criticism-false]")
        expect(page.locator(".card.focus [data-chip=criticism]")).to_have_count(0)
        page.goto(f"{server.url}/queues/answer")
        expect(page.locator(f'article[data-id="{FB_CRITIC}"]')).to_have_count(0)  # no longer criticism

        # Only the relevant of hide / unhide; the confirmation names the comment.
        page.goto(f"{server.url}/threads/{FB_THREAT}")
        expect(page.locator(".card.focus button[data-action=unhide]")).to_have_count(0)
        page.click(".card.focus button[data-action=hide]")
        expect(page.locator(".flash.ok")).to_contain_text("« Je vais venir vous trouver")
        expect(page.locator(".card.focus button[data-action=hide]")).to_have_count(0)
        expect(page.locator(".card.focus button[data-action=unhide]")).to_have_count(1)
        expect(page.locator("[data-state=hidden]")).to_have_count(1)

        # The brand's reply shows in the thread once sent (before the connector brings it in).
        page.goto(f"{server.url}/threads/{FB_CRITIC}")
        page.click(".card.focus summary[data-action=open-reply]")
        page.fill(".card.focus textarea[name=text]", "Merci Anna, nous ajoutons le suivi dès l'expédition.")
        page.click(".card.focus button[data-action=send-reply]")
        expect(page.locator(".flash.ok")).to_be_visible()
        expect(page.locator("[data-sent-reply]").first).to_contain_text("nous ajoutons le suivi")

        # A note is confirmed and listed.
        page.fill("input[name=text][placeholder]", "Voir avec la logistique")
        page.click("button[data-action=note]")
        expect(page.locator(".flash.ok")).to_contain_text("Note ajoutée")
        expect(page.locator("[data-note]")).to_contain_text("Voir avec la logistique")

        # Ask a colleague: an email with the thread and a link; their answer is noted in the thread.
        page.fill("input[name=to]", "marie@example.com")
        page.fill("textarea[name=question]", "Peut-on promettre le suivi ?")
        page.click("button[data-action=forward]")
        expect(page.locator(".flash.ok")).to_contain_text("Fil transféré à marie@example.com")
        [eml] = smtp_outbox.messages()
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert message["To"] == "marie@example.com" and "Proposez le suivi du colis" in text
        link = re.search(r"(http://\S+/forwards/\S+)", text).group(1).replace(settings.inbox.url, server.url)
        colleague = browser.new_context(viewport={"width": 390, "height": 844})  # no account, a phone
        answer_page = colleague.new_page()
        answer_page.goto(link)
        expect(answer_page.locator("body")).to_contain_text("Proposez le suivi du colis")
        answer_page.fill("textarea[name=answer]", "Oui, dès lundi le suivi part avec le mail d'expédition.")
        answer_page.click("button[data-action=answer]")
        expect(answer_page.locator("[data-forward-thanks]")).to_be_visible()
        assert answer_page.request.get(link.split("?")[0] + "?k=wrong").status == 404
        colleague.close()
        page.reload()
        expect(page.locator("[data-forward-answer]")).to_contain_text("dès lundi le suivi part")
        shot(page, "thread-worked")
        context.close()
