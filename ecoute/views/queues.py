"""The community manager's work queues, read from Elasticsearch.

- **moderate**: toxic or shocking items not yet handled: threats first, then the other toxic items,
  then counter-speech and near-misses to review (``toxic_categories`` set, ``toxic`` false); newest
  first within each.
- **answer**: criticism the brand has not answered and nobody marked handled, ranked by
  ``ecoute.views.ranking`` (waiting, then stale; constructive first; reach × a waiting boost that
  saturates; agreement and community answers stay in their thread), each with its thread context
  (the post and the parent comment) and the reason it is there.
- **questions**: members' questions the brand has not answered, newest first; those another member
  already answered come after, apart, to be confirmed; a newcomer's question is marked.
- **welcome**: people whose first item ever was posted on a given day, so they can be welcomed (a
  newcomer who asked a question is marked).

``*_page`` functions return one page (``ranking.QueuePage``: items, total, sections) for the
inbox and its API; ``*_queue`` the first page's items, for the command line.

``mark_handled`` stores ``handled``/``handled_at`` on the mention itself (in its monthly index), so
the queues, the rollups and Kibana all see the same state. Nothing is kept anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elasticsearch import ApiError

from ecoute.es import make_client, scan_docs
from ecoute.settings import Settings
from ecoute.views.common import (
    NOT_BRAND,
    author_label,
    day_start,
    facet_filters,
    fetch_by_ids,
    get_many,
    iso,
    period_filters,
)
from ecoute.views.members import answered_by_members, authors_seen_before, first_day_items
from ecoute.views.ranking import (
    PAGE_SIZE,
    QueuePage,
    mark_newcomers,
    page_bounds,
    rank_answer,
    rank_questions,
    reason_text,
    section_counts,
)

__all__ = ["authors_seen_before", "facet_filters"]  # the inbox reads them from here

ITEM_FIELDS = [
    "id",
    "source",
    "kind",
    "channel",
    "author",
    "text",
    "url",
    "created_at",
    "parent_id",
    "thread_id",
    "lang",
    "topics",
    "sentiment",
    "sentiment_score",
    "toxic",
    "toxic_score",
    "toxic_categories",
    "criticism",
    "constructive",
    "question",
    "answered_by_brand",
    "handled",
    "metrics",
    "toxic_evidence",
]
# What a queue page shows of its own items (the inbox's cards need the toxicity and labeller fields).
DETAIL_FIELDS = [*ITEM_FIELDS, "constructive_score", "brand_answered_at", "labeller_version"]
# What ranking reads of every candidate (the page's items are then read in full).
RANK_FIELDS = [
    "id",
    "kind",
    "created_at",
    "criticism",
    "constructive",
    "sentiment",
    "metrics",
    "author",
    "thread_id",
    "parent_id",
]
# Candidates ranked per request: one search. Past this many unanswered items, the newest are ranked.
MAX_CANDIDATES = 10_000


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


def _candidates(client: Any, index: str, query: dict[str, Any], fields: list[str]) -> list[dict[str, Any]]:
    """A queue's candidates for ranking in Python: unsorted (sorting costs the embedded server a
    sixth of the search), unless there are more than MAX_CANDIDATES — then the newest ones."""
    try:
        response = client.search(index=index, query=query, size=MAX_CANDIDATES, _source=fields, track_total_hits=True)
    except ApiError as exc:
        if exc.meta.status == 404:  # nothing enriched yet: empty queue, not an error
            return []
        raise
    hits = response["hits"]["hits"]
    if int(response["hits"]["total"]["value"]) > len(hits):
        return _search(
            client, index, query=query, size=MAX_CANDIDATES, sort=[{"created_at": {"order": "desc"}}], _source=fields
        )
    return [dict(hit["_source"], _index=hit["_index"]) for hit in hits]


def _all(client: Any, index: str, query: dict[str, Any], fields: list[str]) -> list[dict[str, Any]]:
    """Every match: one search when they fit in one (a scroll costs several round trips), else a scan."""
    try:
        response = client.search(index=index, query=query, size=MAX_CANDIDATES, _source=fields, track_total_hits=True)
        hits = response["hits"]["hits"]
        if int(response["hits"]["total"]["value"]) <= len(hits):
            return [dict(hit["_source"], _index=hit["_index"]) for hit in hits]
        return list(scan_docs(client, index, query, fields))  # a busy page's day: more than one search holds
    except ApiError as exc:
        if exc.meta.status == 404:
            return []
        raise


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
        "toxic_categories": [doc["toxic_categories"]]
        if isinstance(doc.get("toxic_categories"), str)
        else list(doc.get("toxic_categories") or []),
    }


# Moderation priority as constant scores (sorted on _score, then newest first): a threat outranks
# any other toxic item, which outranks counter-speech or a near-miss kept for review.
FLAGGED_THREAT = {"bool": {"filter": [{"term": {"toxic": True}}, {"term": {"toxic_categories": "threat"}}]}}
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
        client,
        settings.indices.mentions,
        query=query,
        size=limit,
        sort=[{"_score": {"order": "desc"}}, {"created_at": {"order": "desc"}}],
        _source=ITEM_FIELDS,
    )
    rows = []
    for doc in docs:
        row = _row(doc, settings, doc.get("toxic_score"))
        categories = doc.get("toxic_categories") or []
        row["categories"] = [categories] if isinstance(categories, str) else list(categories)
        row["review"] = not doc.get("toxic")
        row["evidence"] = list(doc.get("toxic_evidence") or [])
        rows.append(row)
    # The server sorted by the priorities above; re-sorted here (stable: newest first stays within
    # each rank) so that no server's scoring quirk can put anything above a flagged threat.
    rows.sort(key=lambda r: (r["review"], "threat" not in r["categories"]))
    return rows


def answer_page(
    settings: Settings,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    channel: str | None = None,
    since: date | datetime | None = None,
    client: Any = None,
    extra_filters: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
    lang: str = "fr",
    candidates: list[dict[str, Any]] | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> QueuePage:
    """One page of criticism by people without a brand reply and not handled, ranked (see
    ``ecoute.views.ranking``). Each row carries ``constructive``, ``section``, ``priority``,
    ``reasons``/``reason`` and its thread context: ``post`` (the thread's post) and, for a reply,
    ``parent`` (the comment it answers); either is None when not ingested. A flagged threat is never
    here, whatever its criticism label (it belongs to moderation).

    ``candidates``: what ``answer_candidates`` read, when the caller kept it (the inbox does, a few
    seconds); ``keep``: a search that narrows them before ranking, so totals and pages are the search's."""
    client = client or make_client(settings)
    if candidates is None:
        candidates = answer_candidates(
            settings, channel=channel, since=since, client=client, extra_filters=extra_filters
        )
    if keep is not None:
        candidates = [c for c in candidates if keep(c)]
    ranked = rank_answer(candidates, now)
    start, end = page_bounds(page, page_size)
    chosen = ranked[start:end]
    docs = _page_docs(client, settings, [r["doc"] for r in chosen])
    context = _context_docs(client, settings, [r["doc"] for r in chosen], ("thread_id", "parent_id"))
    rows = []
    for ranked_row in chosen:
        doc = docs.get(ranked_row["doc"]["id"])
        if doc is None:  # gone between the two reads (erased): the next page view is exact again
            continue
        row = _row(doc, settings, doc.get("sentiment_score"))
        row["constructive"] = bool(doc.get("constructive"))
        post = context.get(doc.get("thread_id") or "")
        parent_id = doc.get("parent_id")
        parent = context.get(parent_id) if parent_id and parent_id != doc.get("thread_id") else None
        row["post"] = _context(post, settings) if post else None
        row["parent"] = _context(parent, settings) if parent else None
        row["age_hours"] = _age_hours(doc.get("created_at"), now)
        _ranked_fields(row, ranked_row, lang)
        row["priority"] = ranked_row["priority"]
        rows.append(row)
    return QueuePage(rows, len(ranked), max(1, page), page_size, section_counts(ranked), docs)


def answer_candidates(
    settings: Settings,
    *,
    channel: str | None = None,
    since: date | datetime | None = None,
    client: Any = None,
    extra_filters: list[dict[str, Any]] | None = None,
    extra_fields: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The answer queue's candidates, unranked (one search; ``extra_fields`` for a caller's search)."""
    client = client or make_client(settings)
    query = answer_query(channel=channel, since=since, extra_filters=extra_filters)
    return _candidates(client, settings.indices.mentions, query, [*RANK_FIELDS, *extra_fields])


def answer_query(
    *,
    channel: str | None = None,
    since: date | datetime | None = None,
    extra_filters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What makes a mention an answer queue candidate (ecoute/views/matching.py tests one mention on it)."""
    return {
        "bool": {
            "filter": [{"term": {"criticism": True}}, *period_filters(since, None, channel), *(extra_filters or [])],
            "must_not": [{"term": {"answered_by_brand": True}}, {"term": {"handled": True}}, NOT_BRAND, FLAGGED_THREAT],
        }
    }


def answer_queue(settings: Settings, *, limit: int = 50, **kwargs: Any) -> list[dict[str, Any]]:
    """The answer queue's first ``limit`` items (see ``answer_page``)."""
    return answer_page(settings, page_size=limit, **kwargs).items


def questions_candidates(
    settings: Settings,
    *,
    channel: str | None = None,
    since: date | datetime | None = None,
    client: Any = None,
    extra_filters: list[dict[str, Any]] | None = None,
    extra_fields: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The questions queue's candidates and the members' replies that may answer them, unranked."""
    client = client or make_client(settings)
    either = questions_query(channel=channel, since=since, extra_filters=extra_filters)
    return _candidates(client, settings.indices.mentions, either, [*QUESTION_FIELDS, *extra_fields])


QUESTION_FIELDS = [*RANK_FIELDS, "question", "answered_by_brand", "handled"]


def questions_query(
    *,
    channel: str | None = None,
    since: date | datetime | None = None,
    extra_filters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The questions queue's candidates and the members' replies that may answer them."""
    questions = {
        "bool": {
            "filter": [{"term": {"question": True}}, *period_filters(since, None, channel), *(extra_filters or [])],
            "must_not": [{"term": {"answered_by_brand": True}}, {"term": {"handled": True}}, NOT_BRAND],
        }
    }
    # One search reads the questions and the members' replies that may answer them: the embedded
    # server charges each search a pass over the index, so a page costs what its searches do.
    replies = {
        "bool": {
            "filter": [{"term": {"kind": "reply"}}, *period_filters(since, None, channel)],
            "must_not": [NOT_BRAND, {"term": {"question": True}}],
        }
    }
    return {"bool": {"should": [questions, replies], "minimum_should_match": 1}}


def questions_page(
    settings: Settings,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    channel: str | None = None,
    since: date | datetime | None = None,
    client: Any = None,
    extra_filters: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
    lang: str = "fr",
    candidates: list[dict[str, Any]] | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> QueuePage:
    """One page of members' questions without a brand reply and not handled: open ones newest first,
    then those another member answered (``community_answered``, to confirm with one click: marking
    it handled). ``newcomer`` marks a question asked on its author's first day.

    ``candidates``: what ``questions_candidates`` read, when the caller kept it; ``keep``: a search
    that narrows the questions (not the replies that may answer them) before ranking."""
    client = client or make_client(settings)
    hits = candidates
    if hits is None:
        hits = questions_candidates(settings, channel=channel, since=since, client=client, extra_filters=extra_filters)
    candidates = [
        h
        for h in hits
        if h.get("question") and not h.get("answered_by_brand") and not h.get("handled") and (keep is None or keep(h))
    ]
    answers = answered_by_members(candidates, hits)
    ranked = rank_questions(candidates, set(answers), set(), now)
    start, end = page_bounds(page, page_size)
    chosen = ranked[start:end]
    mark_newcomers(chosen, first_day_items(client, settings, [r["doc"] for r in chosen]))
    docs = _page_docs(client, settings, [r["doc"] for r in chosen])
    shown = {str(r["doc"]["id"]): answers[str(r["doc"]["id"])] for r in chosen if str(r["doc"]["id"]) in answers}
    posts = _context_docs(client, settings, [r["doc"] for r in chosen], ("thread_id",))
    answer_docs = {a["id"]: a.get("_index") for a in shown.values()}
    replies = get_many(client, settings.indices.mentions, answer_docs, ITEM_FIELDS)
    rows = []
    for ranked_row in chosen:
        doc = docs.get(ranked_row["doc"]["id"])
        if doc is None:
            continue
        row = _row(doc, settings, None)
        post = posts.get(doc.get("thread_id") or "")
        row["post"] = _context(post, settings) if post and post.get("id") != doc.get("id") else None
        row["age_hours"] = _age_hours(doc.get("created_at"), now)
        row["newcomer"] = ranked_row["newcomer"]
        row["community_answered"] = ranked_row["community_answered"]
        answer = replies.get(str((shown.get(str(doc.get("id"))) or {}).get("id")))
        row["community_answer"] = _context(answer, settings) if answer else None
        _ranked_fields(row, ranked_row, lang)
        rows.append(row)
    return QueuePage(rows, len(ranked), max(1, page), page_size, section_counts(ranked), docs)


def questions_queue(settings: Settings, *, limit: int = 50, **kwargs: Any) -> list[dict[str, Any]]:
    """The questions queue's first ``limit`` items (see ``questions_page``)."""
    return questions_page(settings, page_size=limit, **kwargs).items


def _page_docs(client: Any, settings: Settings, chosen: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The page's items in full, read where the ranking search found them."""
    return get_many(client, settings.indices.mentions, {d["id"]: d.get("_index") for d in chosen}, DETAIL_FIELDS)


def _context_docs(
    client: Any, settings: Settings, chosen: list[dict[str, Any]], keys: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """The items' posts and parents, looked for first in the item's own monthly index."""
    wanted: dict[str, str | None] = {}
    for doc in chosen:
        for key in keys:
            if doc.get(key):
                wanted.setdefault(doc[key], doc.get("_index"))
    return get_many(client, settings.indices.mentions, wanted, ITEM_FIELDS)


def _ranked_fields(row: dict[str, Any], ranked_row: dict[str, Any], lang: str) -> None:
    row["section"] = ranked_row["section"]
    row["reasons"] = [{"code": code, **values} for code, values in ranked_row["reasons"]]
    row["reason"] = reason_text(ranked_row["reasons"], lang)


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


def _age_hours(created_at: str | None, now: datetime | None = None) -> float | None:
    if not created_at:
        return None
    created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return round(((now or datetime.now(UTC)) - created).total_seconds() / 3600, 1)


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
    docs = sorted(_all(client, settings.indices.mentions, query, ITEM_FIELDS), key=lambda d: d.get("created_at") or "")
    first: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    asked: set[str] = set()  # newcomers who asked a question that day: the questions queue marks it too
    for doc in docs:
        author = (doc.get("author") or {}).get("id")
        if not author:
            continue
        counts[author] = counts.get(author, 0) + 1
        first.setdefault(author, doc)
        if doc.get("question"):
            asked.add(author)
    returning = authors_seen_before(client, settings, list(first), day_start(day))
    rows = []
    for author, doc in first.items():
        if author in returning or doc.get("handled"):
            continue
        row = _row(doc, settings, None)
        row["items_today"] = counts[author]
        row["answered_by_brand"] = bool(doc.get("answered_by_brand"))
        row["asked_question"] = author in asked
        rows.append(row)
    return rows[:limit]


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
            index=doc["_index"],
            id=event_id,
            doc={"handled": handled, "handled_at": now if handled else None},
            refresh="wait_for",
        )
    return list(found)


def queue_since(days: int | None) -> datetime | None:
    return None if days is None else datetime.now(UTC) - timedelta(days=days)
