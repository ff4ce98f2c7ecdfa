"""What the inbox pages show: the queues (from ecoute/views/queues.py), a thread and its mood."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import ApiError

from ecoute.es import scan_docs
from ecoute.views.common import NOT_BRAND, author_label, fetch_by_ids
from ecoute.views.queues import (
    ITEM_FIELDS,
    MAX_CANDIDATES,
    answer_page,
    facet_filters,
    moderate_queue,
    questions_page,
    welcome_queue,
)
from ecoute.views.ranking import PAGE_SIZE, QueuePage, page_bounds
from inbox.actions import Services

QUEUES = ("moderate", "answer", "questions", "welcome")
# Threats come first in the moderation queue, then the other categories in this order.
CATEGORY_ORDER = ("threat", "hate", "harassment", "sexual", "insult")
DETAIL_FIELDS = [*ITEM_FIELDS, "toxic_categories", "toxic_evidence", "constructive_score", "brand_answered_at", "labeller_version"]
# Rows read from a queue before ranking (the page shows the first `limit`): enough to rank a busy
# day's backlog, small enough for the embedded server to answer in a second or two.
FETCH_LIMIT = 120
CONTEXT_AROUND = 5  # comments shown before and after the one opened; the rest folds away


# Days a filter may name: older or later ones are typing errors (and 9999-12-31 + 1 day overflows).
FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2100, 12, 31)


class BadFilter(ValueError):
    """A query parameter that cannot be used; the message names it (the app answers 400)."""


@dataclass
class Filters:
    channel: str | None = None
    source: str | None = None
    lang: str | None = None
    topic: str | None = None
    start: date | None = None
    end: date | None = None
    day: date | None = None  # the welcome queue's day

    @classmethod
    def parse(cls, params: Any) -> Filters:
        def text(name: str) -> str | None:
            value = (params.get(name) or "").strip()
            return value or None

        def day(name: str) -> date | None:
            value = text(name)
            if not value:
                return None
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is None or not FIRST_DAY <= parsed <= LAST_DAY:
                raise BadFilter(f"{name}: expected a day YYYY-MM-DD from {FIRST_DAY} to {LAST_DAY}, got {value[:40]!r}")
            return parsed

        filters = cls(text("channel"), text("source"), text("lang"), text("topic"), day("start"), day("end"), day("day"))
        if filters.start and filters.end and filters.start > filters.end:
            raise BadFilter(f"start ({filters.start}) is after end ({filters.end})")
        return filters

    def as_query(self) -> dict[str, str]:
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items() if v}


def queue(
    services: Services, name: str, filters: Filters, page: int = 1, page_size: int = PAGE_SIZE, lang: str = "fr"
) -> QueuePage:
    """One page of a queue (items ranked, the queue's total), enriched with labels and inbox work state."""
    settings, client = services.settings, services.store.client
    extra = facet_filters(source=filters.source, lang=filters.lang, topic=filters.topic, until=filters.end)
    common = {"channel": filters.channel, "since": filters.start, "client": client, "extra_filters": extra}
    if name in ("answer", "questions"):
        ranked = answer_page if name == "answer" else questions_page
        result = ranked(settings, page=page, page_size=page_size, lang=lang, **common)
        _attach_details(services, result.items, result.docs)
        return result
    if name == "moderate":
        rows = moderate_queue(settings, limit=MAX_CANDIDATES, **common)
        # flagged before "to review" (counter-speech), then threats first, then the other categories
        rows.sort(key=lambda r: (bool(r.get("review")), _category_rank(r["categories"]), -(r.get("score") or 0)))
    elif name == "welcome":
        day = filters.day or latest_day(services) or datetime.now(UTC).date()
        rows = welcome_queue(settings, day=day, channel=filters.channel, client=client, extra_filters=extra, limit=MAX_CANDIDATES)
    else:
        raise KeyError(name)
    start, end = page_bounds(page, page_size)
    result = QueuePage(rows[start:end], len(rows), max(1, page), page_size)
    _attach_details(services, result.items)
    return result


def _category_rank(categories: list[str]) -> int:
    ranks = [CATEGORY_ORDER.index(c) for c in categories if c in CATEGORY_ORDER]
    return min(ranks, default=len(CATEGORY_ORDER))


def _attach_details(services: Services, rows: list[dict[str, Any]], docs: dict[str, dict[str, Any]] | None = None) -> None:
    """Labels and inbox work state on each row (``docs``: the rows' documents when already read)."""
    ids = [row["id"] for row in rows]
    if docs is None:
        docs = fetch_by_ids(services.store.client, services.settings.indices.mentions, ids, DETAIL_FIELDS)
    work = services.store.items(ids)
    for row in rows:
        doc = docs.get(row["id"], {})
        row["toxic_categories"] = list(doc.get("toxic_categories") or [])  # absent until the labeller sets it
        row["toxic_evidence"] = list(doc.get("toxic_evidence") or [])  # why it was flagged (labeller 2026.12-4 on)
        for key in ("sentiment", "criticism", "constructive", "toxic", "toxic_score", "thread_id", "parent_id"):
            row.setdefault(key, doc.get(key))
        row["constructive_score"] = doc.get("constructive_score")
        row["replies"] = int((doc.get("metrics") or {}).get("replies") or 0)
        row["author_id"] = (doc.get("author") or {}).get("id")
        state = work.get(row["id"], {})
        row["assigned_to"] = state.get("assigned_to")
        row["tags"] = state.get("tags") or []
        row["notes"] = len(state.get("notes") or [])


def latest_day(services: Services) -> date | None:
    """The UTC day of the newest mention by a person (the welcome queue opens on it)."""
    try:
        response = services.store.client.search(
            index=services.settings.indices.mentions, size=1, query={"bool": {"must_not": [NOT_BRAND]}},
            sort=[{"created_at": {"order": "desc"}}], _source=["created_at"],
        )  # fmt: skip
    except ApiError as exc:
        if exc.meta.status == 404:
            return None
        raise
    hits = response["hits"]["hits"]
    return parse_time(hits[0]["_source"]["created_at"]).date() if hits else None


def web_link(url: Any) -> str | None:
    """A link the page may show: http(s) with a host only (never javascript:, data: or a relative path)."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


FACETS_TTL_S = 60.0  # the filter bar's values change with new pages or languages, not per request
_facets_cache: dict[str, tuple[float, dict[str, list[str]]]] = {}


def facets(services: Services) -> dict[str, list[str]]:
    """Values offered in the filter bar (terms aggregations on the mentions index), kept a minute:
    each aggregation is a pass over the index, and every queue page shows the bar."""
    import time

    index = services.settings.indices.mentions
    cached = _facets_cache.get(index)
    if cached and time.monotonic() - cached[0] < FACETS_TTL_S:
        return cached[1]
    values = _read_facets(services)
    _facets_cache[index] = (time.monotonic(), values)
    return values


def _read_facets(services: Services) -> dict[str, list[str]]:
    fields = {"channel": "channel", "source": "source", "lang": "lang", "topic": "topics"}
    try:
        response = services.store.client.search(
            index=services.settings.indices.mentions, size=0,
            aggs={name: {"terms": {"field": field, "size": 50}} for name, field in fields.items()},
        )  # fmt: skip
    except ApiError as exc:
        if exc.meta.status == 404:
            return {name: [] for name in fields}
        raise
    return {name: sorted(b["key"] for b in response["aggregations"][name]["buckets"]) for name in fields}


def thread(services: Services, mention_id: str) -> dict[str, Any]:
    """A mention in its thread: the post, the parent comment, every item of the thread, its mood."""
    settings, client = services.settings, services.store.client
    focus = services.mention(mention_id)
    thread_id = focus.get("thread_id") or mention_id
    try:
        items = sorted(
            scan_docs(client, settings.indices.mentions, {"term": {"thread_id": thread_id}}, DETAIL_FIELDS),
            key=lambda d: d.get("created_at") or "",
        )
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
        items = []
    by_id = {d["id"]: d for d in items}
    if thread_id not in by_id:  # the post itself has no thread_id pointing to itself in some sources
        by_id.update(fetch_by_ids(client, settings.indices.mentions, [thread_id], DETAIL_FIELDS))
    post = by_id.get(thread_id)
    parent = by_id.get(focus.get("parent_id") or "") if focus.get("parent_id") != thread_id else None
    comments = [_item(d, settings) for d in items if d["id"] != thread_id]
    at = next((i for i, c in enumerate(comments) if c["id"] == mention_id), 0)
    nearby = comments[max(0, at - CONTEXT_AROUND) : at + CONTEXT_AROUND + 1]
    return {
        "focus": _item(focus, settings), "post": _item(post, settings) if post else None,
        "parent": _item(parent, settings) if parent else None, "items": comments, "nearby": nearby,
        "mood": mood(items), "author_ids": sorted({(d.get("author") or {}).get("id") for d in items} - {None}),
        "work": services.store.item(mention_id),
    }  # fmt: skip


def _item(doc: dict[str, Any], settings: Any) -> dict[str, Any]:
    author = doc.get("author") or {}
    return {
        "id": doc.get("id"), "kind": doc.get("kind"), "source": doc.get("source"), "channel": doc.get("channel"),
        "author": author_label(doc, settings), "author_id": author.get("id"), "is_brand": bool(author.get("is_brand")),
        "text": doc.get("text") or "", "url": web_link(doc.get("url")), "created_at": doc.get("created_at"),
        "parent_id": doc.get("parent_id"), "lang": doc.get("lang"), "sentiment": doc.get("sentiment"),
        "sentiment_score": doc.get("sentiment_score"), "toxic": bool(doc.get("toxic")),
        "toxic_score": doc.get("toxic_score"), "toxic_categories": list(doc.get("toxic_categories") or []),
        "toxic_evidence": list(doc.get("toxic_evidence") or []),
        "criticism": bool(doc.get("criticism")), "constructive": bool(doc.get("constructive")),
        "topics": list(doc.get("topics") or []), "handled": bool(doc.get("handled")),
        "likes": int((doc.get("metrics") or {}).get("likes") or 0),
        "answered_by_brand": bool(doc.get("answered_by_brand")),
    }  # fmt: skip


def mood(items: list[dict[str, Any]], buckets: int = 18, width: int = 308, height: int = 130) -> dict[str, Any]:
    """The thread's mood over time as SVG shapes: bars of volume (toxic and negative in colour) and a
    line of mean sentiment. A pile-on shows as a tall red bar; a thread turning sour as a falling line."""
    people = [d for d in items if not (d.get("author") or {}).get("is_brand") and d.get("kind") != "post"]
    if not people:
        return {"bars": [], "line": "", "width": width, "height": height, "labels": []}
    times = [parse_time(d["created_at"]) for d in people]
    start, end = min(times), max(times)
    span = max((end - start).total_seconds(), 3600.0)
    step = span / buckets
    slots = [{"n": 0, "negative": 0, "toxic": 0, "score": 0.0} for _ in range(buckets)]
    for doc, moment in zip(people, times, strict=True):
        slot = slots[min(buckets - 1, int((moment - start).total_seconds() / step))]
        slot["n"] += 1
        slot["toxic"] += bool(doc.get("toxic"))
        slot["negative"] += doc.get("sentiment") == "negative" and not doc.get("toxic")
        slot["score"] += float(doc.get("sentiment_score") or 0.0)
    top = max(s["n"] for s in slots)
    plot = height - 20
    bar_w = width / buckets
    bars, points = [], []
    for i, slot in enumerate(slots):
        x = i * bar_w
        scale = plot / top
        total_h = slot["n"] * scale
        toxic_h = slot["toxic"] * scale
        negative_h = slot["negative"] * scale
        bars.append({
            "x": round(x + 1, 1), "w": round(bar_w - 2, 1), "y": round(plot - total_h, 1), "h": round(total_h, 1),
            "neg_y": round(plot - toxic_h - negative_h, 1), "neg_h": round(negative_h, 1),
            "tox_y": round(plot - toxic_h, 1), "tox_h": round(toxic_h, 1), "n": slot["n"],
            "at": (start + timedelta(seconds=i * step)).strftime("%d/%m %H:%M"),
        })  # fmt: skip
        if slot["n"]:
            mean = slot["score"] / slot["n"]  # -1..1
            points.append(f"{x + bar_w / 2:.1f},{plot / 2 - mean * plot / 2:.1f}")
    labels = [start.strftime("%d/%m %H:%M"), end.strftime("%d/%m %H:%M")]
    return {"bars": bars, "line": " ".join(points), "width": width, "height": height, "labels": labels, "plot": plot}
