"""Work done through the web app: assignment, notes, a failed action shown and retried, saved replies,
a rule applied for real (hide, tag, notify by email)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from inbox.store import Store
from tests.ecoute.views.synthetic import index_mentions, mention
from tests.inbox.conftest import FB_CRITIC, FB_THREAT
from tests.inbox.test_security import login


@pytest.fixture
def app(inbox_settings, users, platforms):
    return create_app(inbox_settings, platforms.connector_settings())


def test_assign_and_note_show_in_the_queue(app, inbox_settings) -> None:
    client = TestClient(app)
    token = login(client, "mo")
    assert (
        client.post(f"/mentions/{FB_CRITIC}/assign", data={"csrf_token": token, "assignee": "claire"}).status_code
        == 200
    )
    client.post(f"/mentions/{FB_CRITIC}/notes", data={"csrf_token": token, "text": "Voir avec la logistique"})
    row = next(r for r in client.get("/api/queues/answer").json()["items"] if r["id"] == FB_CRITIC)
    assert row["assigned_to"] == "claire" and row["notes"] == 1
    thread = client.get(f"/threads/{FB_CRITIC}").text
    assert "Voir avec la logistique" in thread
    assert (
        client.post(f"/mentions/{FB_CRITIC}/assign", data={"csrf_token": token, "assignee": "nobody-here"}).status_code
        == 400
    )


def test_a_failed_action_is_shown_with_retry_and_retried(app, platforms) -> None:
    native = FB_THREAT.split(":", 1)[1]
    platforms.add("POST", f"/v21.0/{native}", "facebook/error_permission.json")
    platforms.add("POST", f"/v21.0/{native}", "facebook/success.json")
    client = TestClient(app)
    token = login(client, "mo")
    page = client.post(
        f"/mentions/{FB_THREAT}/act/hide",
        data={"csrf_token": token},
        headers={"referer": f"{client.base_url}/threads/{FB_THREAT}"},
    )
    assert "flash error" in page.text and "(#200)" in page.text and "/retry" in page.text
    activity = client.get("/activity").text
    assert "échec" in activity and 'data-retry="' in activity
    record_id = activity.split('data-retry="', 1)[1].split('"', 1)[0]
    retried = client.post(f"/actions/{record_id}/retry", data={"csrf_token": token})
    assert "flash ok" in retried.text
    assert FB_THREAT not in {r["id"] for r in client.get("/api/queues/moderate").json()["items"]}
    audit = client.get("/api/audit").json()["records"]
    assert [r["status"] for r in audit if r["id"] == record_id] == ["done"]


def test_admin_saves_a_reply_and_it_fills_the_reply_box(app) -> None:
    client = TestClient(app)
    token = login(client, "claire")
    client.post(
        "/replies",
        data={
            "csrf_token": token,
            "title": "Suivi",
            "lang": "fr",
            "text": "Bonjour {author}, votre page {page} vous remercie.",
        },
    )
    assert "Suivi" in client.get("/replies").text
    box = client.get(f"/mentions/{FB_CRITIC}/reply-text", params={"saved": "fr:Suivi"}).text
    # Names are not stored: the CM sees a blank to fill in (and cannot send it unfilled); the page by its name.
    assert "Bonjour [prénom], votre page Maison Aurore vous remercie." in box
    refused = client.post(
        f"/mentions/{FB_CRITIC}/act/reply", data={"csrf_token": token, "text": box.split(">")[1].split("<")[0]}
    )
    assert "Remplacez [prénom]" in refused.text


def test_a_rule_applied_hides_tags_and_notifies(inbox_settings, users, platforms, smtp_outbox) -> None:
    fresh = "facebook:811111111111111_900000000000042"
    now = datetime.now(UTC) - timedelta(minutes=5)
    index_mentions(
        inbox_settings,
        [
            mention(
                fresh,
                now,
                author_id="a_spam",
                text="Gagnez un iPhone sur http://spam.example",
                parent_id="facebook:p1",
                thread_id="facebook:p1",
            )
        ],
    )
    platforms.add("POST", f"/v21.0/{fresh.split(':', 1)[1]}", "facebook/success.json")
    settings = inbox_settings.model_copy(
        update={"smtp": inbox_settings.smtp.model_copy(update={"port": smtp_outbox.port})}
    )
    client = TestClient(create_app(settings, platforms.connector_settings()))
    token = login(client, "claire")
    client.post(
        "/rules",
        data={
            "csrf_token": token,
            "name": "Liens",
            "has_link": "on",
            "actions": ["hide", "tag", "notify"],
            "tag": "spam",
            "notify": "equipe@example.com",
        },
    )
    rule = Store(settings).rules()[0]
    dry = client.post(f"/rules/{rule['id']}/dry-run", data={"csrf_token": token}).text
    assert 'data-dry-matched="1"' in dry  # today's link: October's is more than 30 days before the newest data
    assert platforms.calls == []
    client.post(f"/rules/{rule['id']}/apply", data={"csrf_token": token, "hours": "24"})
    assert len(platforms.calls) == 1 and platforms.calls[0].form["is_hidden"] == "true"  # only the last 24 h
    assert Store(settings).item(fresh)["tags"] == ["spam"]
    [eml] = smtp_outbox.messages()
    message = message_from_bytes(eml.read_bytes())
    assert message["To"] == "equipe@example.com" and f"/threads/{fresh}" in message.get_payload(decode=True).decode()
    rules_page = client.get("/rules").text
    assert f'data-rule="{rule["id"]}"' in rules_page
    audit = [r for r in client.get("/api/audit").json()["records"] if r.get("rule_id") == rule["id"]]
    assert {r["action"] for r in audit} == {"hide", "apply", "dry_run"}


def test_not_toxic_from_the_queue_corrects_and_takes_it_out(app, inbox_settings) -> None:
    from ecoute.feedback import iter_corrections

    client = TestClient(app)
    token = login(client, "mo")
    page = client.get("/queues/moderate").text
    assert 'data-label="toxic-false"' in page and 'data-total="3"' in page
    client.post(
        f"/mentions/{FB_THREAT}/labels", data={"csrf_token": token, "field": "toxic", "value": "false", "done": "1"}
    )
    assert [(c["mention_id"], c["labels"]) for c in iter_corrections(inbox_settings)] == [(FB_THREAT, {"toxic": False})]
    assert FB_THREAT not in {r["id"] for r in client.get("/api/queues/moderate").json()["items"]}
    assert (
        client.post(
            f"/mentions/{FB_THREAT}/labels", data={"csrf_token": token, "field": "sentiment", "value": "furious"}
        ).status_code
        == 400
    )


def test_enabled_rules_run_on_schedule_and_skip_what_is_handled(inbox_settings, users, platforms) -> None:
    from inbox import rules
    from inbox.actions import Services

    fresh = "facebook:811111111111111_900000000000043"
    index_mentions(
        inbox_settings,
        [
            mention(
                fresh,
                datetime.now(UTC) - timedelta(minutes=2),
                author_id="a_x",
                text="escrocs !",
                parent_id="facebook:p1",
                thread_id="facebook:p1",
            )
        ],
    )
    platforms.add("POST", f"/v21.0/{fresh.split(':', 1)[1]}", "facebook/success.json")
    services = Services(inbox_settings, Store(inbox_settings), platforms.connector_settings())
    services.store.ensure()
    enabled = {
        "id": "on",
        "name": "on",
        "enabled": True,
        "conditions": {"keywords": ["escrocs"]},
        "actions": ["hide"],
        "created_at": "2026-12-01T00:00:00Z",
    }
    disabled = {**enabled, "id": "off", "name": "off", "enabled": False, "actions": ["tag"], "tag": "x"}
    for rule in (enabled, disabled):
        services.store.put(inbox_settings.indices.inbox_rules, rule["id"], rule)
    assert rules.run_enabled(services, hours=1) == {"on": {"name": "on", "matched": 1, "failed": 0}}
    assert rules.run_enabled(services, hours=1) == {
        "on": {"name": "on", "matched": 0, "failed": 0}
    }  # handled: not twice
    assert len(platforms.calls) == 1 and Store(inbox_settings).item(fresh).get("tags", []) == []
