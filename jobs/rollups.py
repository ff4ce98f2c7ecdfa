"""Daily rollups: one row per day × channel × source × language × topic in ``ecoute-rollups-daily``.

``compute_daily_rollups(settings, day_from, day_to)`` recomputes every UTC day of the inclusive
range from the enriched mentions (alias ``settings.indices.mentions``) and writes rows with
deterministic ids ``day|channel|source|lang|topic``: re-running overwrites, and rows of the day that
no longer exist (e.g. after a GDPR erasure) are deleted, so a re-run or backfill is always safe.

Per row: volume (community items, i.e. not written by the brand), posts vs comments (replies count
as comments), sentiment counts, the mood index ((positive − negative) / volume, in [−1, 1]), the
negative share, criticism (and how much of it is constructive), toxic items, the brand response
rate and median response time (minutes), unanswered critical items, new authors (first seen that
day, across the whole history), and the brand's own items. ``topic = "_all"`` rows count each item
once; per-topic rows count an item under each of its topics.

Medians and first-seen are computed in Python (pandas) because noida-db lacks percentile and
composite aggregations; the queries used here work on Elasticsearch and noida-db alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ecoute.settings import Settings

log = logging.getLogger(__name__)

ALL_TOPICS = "_all"
DIMENSIONS = ["channel", "source", "lang", "topic"]
SOURCE_FIELDS = [
    "id", "source", "kind", "channel", "author.id", "author.is_brand", "created_at", "lang", "sentiment",
    "topics", "toxic", "criticism", "constructive", "answered_by_brand", "brand_answered_at", "handled",
]  # fmt: skip


def day_bounds(day: date) -> tuple[str, str]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start.isoformat().replace("+00:00", "Z"), (start + timedelta(days=1)).isoformat().replace("+00:00", "Z")


def _range_query(field: str, gte: str | None = None, lt: str | None = None) -> dict[str, Any]:
    bounds = {k: v for k, v in (("gte", gte), ("lt", lt)) if v}
    return {"range": {field: bounds}}


def load_day(client: Any, settings: Settings, day: date) -> list[dict[str, Any]]:
    from ecoute.es import scan_docs

    start, end = day_bounds(day)
    try:
        return list(scan_docs(client, settings.indices.mentions, _range_query("created_at", start, end), SOURCE_FIELDS))
    except Exception as exc:  # the alias does not exist yet: nothing was enriched
        if getattr(getattr(exc, "meta", None), "status", None) == 404:
            return []
        raise


def authors_seen_before(client: Any, settings: Settings, authors: Iterable[str], before: str) -> set[str]:
    """Which of these authors have an item created before ``before`` (terms + terms-agg, chunked)."""
    authors = sorted(set(authors))
    seen: set[str] = set()
    for i in range(0, len(authors), 500):
        chunk = authors[i : i + 500]
        response = client.search(
            index=settings.indices.mentions,
            size=0,
            query={"bool": {"filter": [{"terms": {"author.id": chunk}}, _range_query("created_at", lt=before)]}},
            aggs={"authors": {"terms": {"field": "author.id", "size": len(chunk)}}},
        )
        seen.update(bucket["key"] for bucket in response["aggregations"]["authors"]["buckets"])
    return seen


def rollup_rows(docs: list[dict[str, Any]], day: date, returning_authors: set[str]) -> list[dict[str, Any]]:
    """The rollup rows of one day from its enriched items (pure function: unit-tested)."""
    import pandas as pd

    if not docs:
        return []
    frame = pd.DataFrame(
        {
            "channel": [d.get("channel") or "unknown" for d in docs],
            "source": [d.get("source") or "unknown" for d in docs],
            "lang": [d.get("lang") or "und" for d in docs],
            "kind": [d.get("kind") or "post" for d in docs],
            "author": [(d.get("author") or {}).get("id") for d in docs],
            "is_brand": [bool((d.get("author") or {}).get("is_brand")) for d in docs],
            "sentiment": [d.get("sentiment") for d in docs],
            "topics": [list(d.get("topics") or []) for d in docs],
            "toxic": [bool(d.get("toxic")) for d in docs],
            "criticism": [bool(d.get("criticism")) for d in docs],
            "constructive": [bool(d.get("criticism")) and bool(d.get("constructive")) for d in docs],
            "answered": [bool(d.get("answered_by_brand")) for d in docs],
            # Marked done in the community manager's queue (`ecoute queue done`): not "unanswered" any more.
            "handled": [bool(d.get("handled")) for d in docs],
            "created_at": pd.to_datetime([d.get("created_at") for d in docs], utc=True, format="ISO8601"),
            "answered_at": pd.to_datetime([d.get("brand_answered_at") for d in docs], utc=True, format="ISO8601"),
        }
    )
    frame["response_minutes"] = (frame["answered_at"] - frame["created_at"]).dt.total_seconds() / 60
    frame.loc[~frame["answered"] | (frame["response_minutes"] < 0), "response_minutes"] = float("nan")
    # A new author is one whose first item ever is on this day: count them on their first item only.
    frame = frame.sort_values("created_at", kind="stable")
    community = ~frame["is_brand"]
    first_today = community & frame["author"].notna() & ~frame["author"].isin(returning_authors)
    frame["new_author"] = first_today & ~frame.duplicated("author")

    all_rows = frame.assign(topic=ALL_TOPICS)
    per_topic = frame.explode("topics").dropna(subset=["topics"]).rename(columns={"topics": "topic"})
    long = pd.concat([all_rows.drop(columns=["topics"]), per_topic], ignore_index=True)

    rows = []
    computed_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    for key, group in long.groupby(DIMENSIONS, sort=True):
        people = group[~group["is_brand"]]
        volume = len(people)
        counts = people["sentiment"].value_counts()
        positive, neutral, negative = (int(counts.get(s, 0)) for s in ("positive", "neutral", "negative"))
        answerable = people[people["kind"].isin(["comment", "reply", "post"])]
        answered = answerable[answerable["answered"]]
        median = answered["response_minutes"].median()
        channel, source, lang, topic = key
        row = {
            "id": "|".join([day.isoformat(), channel, source, lang, str(topic)]),
            "day": day.isoformat(),
            "channel": channel,
            "source": source,
            "lang": lang,
            "topic": str(topic),
            "volume": volume,
            "posts": int((people["kind"] == "post").sum()),
            "comments": int(people["kind"].isin(["comment", "reply"]).sum()),
            "positive": positive,
            "neutral": neutral,
            "negative": negative,
            "mood_index": round((positive - negative) / volume, 4) if volume else 0.0,
            "negative_share": round(negative / volume, 4) if volume else 0.0,
            "criticism": int(people["criticism"].sum()),
            "criticism_constructive": int(people["constructive"].sum()),
            "toxic": int(people["toxic"].sum()),
            "brand_response_rate": round(len(answered) / len(answerable), 4) if len(answerable) else 0.0,
            "median_response_minutes": None if median != median else round(float(median), 2),
            "unanswered_critical": int((people["criticism"] & ~people["answered"] & ~people["handled"]).sum()),
            "new_authors": int(people["new_author"].sum()),
            "brand_items": int(group["is_brand"].sum()),
            "computed_at": computed_at,
        }
        rows.append(row)
    return rows


def ensure_index_mapping(client: Any, index: str, template_name: str) -> None:
    """Create ``index`` or add to its mapping the fields its template (schemas/) declares now.

    Indices are created from the template of their time; a later release may declare new fields,
    which a ``dynamic: strict`` mapping would reject. Adding fields is always allowed, so an
    upgraded deployment keeps writing to its existing indices."""
    import schemas

    properties = schemas.index_templates()[template_name]["template"]["mappings"]["properties"]
    if not client.indices.exists(index=index):
        client.options(ignore_status=400).indices.create(index=index)
    client.indices.put_mapping(index=index, properties=properties)


def compute_daily_rollups(settings: Settings, day_from: date, day_to: date) -> int:
    """Recompute the rollups of every UTC day in [day_from, day_to] (inclusive); return rows written."""
    from ecoute.es import bulk_write, make_client, scan_docs, upsert_actions

    if day_to < day_from:
        raise ValueError(f"day_to ({day_to}) is before day_from ({day_from})")
    client = make_client(settings)
    index = settings.indices.rollups_daily
    ensure_index_mapping(client, index, "ecoute-rollups-daily")
    written = 0
    day = day_from
    while day <= day_to:
        docs = load_day(client, settings, day)
        start, _ = day_bounds(day)
        authors = {d["author"]["id"] for d in docs if (d.get("author") or {}).get("id")}
        returning = authors_seen_before(client, settings, authors, start) if authors else set()
        rows = rollup_rows(docs, day, returning)
        fresh = {row["id"] for row in rows}
        existing = (
            {hit["_id"] for hit in scan_docs(client, index, {"term": {"day": day.isoformat()}}, False)}
            if client.indices.exists(index=index)
            else set()
        )
        actions = upsert_actions(index, rows)
        actions += [{"_op_type": "delete", "_index": index, "_id": stale} for stale in sorted(existing - fresh)]
        if actions:
            result = bulk_write(client, actions, refresh="wait_for")
            failed = [f for f in result.failed if f["status"] != 404]  # deleting a gone row is fine
            if failed:
                raise RuntimeError(f"{len(failed)} rollup rows of {day} not written: {failed[0]['error']}")
        log.info("rollups %s: %d rows from %d items (%d stale removed)", day, len(rows), len(docs), len(existing - fresh))
        written += len(rows)
        day += timedelta(days=1)
    return written


def read_rollups(settings: Settings, day_from: date, day_to: date, topic: str | None = ALL_TOPICS) -> list[dict[str, Any]]:
    """Rollup rows of [day_from, day_to] (inclusive), for one topic value (or all when None)."""
    from ecoute.es import make_client, scan_docs

    client = make_client(settings)
    filters: list[dict[str, Any]] = [{"range": {"day": {"gte": day_from.isoformat(), "lte": day_to.isoformat()}}}]
    if topic is not None:
        filters.append({"term": {"topic": topic}})
    if not client.indices.exists(index=settings.indices.rollups_daily):
        return []
    rows = list(scan_docs(client, settings.indices.rollups_daily, {"bool": {"filter": filters}}))
    for row in rows:
        row.pop("_index", None)
        row.pop("_id", None)
    return sorted(rows, key=lambda r: r["id"])
