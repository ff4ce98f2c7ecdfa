"""The community manager's work queues, read from Elasticsearch.

- **moderate**: toxic or shocking items not yet handled: threats first, then the other toxic items,
  then counter-speech and near-misses to review (``toxic_categories`` set, ``toxic`` false); newest
  first within each.
- **answer**: criticism the brand has not answered and nobody marked handled; constructive criticism
  first, then oldest first, each with its thread context (the post and the parent comment).
- **welcome**: people whose first item ever was posted on a given day, so they can be welcomed.

``mark_handled`` stores ``handled``/``handled_at`` on the mention itself (in its monthly index), so
the queues, the rollups and Kibana all see the same state. Nothing is kept anywhere else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from elasticsearch import ApiError

from ecoute.es import make_client, scan_docs
from ecoute.settings import Settings
from ecoute.views.common import NOT_BRAND, author_label, day_start, fetch_by_ids, iso, period_filters

ITEM_FIELDS = [
    "id", "source", "kind", "channel", "author", "text", "url", "created_at", "parent_id", "thread_id", "lang",
    "topics", "sentiment", "sentiment_score", "toxic", "toxic_score", "toxic_categories", "criticism", "constructive", "answered_by_brand", "handled",
    "metrics",
]  # fmt: skip


class UnknownItems(LookupError):
    """Some ids given to ``mark_handled`` are not in the mentions index."""

    def __init__(self, ids: list[str]):
        self.ids = ids
        super().__init__(f"not found in the mentions index: {', '.join(ids)}")


def _search(client: Any, index: str, **body: Any) -> list[dict[str, Any]]:
    try:
        response = client.search(index=index, **body)
    except ApiError as exc:
        if exc.meta.status == 404:  # nothing enriched yet: empty queue, not an error
            return []
        raise
    return [dict(hit["_source"], _index=hit["_index"]) for hit in response["hits"]["hits"]]


def _row(doc: dict[str, Any], settings: Settings, score: float | None) -> dict[str, Any]:
    return {
        "id": doc.get("id"),
        "created_at": doc.get("created_at"),
        "channel": doc.get("channel"),
        "source": doc.get("source"),
        "kind": doc.get("kind"),
        "author": author_label(doc, settings),
        "text": doc.get("text") or "",
        "url": doc.get("url"),
        "lang": doc.get("lang"),
        "topics": list(doc.get("topics") or []),
        "likes": int((doc.get("metrics") or {}).get("likes") or 0),
        "replies": int((doc.get("metrics") or {}).get("replies") or 0),
        "score": None if score is None else round(float(score), 3),
        # What a card shows and a ranking reads, so one search serves a whole page.
        "author_id": (doc.get("author") or {}).get("id"),
        "is_brand": bool((doc.get("author") or {}).get("is_brand")),
        "thread_id": doc.get("thread_id"),
        "parent_id": doc.get("parent_id"),
        **{key: doc.get(key) for key in ("sentiment", "criticism", "constructive", "toxic", "toxic_score")},
        "toxic_categories": [doc["toxic_categories"]] if isinstance(doc.get("toxic_categories"), str)
        else list(doc.get("toxic_categories") or []),
    }


# Moderation priority as constant scores (sorted on _score, then newest first): a threat outranks
# any other toxic item, which outranks counter-speech or a near-miss kept for review.
MODERATION_PRIORITY = [
    {"constant_score": {"filter": {"term": {"toxic": True}}, "boost": 4.0}},
    {"constant_score": {"filter": {"term": {"toxic_categories": "threat"}}, "boost": 2.0}},
    {"constant_score": {"filter": {"exists": {"field": "toxic_categories"}}, "boost": 1.0}},
]


def moderate_queue(
    settings: Settings,
    *,
    limit: int = 50,
    channel: str | None = None,
    since: date | datetime | None = None,
    client: Any = None,
    extra_filters: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Items by people to moderate, not handled yet: threats, other toxic items, then items to review.

    ``score`` is the toxicity score, ``categories`` what it is (insult, threat, hate, harassment,
    sexual) and ``review`` is true for items not flagged toxic (counter-speech that quotes or
    denounces hate): a person looks at them, nothing hides them.
    """
    client = client or make_client(settings)
    query = {
        "bool": {
            "filter": [*period_filters(since, None, channel), *(extra_filters or [])],
            "should": MODERATION_PRIORITY,
            "minimum_should_match": 1,
            "must_not": [{"term": {"handled": True}}, NOT_BRAND],
        }
    }
    docs = _search(
        client, settings.indices.mentions, query=query, size=limit,
        sort=[{"_score": {"order": "desc"}}, {"created_at": {"order": "desc"}}], _source=ITEM_FIELDS,
    )  # fmt: skip
    rows = []
    for doc in docs:
        row = _row(doc, settings, doc.get("toxic_score"))
        categories = doc.get("toxic_categories") or []
        row["categories"] = [categories] if isinstance(categories, str) else list(categories)
        row["review"] = not doc.get("toxic")
        rows.append(row)
    return rows


def answer_queue(
    settings: Settings,
    *,
    limit: int = 50,
    channel: str | None = None,
    since: date | datetime | None = None,
    client: Any = None,
    extra_filters: list[dict[str, Any]] | None = None,
    with_context: bool = True,
) -> list[dict[str, Any]]:
    """Criticism by people without a brand reply and not handled: constructive first, then oldest first.

    Each row carries ``constructive`` and its thread context: ``post`` (the thread's post) and, for a
    reply, ``parent`` (the comment it answers); either is None when not ingested. A caller that
    shows one page of many rows passes ``with_context=False`` and calls ``attach_context`` on that page.
    """
    client = client or make_client(settings)
    query = {
        "bool": {
            "filter": [{"term": {"criticism": True}}, *period_filters(since, None, channel), *(extra_filters or [])],
            "must_not": [{"term": {"answered_by_brand": True}}, {"term": {"handled": True}}, NOT_BRAND],
        }
    }
    sort = [{"constructive": {"order": "desc", "missing": "_last"}}, {"created_at": {"order": "asc"}}]
    docs = _search(client, settings.indices.mentions, query=query, size=limit, sort=sort, _source=ITEM_FIELDS)
    # Elasticsearch already sorted; re-sort in Python so a server's missing/boolean quirks cannot reorder.
    docs.sort(key=lambda d: (not d.get("constructive"), d.get("created_at") or ""))
    rows = []
    for doc in docs:
        row = _row(doc, settings, doc.get("sentiment_score"))
        row["constructive"] = bool(doc.get("constructive"))
        row["age_hours"] = _age_hours(doc.get("created_at"))
        rows.append(row)
    if with_context:
        attach_context(settings, client, rows)
    return rows


def attach_context(settings: Settings, client: Any, rows: list[dict[str, Any]], fetch: Any = None) -> None:
    """Set each row's ``post`` (its thread's post) and ``parent`` (the comment a reply answers);
    ``fetch(ids, fields)`` reads them when given (a multi-get), else a search by ids."""
    context_ids = [i for i in [r.get("thread_id") for r in rows] + [r.get("parent_id") for r in rows] if i]
    if fetch is not None:
        context = fetch(context_ids, ITEM_FIELDS)
    else:
        context = fetch_by_ids(client, settings.indices.mentions, context_ids, ITEM_FIELDS)
    for row in rows:
        post = context.get(row.get("thread_id") or "")
        parent_id = row.get("parent_id")
        parent = context.get(parent_id) if parent_id and parent_id != row.get("thread_id") else None
        row["post"] = _context(post, settings) if post else None
        row["parent"] = _context(parent, settings) if parent else None


def paginate(rows: list[dict[str, Any]], page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """One page of a ranked queue and the size of the whole queue: ``{"items": [...], "total": N}``
    (``GET /api/queues/<name>?page=N`` answers this shape). Pages count from 1."""
    page = max(1, int(page))
    start = (page - 1) * per_page
    return {"items": rows[start : start + per_page], "total": len(rows), "page": page, "per_page": per_page}


def _context(doc: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {
        "id": doc.get("id"),
        "author": author_label(doc, settings),
        "author_id": (doc.get("author") or {}).get("id"),
        "channel": doc.get("channel"),
        "is_brand": bool((doc.get("author") or {}).get("is_brand")),
        "text": doc.get("text") or "",
        "url": doc.get("url"),
        "created_at": doc.get("created_at"),
    }


def _age_hours(created_at: str | None) -> float | None:
    if not created_at:
        return None
    created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return round((datetime.now(UTC) - created).total_seconds() / 3600, 1)


def welcome_queue(
    settings: Settings,
    *,
    day: date | None = None,
    channel: str | None = None,
    limit: int = 200,
    client: Any = None,
    extra_filters: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """First-time commenters of ``day`` (UTC; default today): their first item, oldest first.

    An author is new when nothing of theirs exists before that day (on any channel). Authors whose
    first item was marked handled (welcomed) are left out; ``items_today`` counts their items.
    """
    client = client or make_client(settings)
    day = day or datetime.now(UTC).date()
    query = {"bool": {"filter": [*period_filters(day, day, channel), *(extra_filters or [])], "must_not": [NOT_BRAND]}}
    try:  # a busy page can have more than one search page of items a day: scan them all
        docs = sorted(
            scan_docs(client, settings.indices.mentions, query, ITEM_FIELDS), key=lambda d: d.get("created_at") or ""
        )
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
        docs = []
    first: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    for doc in docs:
        author = (doc.get("author") or {}).get("id")
        if not author:
            continue
        counts[author] = counts.get(author, 0) + 1
        first.setdefault(author, doc)
    returning = authors_seen_before(client, settings, list(first), day_start(day))
    rows = []
    for author, doc in first.items():
        if author in returning or doc.get("handled"):
            continue
        row = _row(doc, settings, None)
        row["items_today"] = counts[author]
        row["answered_by_brand"] = bool(doc.get("answered_by_brand"))
        rows.append(row)
    return rows[:limit]


def authors_seen_before(client: Any, settings: Settings, authors: list[str], before: datetime) -> set[str]:
    """Which of these authors have any item created before ``before`` (terms aggregation, chunked)."""
    seen: set[str] = set()
    unique = sorted(set(authors))
    for offset in range(0, len(unique), 5000):  # each search has a fixed cost: few, big chunks
        chunk = unique[offset : offset + 5000]
        query = {"bool": {"filter": [{"terms": {"author.id": chunk}}, {"range": {"created_at": {"lt": iso(before)}}}]}}
        try:
            response = client.search(
                index=settings.indices.mentions, size=0, query=query,
                aggs={"authors": {"terms": {"field": "author.id", "size": len(chunk)}}},
            )  # fmt: skip
        except ApiError as exc:
            if exc.meta.status == 404:
                return seen
            raise
        seen.update(bucket["key"] for bucket in response["aggregations"]["authors"]["buckets"])
    return seen


def mark_handled(settings: Settings, ids: list[str], *, handled: bool = True, client: Any = None) -> list[str]:
    """Set ``handled`` (and ``handled_at``, or clear it) on these mentions; return the ids updated.

    Raises ``UnknownItems`` (before writing anything) when an id is not in the index, so a typo
    never silently "handles" nothing.
    """
    client = client or make_client(settings)
    found = fetch_by_ids(client, settings.indices.mentions, ids, ["id"])
    missing = [i for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise UnknownItems(missing)
    now = iso(datetime.now(UTC))
    for event_id, doc in found.items():
        client.update(
            index=doc["_index"], id=event_id, doc={"handled": handled, "handled_at": now if handled else None},
            refresh="wait_for",
        )  # fmt: skip
    return list(found)


def queue_since(days: int | None) -> datetime | None:
    return None if days is None else datetime.now(UTC) - timedelta(days=days)


# ---------------------------------------------------------------------------------------------
# Filters and ranking used by the web inbox (inbox/); the CLI queues above are unchanged by them.
# ---------------------------------------------------------------------------------------------
def facet_filters(
    *, source: str | None = None, lang: str | None = None, topic: str | None = None, until: date | datetime | None = None
) -> list[dict[str, Any]]:
    """Extra filters for the queues: network (source), language, topic, and an end of period (exclusive
    for a datetime, inclusive for a date)."""
    filters: list[dict[str, Any]] = []
    if source:
        filters.append({"term": {"source": source}})
    if lang:
        filters.append({"term": {"lang": lang}})
    if topic:
        filters.append({"term": {"topics": topic}})
    if until is not None:
        filters.extend(period_filters(None, until, None))
    return filters


def answer_priority(row: dict[str, Any], *, now: datetime | None = None) -> float:
    """Constructiveness × reach × time unanswered, for ordering the answer queue.

    Constructiveness is the labeller's constructive score when present, else 1 for constructive
    criticism and 0.3 for the rest; reach grows with the log of likes and replies (a comment 100
    people liked is seen, not 100 times more urgent); time unanswered grows with the square root of
    hours waited, so an old complaint climbs without burying today's.
    """
    import math

    score = row.get("constructive_score")
    constructiveness = float(score) if score is not None else (1.0 if row.get("constructive") else 0.3)
    reach = math.log2(2 + int(row.get("likes") or 0) + int(row.get("replies") or 0))
    created = row.get("created_at")
    if created:
        moment = now or datetime.now(UTC)
        hours = max(0.0, (moment - datetime.fromisoformat(str(created).replace("Z", "+00:00"))).total_seconds() / 3600)
    else:
        hours = 0.0
    return round(constructiveness * reach * math.sqrt(1 + hours), 4)
