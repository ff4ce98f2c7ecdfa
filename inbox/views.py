"""What the inbox pages show: the queues (from ecoute/views/queues.py), a thread and its mood."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from elasticsearch import ApiError

from ecoute.es import scan_docs
from ecoute.views.common import NOT_BRAND, author_label
from ecoute.views.queues import (
    ITEM_FIELDS,
    MAX_CANDIDATES,
    QUESTION_FIELDS,
    RANK_FIELDS,
    answer_candidates,
    answer_page,
    answer_query,
    facet_filters,
    moderate_queue,
    questions_candidates,
    questions_page,
    questions_query,
    welcome_queue,
)
from ecoute.views.ranking import PAGE_SIZE, QueuePage, page_bounds
from inbox import cache
from inbox.actions import Services
from inbox.display import Display

QUEUES = ("moderate", "answer", "questions", "welcome")
# Threats come first in the moderation queue, then the other categories in this order.
CATEGORY_ORDER = ("threat", "hate", "harassment", "sexual", "insult")
DETAIL_FIELDS = [
    *ITEM_FIELDS,
    "toxic_categories",
    "toxic_evidence",
    "constructive_score",
    "brand_answered_at",
    "labeller_version",
]
CONTEXT_AROUND = 5  # comments shown before and after the one opened; the rest folds away
THREAD_PAGE = 2000  # a thread read in one search up to this size

PARAMS = {"lang": "comment_lang"}  # Filters field -> query parameter, where they differ
ASSIGNED = ("me", "nobody")
MAX_TEXT = 200  # a search or filter value longer than this is a typing (or pasting) error
LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # what the labeller stores: fr, en, und, pt-BR

# Days a filter may name: older or later ones are typing errors (and 9999-12-31 + 1 day overflows).
FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2100, 12, 31)


class BadFilter(ValueError):
    """A query parameter that cannot be used; the message names it (the app answers 400)."""


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
            param = PARAMS.get(name, name)
            value = (params.get(param) or "").strip()
            if len(value) > MAX_TEXT:
                raise BadFilter(f"{param}: at most {MAX_TEXT} characters, got {len(value)}")
            return value or None

        def day(name: str) -> date | None:
            value = text(name)
            if not value:
                return None
            parsed = parse_day(value)
            if parsed is None or not FIRST_DAY <= parsed <= LAST_DAY:
                raise BadFilter(
                    f"{name}: expected a day YYYY-MM-DD or jj/mm/aaaa from {FIRST_DAY} to {LAST_DAY}, got {value[:40]!r}"
                )
            return parsed

        assigned, lang = text("assigned"), text("lang")
        if assigned and assigned not in ASSIGNED:
            raise BadFilter(f"assigned: expected one of {', '.join(ASSIGNED)}, got {assigned[:40]!r}")
        if lang and not LANG_CODE.match(lang):
            raise BadFilter(f"comment_lang: expected a language code such as fr or en, got {lang[:40]!r}")
        filters = cls(
            text("channel"),
            text("source"),
            lang,
            text("topic"),
            day("start"),
            day("end"),
            day("day"),
            text("q"),
            text("author"),
            assigned,
        )
        if filters.start and filters.end and filters.start > filters.end:
            raise BadFilter(f"start ({filters.start}) is after end ({filters.end})")
        return filters

    def as_query(self) -> dict[str, str]:
        return {PARAMS.get(k, k): v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items() if v}


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


def queue(
    services: Services,
    name: str,
    filters: Filters,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    lang: str = "fr",
    user: str | None = None,
) -> QueuePage:
    """One page of a queue (items ranked over the whole queue, the queue's total), enriched with
    labels and inbox work state.

    A queue's candidates come in one search, kept a few seconds in this process (inbox/cache.py);
    the text, author and "assigned to me" searches narrow them before ranking (so totals, sections
    and pages are the search's); only the page's items are then read in full."""
    settings, client = services.settings, services.store.client
    keep = _search(services, filters, user, lang)
    key = (
        settings.indices.mentions,
        settings.store_author_names,
        name,
        filters.channel,
        filters.source,
        filters.lang,
        filters.topic,
        filters.start,
        filters.end,
        filters.day,
    )
    since, extra = _period(services, filters)
    common: dict[str, Any] = {"channel": filters.channel, "since": since, "client": client, "extra_filters": extra}
    if name in ("answer", "questions"):
        read, ranked = (answer_candidates, answer_page) if name == "answer" else (questions_candidates, questions_page)
        query, fields = (answer_query, RANK_FIELDS) if name == "answer" else (questions_query, QUESTION_FIELDS)
        admission = (query(channel=filters.channel, since=since, extra_filters=extra), [*fields, "text"])
        candidates = cache.queue(key, lambda: read(settings, extra_fields=("text",), **common), admission)
        result = ranked(settings, page=page, page_size=page_size, lang=lang, candidates=candidates, keep=keep, **common)
        _attach_details(services, result.items, result.docs)
    else:
        rows = cache.queue(key, lambda: _ranked_rows(services, name, filters, common))
        if keep is not None:
            rows = [row for row in rows if keep(row)]
        start, end = page_bounds(page, page_size)
        result = QueuePage([dict(row) for row in rows[start:end]], len(rows), max(1, page), page_size)
        _attach_details(services, result.items)
    cache.remember_threads(result.items)
    return result


def _period(services: Services, filters: Filters) -> tuple[datetime | None, list[dict[str, Any]]]:
    """Where the queue starts and the facet filters. Days are the page's days (Paris by default),
    not UTC ones: 17/10 runs from 00:00 to 24:00 there."""
    zone = ZoneInfo(services.settings.inbox.time_zone)
    since = datetime.combine(filters.start, datetime.min.time(), zone) if filters.start else None
    until = datetime.combine(filters.end + timedelta(days=1), datetime.min.time(), zone) if filters.end else None
    return since, facet_filters(source=filters.source, lang=filters.lang, topic=filters.topic, until=until)


def _ranked_rows(services: Services, name: str, filters: Filters, common: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of the moderation or welcome queue, in the queue's order."""
    settings = services.settings
    if name == "moderate":
        rows = moderate_queue(settings, limit=MAX_CANDIDATES, **common)
        # flagged before "to review" (counter-speech), then threats first, then the other categories
        rows.sort(key=lambda r: (bool(r.get("review")), _category_rank(r["categories"]), -(r.get("score") or 0)))
        return rows
    if name == "welcome":
        day = filters.day or latest_day(services) or datetime.now(UTC).date()
        return welcome_queue(
            settings,
            day=day,
            channel=filters.channel,
            client=common["client"],
            extra_filters=common["extra_filters"],
            limit=MAX_CANDIDATES,
        )
    raise KeyError(name)


def _search(
    services: Services, filters: Filters, user: str | None, lang: str
) -> Callable[[dict[str, Any]], bool] | None:
    """The searches, as a test of one candidate (a stored document or a queue row): every word of
    ``q`` in the text (case and accents ignored), ``author`` in the name people read (or the author
    id), ``assigned`` to the user or to nobody. None when nothing is searched."""
    if not (filters.q or filters.author or filters.assigned):
        return None
    settings = services.settings
    words = _fold(filters.q).split() if filters.q else []
    wanted = _fold(filters.author) if filters.author else ""
    display = Display(settings, lang)
    assigned = services.store.assignments() if filters.assigned else {}

    def keep(item: dict[str, Any]) -> bool:
        if words and not all(w in _fold(item.get("text") or "") for w in words):
            return False
        if wanted:
            who = item
            if isinstance(item.get("author"), dict):  # a stored document: as a row shows it
                who = {
                    "author": author_label(item, settings),
                    "author_id": item["author"].get("id"),
                    "is_brand": bool(item["author"].get("is_brand")),
                    "channel": item.get("channel"),
                }
            if who.get("author_id") != filters.author and wanted not in _fold(display.person(who)):
                return False
        if filters.assigned == "me":
            return assigned.get(item["id"]) == user
        if filters.assigned == "nobody":
            return not assigned.get(item["id"])
        return True

    return keep


def _category_rank(categories: list[str]) -> int:
    ranks = [CATEGORY_ORDER.index(c) for c in categories if c in CATEGORY_ORDER]
    return min(ranks, default=len(CATEGORY_ORDER))


def _attach_details(
    services: Services, rows: list[dict[str, Any]], docs: dict[str, dict[str, Any]] | None = None
) -> None:
    """Labels and inbox work state on each row (``docs``: the rows' documents when already read;
    else one multi-get by id)."""
    ids = [row["id"] for row in rows]
    if docs is None:
        docs = services.store.mentions_by_id(ids, DETAIL_FIELDS)
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
    """The UTC day of the newest mention by a person (the welcome queue opens on it; a minute old at most)."""
    return cache.cached(("latest_day", services.settings.indices.mentions), 60, lambda: _latest_day(services))


def _fields(*names: str) -> Any:
    """``_source`` as a list of fields: valid for Elasticsearch, left out of the client's stubs."""
    return list(names)


def _latest_day(services: Services) -> date | None:
    try:
        response = services.store.client.search(
            index=services.settings.indices.mentions,
            size=1,
            query={"bool": {"must_not": [NOT_BRAND]}},
            sort=[{"created_at": {"order": "desc"}}],
            source=_fields("created_at"),
        )
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


def facets(services: Services) -> dict[str, list[str]]:
    """Values offered in the filter bar (terms aggregations on the mentions index), kept a minute:
    each aggregation is a pass over the index, and every queue page shows the bar."""
    return cache.cached(("facets", services.settings.indices.mentions), 60, lambda: _facets(services))


def _facets(services: Services) -> dict[str, list[str]]:
    fields = {"channel": "channel", "source": "source", "lang": "lang", "topic": "topics"}
    try:
        response = services.store.client.search(
            index=services.settings.indices.mentions,
            size=0,
            aggs={name: {"terms": {"field": field, "size": 50}} for name, field in fields.items()},
        )
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
        "focus": _item(focus, settings),
        "post": _item(post, settings) if post else None,
        "parent": _item(parent, settings) if parent else None,
        "items": comments,
        "nearby": nearby,
        "mood": mood(items),
        "author_ids": sorted({(d.get("author") or {}).get("id") for d in items} - {None}),
        "work": services.store.item(mention_id),
    }


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
        response = client.search(
            index=settings.indices.mentions,
            query=query,
            size=THREAD_PAGE,
            source=_fields(*DETAIL_FIELDS),
            track_total_hits=True,
        )
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
        if (
            record.get("kind") == "action"
            and record.get("action") in ("hide", "unhide")
            and record.get("status") == "done"
        ):
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
        "id": doc.get("id"),
        "kind": doc.get("kind"),
        "source": doc.get("source"),
        "channel": doc.get("channel"),
        "author": author_label(doc, settings),
        "author_id": author.get("id"),
        "is_brand": bool(author.get("is_brand")),
        "text": doc.get("text") or "",
        "url": web_link(doc.get("url")),
        "created_at": doc.get("created_at"),
        "parent_id": doc.get("parent_id"),
        "lang": doc.get("lang"),
        "sentiment": doc.get("sentiment"),
        "sentiment_score": doc.get("sentiment_score"),
        "toxic": bool(doc.get("toxic")),
        "toxic_score": doc.get("toxic_score"),
        "toxic_categories": list(doc.get("toxic_categories") or []),
        "toxic_evidence": list(doc.get("toxic_evidence") or []),
        "criticism": bool(doc.get("criticism")),
        "constructive": bool(doc.get("constructive")),
        "topics": list(doc.get("topics") or []),
        "handled": bool(doc.get("handled")),
        "likes": int((doc.get("metrics") or {}).get("likes") or 0),
        "answered_by_brand": bool(doc.get("answered_by_brand")),
    }


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
        bars.append(
            {
                "x": round(x + 1, 1),
                "w": round(bar_w - 2, 1),
                "y": round(plot - total_h, 1),
                "h": round(total_h, 1),
                "neg_y": round(plot - toxic_h - negative_h, 1),
                "neg_h": round(negative_h, 1),
                "tox_y": round(plot - toxic_h, 1),
                "tox_h": round(toxic_h, 1),
                "n": slot["n"],
                "at": (start + timedelta(seconds=i * step)).isoformat(),
            }
        )
        if slot["n"]:
            mean = slot["score"] / slot["n"]  # -1..1
            points.append(f"{x + bar_w / 2:.1f},{plot / 2 - mean * plot / 2:.1f}")
    labels = [start.isoformat(), end.isoformat()]  # shown in the page's time zone
    return {"bars": bars, "line": " ".join(points), "width": width, "height": height, "labels": labels, "plot": plot}
