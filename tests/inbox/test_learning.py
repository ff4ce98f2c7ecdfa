"""What the community manager does teaches Écoute: actions in the inbox become labels in the feedback
index (with who, when, which action, which model), once per mention, gone with the author on erasure;
the "Aidez Écoute à apprendre" page asks about the day's mentions and counts the labels given."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ecoute import es
from ecoute.privacy import erase_author
from inbox.app import create_app
from tests.inbox.conftest import FB_CRITIC, FB_THREAT
from tests.inbox.test_security import login


@pytest.fixture
def app(inbox_settings, users, platforms, tmp_path, monkeypatch):
    monkeypatch.setenv("ECOUTE_LABELLER_DIR", str(tmp_path / "labeller"))  # the packaged model, fresh state
    return create_app(inbox_settings, platforms.connector_settings())


def labels(settings, mention_id: str) -> list[dict[str, Any]]:
    client = es.make_client(settings)
    client.indices.refresh(index=settings.indices.feedback)
    return [d for d in es.scan_docs(client, settings.indices.feedback, {"term": {"mention_id": mention_id}})]


def test_hiding_is_a_toxic_label_restoring_takes_it_back_and_erasure_removes_it(app, inbox_settings, platforms) -> None:
    native = FB_THREAT.split(":", 1)[1]
    platforms.add("POST", f"/v21.0/{native}", "facebook/success.json")
    client = TestClient(app)
    token = login(client, "mo")
    assert "flash ok" in client.post(f"/mentions/{FB_THREAT}/act/hide", data={"csrf_token": token}).text
    (doc,) = labels(inbox_settings, FB_THREAT)
    assert doc["labels"] == {"toxic": True} and doc["action"] == "hide" and doc["who"] == "mo"
    assert doc["source"] == "inbox-action" and doc["author_id"] == "a_dan" and doc["model_version"] == "test-1"
    assert doc["corrected_at"] and doc["previous"]["toxic"] is True and doc["id"] == f"{FB_THREAT}:action:toxic"

    record = next(r for r in client.get("/api/audit").json()["records"] if r.get("action") == "hide")
    assert "flash ok" in client.post(f"/actions/{record['id']}/undo", data={"csrf_token": token}).text
    (doc,) = labels(inbox_settings, FB_THREAT)  # one label per mention: the latest action decides
    assert doc["labels"] == {"toxic": False} and doc["action"] == "unhide"

    result = erase_author(inbox_settings, "a_dan")
    assert result.labels_deleted == 1 and labels(inbox_settings, FB_THREAT) == []


def test_done_reply_and_not_criticism_are_labels(app, inbox_settings, platforms) -> None:
    platforms.add("POST", f"/v21.0/{FB_CRITIC.split(':', 1)[1]}/comments", "facebook/reply.json")
    client = TestClient(app)
    token = login(client, "mo")
    carl = "facebook:811111111111111_900000000000004"
    client.post(f"/mentions/{carl}/done", data={"csrf_token": token})
    (doc,) = labels(inbox_settings, carl)
    assert doc["labels"] == {"needs_answer": False} and doc["action"] == "done_without_reply"
    client.post(f"/mentions/{carl}/done", data={"csrf_token": token, "undo": "1"})  # reopened: taken back
    assert labels(inbox_settings, carl) == []

    client.post(f"/mentions/{FB_CRITIC}/act/reply", data={"csrf_token": token, "text": "Merci, c'est noté !"})
    client.post(f"/mentions/{FB_CRITIC}/done", data={"csrf_token": token})  # answered: "Traité" adds nothing
    (doc,) = labels(inbox_settings, FB_CRITIC)
    assert doc["labels"] == {"needs_answer": True} and doc["action"] == "reply"

    kim = "reddit:t1_lz9abc"
    client.post(
        f"/mentions/{kim}/labels", data={"csrf_token": token, "field": "criticism", "value": "false", "done": "1"}
    )
    client.post(
        f"/mentions/{kim}/labels", data={"csrf_token": token, "field": "criticism", "value": "false", "done": "1"}
    )
    (doc,) = labels(inbox_settings, kim)  # twice the same click: one label
    assert doc["labels"] == {"criticism": False} and doc["action"] == "not_criticism" and doc["author_id"] == "a_kim"


def test_bulk_actions_teach_as_one_by_one(app, inbox_settings, platforms) -> None:
    platforms.add("POST", f"/v21.0/{FB_THREAT.split(':', 1)[1]}", "facebook/success.json")
    client = TestClient(app)
    token = login(client, "mo")
    carl = "facebook:811111111111111_900000000000004"
    client.post("/mentions/bulk", data={"csrf_token": token, "action": "done", "ids": [carl]})
    (doc,) = labels(inbox_settings, carl)
    assert doc["labels"] == {"needs_answer": False} and doc["action"] == "done_without_reply"
    client.post("/mentions/bulk", data={"csrf_token": token, "action": "hide", "ids": [FB_THREAT]})
    (doc,) = labels(inbox_settings, FB_THREAT)
    assert doc["labels"] == {"toxic": True} and doc["action"] == "hide" and doc["who"] == "mo"


def test_rules_teach_nothing(app, inbox_settings) -> None:
    from inbox import learning

    record = {
        "kind": "action",
        "action": "hide",
        "status": "done",
        "mention_id": FB_THREAT,
        "rule_id": "r1",
        "who": "rule",
    }
    assert learning.label_action(app.state.services, {"username": "rule"}, record) is False
    assert labels(inbox_settings, FB_THREAT) == []


def test_the_learning_page_asks_and_counts(app, inbox_settings) -> None:
    client = TestClient(app)
    token = login(client, "mo")
    page = client.get("/learn")
    assert page.status_code == 200 and "Aidez Écoute à apprendre" in page.text
    ids = [part.split('"', 1)[0] for part in page.text.split('<article class="item " data-id="')[1:]]
    assert len(ids) >= 5 and len(set(ids)) == len(ids)
    assert "data-labels-total>0<" in page.text
    answered = client.post(f"/learn/{ids[0]}", data={"csrf_token": token, "field": "sentiment", "value": "negative"})
    assert "flash ok" in answered.text
    assert (
        client.post(f"/learn/{ids[0]}", data={"csrf_token": token, "field": "sentiment", "value": "bad"}).status_code
        == 400
    )
    after = client.get("/learn").text
    assert "data-labels-total>1<" in after and f'data-id="{ids[0]}" data-answered="yes"' in after
    (doc,) = labels(inbox_settings, ids[0])
    assert doc["labels"] == {"sentiment": "negative"} and doc["source"] == "inbox-learning" and doc["who"] == "mo"
    viewer = TestClient(app)
    login(viewer, "vic")
    assert viewer.get("/learn").status_code == 200 and "data-teach=" not in viewer.get("/learn").text
