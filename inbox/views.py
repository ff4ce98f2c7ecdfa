"""What the inbox pages show: the queues (from ecoute/views/queues.py), a thread and its mood."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from elasticsearch import ApiError

from ecoute.es import scan_docs
from ecoute.views.common import NOT_BRAND, author_label
from ecoute.views.queues import (
    ITEM_FIELDS,
    answer_priority,
    answer_queue,
    attach_context,
    facet_filters,
    moderate_queue,
    paginate,
    welcome_queue,
)
from inbox import cache
from inbox.actions import Services
from inbox.display import Display

QUEUES = ("moderate", "answer", "welcome")
# Threats come first in the moderation queue, then the other categories in this order.
CATEGORY_ORDER = ("threat", "hate", "harassment", "sexual", "insult")
DETAIL_FIELDS = [*ITEM_FIELDS, "toxic_categories", "constructive_score", "brand_answered_at", "labeller_version"]
# Rows of a queue read in one search and ranked here (then paged): a month's backlog of a busy page.
CANDIDATES = 5000
PAGE_SIZE = 50
CONTEXT_AROUND = 5  # comments shown before and after the one opened; the rest folds away
THREAD_PAGE = 2000  # a thread read in one search up to this size



PARAMS = {"lang": "comment_lang"}  # Filters field -> query parameter, where they differ


@dataclass
class Filters:
    """What a queue is narrowed to. ``lang`` is the comments' language (query parameter
    ``comment_lang``: ``lang`` is the interface's); ``q`` searches the text, ``author`` a name or
    pseudonym (or an author id from a link), ``assigned`` is ``me`` or ``nobody``."""

    channel: str | None = None
    source: str | None = None
    lang: str | None = None
    topic: str | None = None
    start: date | None = None
    end: date | None = None
    day: date | None = None  # the welcome queue's day
    q: str | None = None
    author: str | None = None
    assigned: str | None = None


    @classmethod
    def parse(cls, params: Any) -> Filters:
        def text(name: str) -> str | None:
            value = (params.get(PARAMS.get(name, name)) or "").strip()
            return value[:200] or None

        def day(name: str) -> date | None:
            return parse_day(text(name))

        assigned = text("assigned")
        return cls(
            text("channel"), text("source"), text("lang"), text("topic"), day("start"), day("end"), day("day"),
            text("q"), text("author"), assigned if assigned in ("me", "nobody") else None,
        )  # fmt: skip

    def as_query(self) -> dict[str, str]:
        return {
            PARAMS.get(k, k): v.isoformat() if isinstance(v, date) else v
            for k, v in asdict(self).items() if v
        }  # fmt: skip


def parse_day(value: str | None) -> date | None:
    """A day typed as jj/mm/aaaa (what French people write) or YYYY-MM-DD; None when empty or wrong."""
    if not value:
        return None
    try:
        if "/" in value:
            day, month, year = (int(part) for part in value.split("/"))
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        return None


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def queue(services: Services, name: str, filters: Filters, limit: int = 50) -> list[dict[str, Any]]:
    """The first ``limit`` rows of a queue (see ``queue_page``)."""
    return queue_page(services, name, filters, per_page=limit)["items"]


def queue_page(
    services: Services, name: str, filters: Filters, *, page: int = 1, per_page: int = PAGE_SIZE,
    user: str | None = None, lang: str = "fr",
) -> dict[str, Any]:  # fmt: skip
    """One page of a queue, ranked over the whole queue: ``{"items", "total", "page", "per_page"}``.

    The queue's rows come in one search (``CANDIDATES`` at most, ranked here); the text, author and
    "assigned to me" searches narrow them; only the page's rows get their thread context and work
    state (assignment, tags, notes)."""
    settings, client = services.settings, services.store.client
    rows = _narrow(services, ranked(services, name, filters), filters, user, lang)
    result = paginate(rows, page, per_page)
    if name == "answer":  # rows keep their context in the cache: only new ones are fetched
        attach_context(settings, client, [row for row in result["items"] if "post" not in row],
                       fetch=services.store.mentions_by_id)  # fmt: skip
    _attach_work(services, result["items"])
    cache.remember_threads(result["items"])
    return result


def ranked(services: Services, name: str, filters: Filters) -> list[dict[str, Any]]:
    """Every row of a queue, ranked; kept a few seconds in this process (inbox/cache.py)."""
    key = (services.settings.indices.mentions, services.settings.store_author_names, name, filters.channel, filters.source, filters.lang, filters.topic,
           filters.start, filters.end, filters.day)  # fmt: skip
    return cache.queue(key, lambda: _fetch_ranked(services, name, filters))


def _fetch_ranked(services: Services, name: str, filters: Filters) -> list[dict[str, Any]]:
    settings, client = services.settings, services.store.client
    # Days are the page's days (Paris by default), not UTC ones: 17/10 runs from 00:00 to 24:00 there.
    zone = ZoneInfo(settings.inbox.time_zone)
    since = datetime.combine(filters.start, datetime.min.time(), zone) if filters.start else None
    until = datetime.combine(filters.end + timedelta(days=1), datetime.min.time(), zone) if filters.end else None
    extra = facet_filters(source=filters.source, lang=filters.lang, topic=filters.topic, until=until)
    if name == "moderate":
        rows = moderate_queue(
            settings, limit=CANDIDATES, channel=filters.channel, since=since, client=client, extra_filters=extra
        )
        rows.sort(key=lambda r: (_category_rank(r["toxic_categories"]), -(r.get("score") or 0)))
    elif name == "answer":
        rows = answer_queue(
            settings, limit=CANDIDATES, channel=filters.channel, since=since, client=client,
            extra_filters=extra, with_context=False,
        )  # fmt: skip
        now = datetime.now(UTC)
        for row in rows:
            row["priority"] = answer_priority(row, now=now)
        rows.sort(key=lambda r: (not r.get("constructive"), -r["priority"]))
    elif name == "welcome":
        day = filters.day or latest_day(services) or datetime.now(UTC).date()
        rows = welcome_queue(settings, day=day, channel=filters.channel, client=client, extra_filters=extra,
                             limit=CANDIDATES)  # fmt: skip
    else:
        raise KeyError(name)
    return rows


def _narrow(services: Services, rows: list[dict[str, Any]], filters: Filters, user: str | None, lang: str) -> list:
    """The searches: every word of ``q`` in the text (case and accents ignored), ``author`` in the
    name people read (or the author id), ``assigned`` to the user or to nobody."""
    if filters.q:
        words = _fold(filters.q).split()
        rows = [r for r in rows if all(w in _fold(r.get("text") or "") for w in words)]
    if filters.author:
        wanted = _fold(filters.author)
        display = Display(services.settings, lang)
        rows = [r for r in rows if r.get("author_id") == filters.author or wanted in _fold(display.person(r))]
    if filters.assigned:
        assigned = services.store.assignments()
        if filters.assigned == "me":
            rows = [r for r in rows if assigned.get(r["id"]) == user]
        else:
            rows = [r for r in rows if not assigned.get(r["id"])]
    return rows


def _category_rank(categories: list[str]) -> int:
    ranks = [CATEGORY_ORDER.index(c) for c in categories if c in CATEGORY_ORDER]
    return min(ranks, default=len(CATEGORY_ORDER))


def _attach_work(services: Services, rows: list[dict[str, Any]]) -> None:
    work = services.store.items([row["id"] for row in rows])
    for row in rows:
        state = work.get(row["id"], {})
        row["assigned_to"] = state.get("assigned_to")
        row["tags"] = state.get("tags") or []
        row["notes"] = len(state.get("notes") or [])


def latest_day(services: Services) -> date | None:
    """The UTC day of the newest mention by a person (the welcome queue opens on it; a minute old at most)."""
    return cache.cached(("latest_day", services.settings.indices.mentions), 60, lambda: _latest_day(services))


def _latest_day(services: Services) -> date | None:
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


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def facets(services: Services) -> dict[str, list[str]]:
    """Values offered in the filter bar (terms aggregations on the mentions index; one minute old at most)."""
    return cache.cached(("facets", services.settings.indices.mentions), 60, lambda: _facets(services))


def _facets(services: Services) -> dict[str, list[str]]:
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
    """A mention in its thread: the post, the parent comment, every item of the thread, its mood.

    One search when the mention was on a queue page just shown (its thread is remembered), none when
    its thread was read in the last seconds (inbox/cache.py)."""
    settings = services.settings
    thread_id = cache.threads.get(mention_id)
    items = _thread_items(services, thread_id) if thread_id else []
    focus = next((d for d in items if d["id"] == mention_id), None)
    if focus is None:
        focus = services.mention(mention_id)
        if (focus.get("thread_id") or mention_id) != thread_id:
            thread_id = focus.get("thread_id") or mention_id
            items = _thread_items(services, thread_id)
    thread_id = thread_id or mention_id
    by_id = {d["id"]: d for d in items}
    if thread_id not in by_id:  # the post itself has no thread_id pointing to itself in some sources
        by_id.update(services.store.mentions_by_id([thread_id], DETAIL_FIELDS))
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


def warm_thread(services: Services, mention_id: str) -> None:
    """Read a mention's thread into the process's keeping (the pointer or the focus rests on its
    queue card: opening it then takes no search). Shows nothing, so it logs no access."""
    thread_id = cache.threads.get(mention_id)
    if thread_id:
        _thread_items(services, thread_id)


def _thread_items(services: Services, thread_id: str) -> list[dict[str, Any]]:
    """Every item of a thread, oldest first: one search (a scroll only for threads bigger than a page),
    kept a few seconds."""
    return cache.thread((services.settings.indices.mentions, thread_id), lambda: _read_thread(services, thread_id))


def _read_thread(services: Services, thread_id: str) -> list[dict[str, Any]]:
    settings, client = services.settings, services.store.client
    query = {"term": {"thread_id": thread_id}}
    try:
        response = client.search(index=settings.indices.mentions, query=query, size=THREAD_PAGE,
                                  _source=DETAIL_FIELDS, track_total_hits=True)  # fmt: skip
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
        return []
    hits = response["hits"]["hits"]
    if response["hits"]["total"]["value"] > len(hits):
        docs = list(scan_docs(client, settings.indices.mentions, query, DETAIL_FIELDS))
    else:
        docs = [dict(hit["_source"], _index=hit["_index"]) for hit in hits]
    return sorted(docs, key=lambda d: d.get("created_at") or "")


def mentions_about(ids: list[str], services: Services) -> dict[str, dict[str, Any]]:
    """What a list of records is about, by mention id: the text, author and page people read."""
    docs = services.store.mentions_by_id(ids, ["id", "text", "author", "channel", "source", "kind"])
    return {doc_id: _item(doc, services.settings) for doc_id, doc in docs.items()}


def is_hidden(history: list[dict[str, Any]]) -> bool:
    """Whether the mention is hidden on its platform now: the newest hide or unhide that went through
    (``history`` newest first; an undone hide was followed by its unhide)."""
    for record in history:
        if record.get("kind") == "action" and record.get("action") in ("hide", "unhide") and record.get("status") == "done":
            return record["action"] == "hide"
    return False


def sent_replies(records: list[dict[str, Any]], thread_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The brand's replies sent from the inbox, by the mention they answer, that the thread does not
    show yet (the connector brings them in at its next poll): a reply appears once it is sent."""
    present = set(thread_ids)
    sent: dict[str, list[dict[str, Any]]] = {}
    for record in sorted(records, key=lambda r: r.get("at") or ""):
        if record.get("kind") != "action" or record.get("action") != "reply" or record.get("status") != "done":
            continue
        platform_id = record.get("platform_id")
        if platform_id and f"{record.get('source')}:{platform_id}" in present:
            continue  # ingested: the thread shows it already
        sent.setdefault(record["mention_id"], []).append(record)
    return sent


def _item(doc: dict[str, Any], settings: Any) -> dict[str, Any]:
    author = doc.get("author") or {}
    return {
        "id": doc.get("id"), "kind": doc.get("kind"), "source": doc.get("source"), "channel": doc.get("channel"),
        "author": author_label(doc, settings), "author_id": author.get("id"), "is_brand": bool(author.get("is_brand")),
        "text": doc.get("text") or "", "url": doc.get("url"), "created_at": doc.get("created_at"),
        "parent_id": doc.get("parent_id"), "lang": doc.get("lang"), "sentiment": doc.get("sentiment"),
        "sentiment_score": doc.get("sentiment_score"), "toxic": bool(doc.get("toxic")),
        "toxic_score": doc.get("toxic_score"), "toxic_categories": list(doc.get("toxic_categories") or []),
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
            "at": (start + timedelta(seconds=i * step)).isoformat(),
        })  # fmt: skip
        if slot["n"]:
            mean = slot["score"] / slot["n"]  # -1..1
            points.append(f"{x + bar_w / 2:.1f},{plot / 2 - mean * plot / 2:.1f}")
    labels = [start.isoformat(), end.isoformat()]  # shown in the page's time zone
    return {"bars": bars, "line": " ".join(points), "width": width, "height": height, "labels": labels, "plot": plot}
