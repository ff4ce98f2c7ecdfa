"""Who answered whom and who is new: what the questions and welcome queues need to know of members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from elasticsearch import ApiError

from ecoute.settings import Settings
from ecoute.views.common import day_start, iso

MAX_HITS = 10_000


def _sources(client: Any, index: str, query: dict[str, Any], fields: list[str]) -> list[dict[str, Any]]:
    try:
        response = client.search(index=index, query=query, size=MAX_HITS, _source=fields)
    except ApiError as exc:
        if exc.meta.status == 404:
            return []
        raise
    return [hit["_source"] for hit in response["hits"]["hits"]]


def answered_by_members(questions: list[dict[str, Any]], replies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The questions another member replied to, each with the first such reply (the asker's own
    follow-ups, the brand's replies and replies that are questions themselves do not count)."""
    askers = {str(q["id"]): (q.get("author") or {}).get("id") for q in questions}
    answered: dict[str, dict[str, Any]] = {}
    for reply in replies:
        parent = str(reply.get("parent_id"))
        by_other = parent in askers and (reply.get("author") or {}).get("id") != askers[parent]
        if by_other and reply.get("kind") == "reply" and not reply.get("question"):
            first = answered.get(parent)
            if first is None or str(reply.get("created_at")) < str(first.get("created_at")):
                answered[parent] = reply
    return answered


def first_day_items(client: Any, settings: Settings, items: list[dict[str, Any]]) -> set[str]:
    """Ids of the items posted on their author's first day (nothing of theirs before that UTC day),
    from one read of these authors' earlier items (a search per day costs seconds on noida-db)."""
    posted: dict[str, tuple[str, str]] = {}  # item id -> (author, start of its UTC day)
    for item in items:
        created, author = item.get("created_at"), (item.get("author") or {}).get("id")
        if created and author:
            day = datetime.fromisoformat(str(created).replace("Z", "+00:00")).date()
            posted[str(item["id"])] = (str(author), iso(day_start(day)))
    if not posted:
        return set()
    authors = sorted({author for author, _ in posted.values()})
    latest = max(day for _, day in posted.values())
    first_seen: dict[str, str] = {}
    for offset in range(0, len(authors), 1000):
        query = {
            "bool": {
                "filter": [
                    {"terms": {"author.id": authors[offset : offset + 1000]}},
                    {"range": {"created_at": {"lt": latest}}},
                ]
            }
        }
        for doc in _sources(client, settings.indices.mentions, query, ["author", "created_at"]):
            author, created = str((doc.get("author") or {}).get("id")), str(doc.get("created_at") or "")
            if created and (author not in first_seen or created < first_seen[author]):
                first_seen[author] = created
    # ISO 8601 UTC strings compare as times; an author never seen before their day is new
    return {event_id for event_id, (author, day) in posted.items() if first_seen.get(author, "9999") >= day}


def authors_seen_before(client: Any, settings: Settings, authors: list[str], before: datetime) -> set[str]:
    """Which of these authors have any item created before ``before`` (terms aggregation, chunked)."""
    seen: set[str] = set()
    unique = sorted(set(authors))
    for offset in range(0, len(unique), 5000):  # each search has a fixed cost: few, big chunks
        chunk = unique[offset : offset + 5000]
        query = {"bool": {"filter": [{"terms": {"author.id": chunk}}, {"range": {"created_at": {"lt": iso(before)}}}]}}
        try:
            response = client.search(
                index=settings.indices.mentions,
                size=0,
                query=query,
                aggs={"authors": {"terms": {"field": "author.id", "size": len(chunk)}}},
            )
        except ApiError as exc:
            if exc.meta.status == 404:
                return seen
            raise
        seen.update(bucket["key"] for bucket in response["aggregations"]["authors"]["buckets"])
    return seen
