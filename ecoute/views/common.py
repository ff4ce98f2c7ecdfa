"""Small helpers shared by the queues and the report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from ecoute.events import to_rfc3339
from ecoute.settings import Settings

iso = to_rfc3339  # the views' name for it

# Alert episode colours by severity, shared by the HTML report and the Kibana dashboard.
SEVERITY_COLOURS = {"critical": "#b2182b", "high": "#d6604d", "medium": "#f4a582", "low": "#fddbc7"}
# Items written by the brand itself never enter a queue or a community figure.
NOT_BRAND = {"term": {"author.is_brand": True}}
KQL_COMMUNITY = "not author.is_brand:true"  # the same rule in Kibana's query language


def community(*filters: dict[str, Any]) -> dict[str, Any]:
    """The community's items (never the brand's own) matching every filter."""
    return {"bool": {"filter": list(filters), "must_not": [NOT_BRAND]}}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def period_filters(
    start: date | datetime | None = None, end: date | datetime | None = None, channel: str | None = None
) -> list[dict[str, Any]]:
    """Filters for created_at in [start, end] (dates are whole UTC days, end inclusive) and a channel."""
    bounds: dict[str, str] = {}
    if start is not None:
        bounds["gte"] = iso(start if isinstance(start, datetime) else day_start(start))
    if end is not None:
        bounds["lt"] = iso(end if isinstance(end, datetime) else day_start(end) + timedelta(days=1))
    filters: list[dict[str, Any]] = [{"range": {"created_at": bounds}}] if bounds else []
    if channel:
        filters.append({"term": {"channel": channel}})
    return filters


def author_label(doc: dict[str, Any], settings: Settings) -> str:
    """The display name only when names are kept (settings.store_author_names); else the pseudonym."""
    author = doc.get("author") or {}
    if settings.store_author_names and author.get("name"):
        return str(author["name"])
    return str(author.get("id") or "?")


def fetch_by_ids(client: Elasticsearch, index: str, ids: list[str], source: Any = True) -> dict[str, dict[str, Any]]:
    """Documents by event id across the monthly indices of an alias (mget needs one concrete index)."""
    found: dict[str, dict[str, Any]] = {}
    unique = sorted({i for i in ids if i})
    for offset in range(0, len(unique), 500):
        chunk = unique[offset : offset + 500]
        try:
            response = client.search(index=index, query={"terms": {"id": chunk}}, size=len(chunk), source=source)
        except ApiError as exc:
            if exc.meta.status == 404:
                return found
            raise
        for hit in response["hits"]["hits"]:
            doc = dict(hit.get("_source") or {})
            doc["_index"] = hit["_index"]
            found[hit["_id"]] = doc
    return found


def get_many(
    client: Elasticsearch, alias: str, wanted: dict[str, str | None], source: Any = True
) -> dict[str, dict[str, Any]]:
    """Documents by event id, each first looked up in the concrete index given (one realtime
    multi-get: milliseconds, where a search costs a pass over the index on the embedded server),
    the ones not found there (or without an index) by a search on the alias."""
    found: dict[str, dict[str, Any]] = {}
    known = [(event_id, index) for event_id, index in wanted.items() if event_id and index]
    if known:
        try:
            response = client.mget(
                docs=[{"_index": index, "_id": event_id, "_source": source} for event_id, index in known]
            )
        except ApiError as exc:
            if exc.meta.status != 404:
                raise
        else:
            for doc in response["docs"]:
                if doc.get("found"):
                    found[doc["_id"]] = dict(doc.get("_source") or {}, _index=doc["_index"])
    missing = [event_id for event_id in wanted if event_id and event_id not in found]
    if missing:
        found.update(fetch_by_ids(client, alias, missing, source))
    return found


def facet_filters(
    *,
    source: str | None = None,
    lang: str | None = None,
    topic: str | None = None,
    until: date | datetime | None = None,
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
