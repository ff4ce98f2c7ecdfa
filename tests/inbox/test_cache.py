"""What one inbox process keeps (inbox/cache.py): queues served at once while a background read
replaces them, what is handled here gone at once (even from a read that was under way), a change
that may add items read before answering; and the process opens one Elasticsearch client."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from inbox import cache
from inbox.app import create_app
from tests.inbox.conftest import FB_CRITIC, FB_THREAT
from tests.inbox.test_security import login

PRAISE = "facebook:c0"  # a member's "Top, merci": not criticism


@pytest.fixture(autouse=True)
def short_ttl(monkeypatch):
    monkeypatch.setattr(cache, "QUEUE_TTL_S", 0.2)
    monkeypatch.setattr(cache, "REFRESH_DELAY_S", 0.0)
    cache.invalidate()
    yield
    cache.invalidate()


def test_a_stale_queue_is_served_while_a_background_read_replaces_it() -> None:
    reads = []
    release = threading.Event()

    def compute():
        reads.append(time.monotonic())
        if len(reads) > 1:
            release.wait(5)
        return [{"id": f"m{len(reads)}"}]

    key = ("test", "answer")
    assert cache.queue(key, compute) == [{"id": "m1"}]
    time.sleep(0.3)
    assert cache.queue(key, compute) == [{"id": "m1"}]  # stale: served at once, a read started
    for _ in range(100):  # the background read is under way…
        if len(reads) == 2:
            break
        time.sleep(0.01)
    cache.forget(["m2"])  # …when m2 is handled here
    release.set()
    for _ in range(50):
        if cache._queues[key][1] != [{"id": "m1"}]:
            break
        time.sleep(0.05)
    assert cache.queue(key, compute) == [] and len(reads) == 2  # m2 was read, but it was handled meanwhile


def test_a_change_that_may_add_items_is_read_before_answering() -> None:
    key = ("test", "answer")
    cache.queue(key, lambda: [{"id": "a"}])
    cache.invalidate()
    assert cache.queue(key, lambda: [{"id": "a"}, {"id": "reopened"}]) == [{"id": "a"}, {"id": "reopened"}]


def test_pages_and_actions_use_the_one_client_of_the_process(inbox_settings, users, platforms, monkeypatch) -> None:
    from ecoute import es

    app = create_app(inbox_settings, platforms.connector_settings())
    opened = []
    monkeypatch.setattr(es, "make_client", lambda *a, **k: opened.append(1))
    client = TestClient(app)
    token = login(client, "mo")
    platforms.add("POST", f"/v21.0/{FB_THREAT.split(':', 1)[1]}", "facebook/success.json")
    for path in ("/queues/answer", "/queues/moderate", "/queues/welcome", f"/threads/{FB_CRITIC}", "/activity"):
        assert client.get(path).status_code == 200
    client.post(f"/mentions/{FB_CRITIC}/labels", data={"csrf_token": token, "field": "sentiment", "value": "positive"})
    client.post(f"/mentions/{FB_THREAT}/act/hide", data={"csrf_token": token})
    client.post(f"/mentions/{FB_CRITIC}/done", data={"csrf_token": token})
    assert opened == []  # no new client (and no socket probe) per correction, action or page


def nothing(ids: list[str]) -> dict:
    return {}


def test_a_tone_correction_keeps_the_queue_and_not_criticism_leaves_it() -> None:
    answer, moderate = ("i", "answer"), ("i", "moderate")
    cache.queue(answer, lambda: [{"id": "a", "sentiment": "negative"}, {"id": "b"}])
    cache.queue(moderate, lambda: [{"id": "a", "sentiment": "negative"}])
    cache.relabel("a", {"sentiment": "positive"}, nothing)
    assert cache.queue(answer, list)[0] == {"id": "a", "sentiment": "positive"}  # kept, not read again
    cache.relabel("a", {"criticism": False}, nothing)
    assert [r["id"] for r in cache.queue(answer, list)] == ["b"] and cache.queue(moderate, list)[0]["id"] == "a"
    cache.relabel("b", {"toxic": True}, nothing)  # may add items: a queue that cannot test it is read again
    assert cache.queue(answer, lambda: [{"id": "fresh"}]) == [{"id": "fresh"}]


def queue_ids(client: TestClient, name: str) -> list[str]:
    return [row["id"] for row in client.get(f"/api/queues/{name}?limit=200").json()["items"]]


def counting_searches(app, monkeypatch) -> list[str]:
    """The mentions searches the app's client sends from now on, but those looking up ids (a
    multi-get or an ``ids`` terms search, as an action does to find the mention)."""
    searches: list[str] = []
    transport = app.state.services.store.client.transport
    send = transport.perform_request

    def perform(method, path, **kwargs):
        query = (kwargs.get("body") or {}).get("query") or {}
        if path.split("?")[0].endswith("/_search") and "ecoute-mentions" in path and "id" not in query.get("terms", {}):
            searches.append(f"{path} {query}")
        return send(method, path, **kwargs)

    monkeypatch.setattr(transport, "perform_request", perform)
    return searches


def test_a_reopened_item_is_back_in_the_kept_queue_at_once_without_reading_it_again(
    inbox_settings, users, platforms, monkeypatch
) -> None:
    monkeypatch.setattr(cache, "QUEUE_TTL_S", 30)
    app = create_app(inbox_settings, platforms.connector_settings())
    client = TestClient(app)
    token = login(client, "mo")
    fresh = queue_ids(client, "answer")
    assert FB_CRITIC in fresh and client.get("/queues/answer").status_code == 200  # the page's filter bar kept
    searches = counting_searches(app, monkeypatch)
    client.post(f"/mentions/{FB_CRITIC}/done", data={"csrf_token": token})
    assert FB_CRITIC not in queue_ids(client, "answer")
    client.post(f"/mentions/{FB_CRITIC}/done", data={"csrf_token": token, "undo": "1"})
    assert queue_ids(client, "answer") == fresh  # back at once, where a new read puts it
    assert searches == [], searches  # the kept queue was patched, not read again
    cache.invalidate()
    assert queue_ids(client, "answer") == fresh


def test_a_correction_that_makes_an_item_criticism_shows_it_in_the_answer_queue_at_once(
    inbox_settings, users, platforms, monkeypatch
) -> None:
    monkeypatch.setattr(cache, "QUEUE_TTL_S", 30)
    app = create_app(inbox_settings, platforms.connector_settings())
    client = TestClient(app)
    token = login(client, "mo")
    before = queue_ids(client, "answer")
    mention = next(m for m in app.state.services.store.mentions_by_id([PRAISE]).values())
    assert PRAISE not in before and not mention.get("criticism")
    client.post(f"/mentions/{PRAISE}/labels", data={"csrf_token": token, "field": "criticism", "value": "true"})
    patched = queue_ids(client, "answer")
    assert PRAISE in patched and set(patched) - set(before) == {PRAISE}
    cache.invalidate()
    assert queue_ids(client, "answer") == patched  # what a new read shows, in the same order
    client.post(f"/mentions/{PRAISE}/labels", data={"csrf_token": token, "field": "criticism", "value": "false"})
    assert queue_ids(client, "answer") == before
