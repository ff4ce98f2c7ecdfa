"""What one inbox process keeps between requests, so a page asks Elasticsearch only what changed:
ranked queues (``QUEUE_TTL_S``), slow-changing values (the filter bar, the newest day), and which
thread each mention shown belongs to. Changes made through this process update or clear them at
once; changes made elsewhere (new mentions, scheduled rules, another process) show within the TTLs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

QUEUE_TTL_S = 30
THREADS_KEPT = 100_000

_values: dict[Any, tuple[float, Any]] = {}
_queues: dict[tuple[Any, ...], tuple[float, list[dict[str, Any]]]] = {}
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


def queue(key: tuple[Any, ...], compute: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A ranked queue's rows, read again after ``QUEUE_TTL_S`` seconds or after ``invalidate``."""
    kept = _queues.get(key)
    if kept and time.monotonic() - kept[0] < QUEUE_TTL_S:
        return kept[1]
    rows = compute()
    _queues[key] = (time.monotonic(), rows)
    return rows


def forget(ids: list[str]) -> None:
    """These mentions were handled here: out of every kept queue (the queries exclude them too)."""
    gone = set(ids)
    for key, (at, rows) in list(_queues.items()):
        _queues[key] = (at, [row for row in rows if row["id"] not in gone])


def invalidate() -> None:
    """Labels or handled states changed so that a queue may gain items: read them again."""
    _queues.clear()


def remember_threads(rows: list[dict[str, Any]]) -> None:
    if len(threads) > THREADS_KEPT:
        threads.clear()
    threads.update({row["id"]: row["thread_id"] for row in rows if row.get("id") and row.get("thread_id")})
