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


def test_a_tone_correction_keeps_the_queue_and_not_criticism_leaves_it() -> None:
    answer, moderate = ("i", "answer"), ("i", "moderate")
    cache.queue(answer, lambda: [{"id": "a", "sentiment": "negative"}, {"id": "b"}])
    cache.queue(moderate, lambda: [{"id": "a", "sentiment": "negative"}])
    cache.relabel("a", {"sentiment": "positive"})
    assert cache.queue(answer, list)[0] == {"id": "a", "sentiment": "positive"}  # kept, not read again
    cache.relabel("a", {"criticism": False})
    assert [r["id"] for r in cache.queue(answer, list)] == ["b"] and cache.queue(moderate, list)[0]["id"] == "a"
    cache.relabel("b", {"toxic": True})  # may add items elsewhere: everything is read again
    assert cache.queue(answer, lambda: [{"id": "fresh"}]) == [{"id": "fresh"}]
