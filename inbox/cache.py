"""What one inbox process keeps between requests, so a page asks Elasticsearch only what changed:
ranked queues (``QUEUE_TTL_S``), slow-changing values (the filter bar, the newest day), and which
thread each mention shown belongs to. Changes made through this process update or clear them at
once; changes made elsewhere (new mentions, scheduled rules, another process) show within the TTLs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ecoute.views.matching import Unsupported, matches_query

log = logging.getLogger(__name__)

QUEUE_TTL_S = 30
QUEUE_STALE_S = 300  # an idle inbox's next visit reads its queue before answering
REFRESH_DELAY_S = 0.5
THREADS_KEPT = 100_000

_values: dict[Any, tuple[float, Any]] = {}
_queues: dict[tuple[Any, ...], tuple[float, list[dict[str, Any]]]] = {}
_threads: dict[tuple[Any, ...], tuple[float, list[dict[str, Any]]]] = {}
# Kept queue -> (its query, the fields its rows hold): a mention changed here is tested on it.
_admission: dict[tuple[Any, ...], tuple[dict[str, Any], list[str]]] = {}
_refresh_lock = threading.Lock()
_refreshing: set[tuple[Any, ...]] = set()
_forgotten: dict[str, float] = {}  # mention id -> when it was handled here
# Mention id -> its thread, for the mentions queue pages showed (opening one then takes one search).
threads: dict[str, str] = {}


def cached(key: Any, ttl_s: float, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept ``ttl_s`` seconds."""
    now = time.monotonic()
    hit = _values.get(key)
    if hit and now - hit[0] < ttl_s:
        return hit[1]
    value = compute()
    _values[key] = (now, value)
    return value


def peek(key: Any, ttl_s: float) -> Any:
    """What ``cached`` keeps for ``key`` if younger than ``ttl_s`` seconds, else None (nothing read)."""
    hit = _values.get(key)
    return hit[1] if hit and time.monotonic() - hit[0] < ttl_s else None


def queue(
    key: tuple[Any, ...],
    compute: Callable[[], list[dict[str, Any]]],
    admission: tuple[dict[str, Any], list[str]] | None = None,
) -> list[dict[str, Any]]:
    """A ranked queue's rows. Older than ``QUEUE_TTL_S``, they are still served while a background
    read replaces them (a CM working a queue never waits for its search); older than
    ``QUEUE_STALE_S`` or after ``invalidate``, they are read before answering.

    ``admission``: the query the rows come from and the fields they hold (rows are documents as
    the search returns them, ranked per request): ``put_back`` then patches them in place."""
    if admission is not None:
        _admission[key] = admission
    kept = _queues.get(key)
    age = time.monotonic() - kept[0] if kept else None
    if kept and age is not None and age < QUEUE_TTL_S:
        return kept[1]
    if kept and age is not None and age < QUEUE_STALE_S:
        _refresh_in_background(key, compute)
        return kept[1]
    rows = compute()
    _queues[key] = (time.monotonic(), rows)
    return rows


def _refresh_in_background(key: tuple[Any, ...], compute: Callable[[], list[dict[str, Any]]]) -> None:
    with _refresh_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def refresh() -> None:
        try:
            # Let the page that asked finish first: a server that answers one request at a time
            # (the embedded noida-db) would make it wait for this read.
            time.sleep(REFRESH_DELAY_S)
            started = time.monotonic()
            rows = compute()
            kept = _queues.get(key)
            if kept is not None and kept[0] < started:  # not cleared (a change here) nor replaced meanwhile
                # what was handled here while it read may still be in what it read
                late = {i for i, at in list(_forgotten.items()) if at >= started}
                known = {row["id"]: row for row in kept[1]}
                for row in rows:  # a thread's post and parent do not change: keep those already read
                    if row["id"] in known and "post" in known[row["id"]]:
                        row["post"], row["parent"] = known[row["id"]]["post"], known[row["id"]].get("parent")
                _queues[key] = (time.monotonic(), [row for row in rows if row["id"] not in late])
        except Exception:  # the next request reads it in the foreground and reports any error
            log.debug("background queue refresh failed", exc_info=True)
        finally:
            with _refresh_lock:
                _refreshing.discard(key)

    threading.Thread(target=refresh, name="queue-refresh", daemon=True).start()


def thread(key: tuple[Any, ...], compute: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A thread's items, read again after ``QUEUE_TTL_S`` seconds or after ``invalidate``."""
    kept = _threads.get(key)
    if kept and time.monotonic() - kept[0] < QUEUE_TTL_S:
        return kept[1]
    docs = compute()
    _threads[key] = (time.monotonic(), docs)
    return docs


def forget(ids: list[str]) -> None:
    """These mentions were handled here: out of every kept queue (the queries exclude them too), and
    handled in the kept threads."""
    gone = set(ids)
    now = time.monotonic()
    for old in [i for i, at in _forgotten.items() if now - at > QUEUE_STALE_S]:
        _forgotten.pop(old, None)
    _forgotten.update(dict.fromkeys(gone, now))
    for key, (at, rows) in list(_queues.items()):
        _queues[key] = (at, [row for row in rows if row["id"] not in gone])
    for _, docs in _threads.values():
        for doc in docs:
            if doc.get("id") in gone:
                doc["handled"] = True


def relabel(mention_id: str, labels: dict[str, Any], fetch: Callable[[list[str]], dict[str, dict[str, Any]]]) -> None:
    """A label correction made here. The tone changes no queue: the kept rows and threads take it
    as is; "not criticism" takes the mention out of the answer queues; anything else (a new
    criticism, toxicity, constructiveness, topics) may add or reorder items: ``put_back``."""
    if set(labels) - {"sentiment", "criticism"} or labels.get("criticism") is True:
        put_back([mention_id], fetch)
        return
    for key, (at, rows) in list(_queues.items()):
        if labels.get("criticism") is False and "answer" in key:
            rows = [row for row in rows if row["id"] != mention_id]
        for row in rows:
            if row["id"] == mention_id:
                row.update(labels)
        _queues[key] = (at, rows)
    for _, docs in _threads.values():
        for doc in docs:
            if doc.get("id") == mention_id:
                doc.update(labels)


def put_back(ids: list[str], fetch: Callable[[list[str]], dict[str, dict[str, Any]]]) -> None:
    """These mentions changed here so that a queue may gain them (reopened, unhidden, relabelled).
    Each kept queue of documents (see ``queue``) takes them as they are now, by ``fetch(ids)`` (a
    multi-get by id) and its query tested here — the others, and the kept threads
    holding them, are read again. The CM sees the change at once; nothing else is read.
    ``fetch`` returns whole documents: the query tests fields the rows do not hold (handled…)."""
    changed = set(ids)
    for mention_id in changed:
        _forgotten.pop(mention_id, None)
    patchable = {key: _admission[key] for key in _queues if key in _admission}
    docs = fetch(sorted(changed)) if patchable and changed else {}
    for key, (_, rows) in list(_queues.items()):
        if key not in patchable:
            _queues.pop(key, None)
            continue
        query, wanted = patchable[key]
        try:
            admitted = [doc for doc in docs.values() if matches_query(doc, query)]
        except Unsupported:
            _queues.pop(key, None)
            continue
        kept = [row for row in rows if row.get("id") not in changed]
        keep = {*wanted, "_index"}
        kept.extend({k: v for k, v in doc.items() if k in keep} for doc in admitted)
        _queues[key] = (time.monotonic(), kept)  # a re-read behind that began before is not kept
    for key, (_, items) in list(_threads.items()):
        if any(doc.get("id") in changed for doc in items):
            _threads.pop(key, None)


def invalidate() -> None:
    """Labels or handled states changed so that a queue may gain items: read them (and threads) again."""
    _queues.clear()  # a background read finishing later finds its key gone and keeps nothing
    _threads.clear()


def remember_threads(rows: list[dict[str, Any]]) -> None:
    if len(threads) > THREADS_KEPT:
        threads.clear()
    threads.update({row["id"]: row["thread_id"] for row in rows if row.get("id") and row.get("thread_id")})
