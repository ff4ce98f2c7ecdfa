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

A window of up to 31 days is read in one pass, page by page over a point-in-time, and each item
folded into its day's counters (``DayRollup``): memory grows with the rows, authors and answered
items of the window's days, never with a list of its documents. Medians and first-seen are computed here because noida-db lacks percentile and
composite aggregations; the queries used here work on Elasticsearch and noida-db alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ecoute.settings import Settings
from jobs.reporting import kpis
from jobs.reporting.kpis import mood_index

log = logging.getLogger(__name__)

ALL_TOPICS = "_all"
DIMENSIONS = ["channel", "source", "lang", "topic"]
SOURCE_FIELDS = [
    "id",
    "source",
    "kind",
    "channel",
    "author.id",
    "author.is_brand",
    "created_at",
    "lang",
    "sentiment",
    "topics",
    "toxic",
    "criticism",
    "constructive",
    "answered_by_brand",
    "brand_answered_at",
    "handled",
]


def day_bounds(day: date) -> tuple[str, str]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start.isoformat().replace("+00:00", "Z"), (start + timedelta(days=1)).isoformat().replace("+00:00", "Z")


def _range_query(field: str, gte: str | None = None, lt: str | None = None) -> dict[str, Any]:
    bounds = {k: v for k, v in (("gte", gte), ("lt", lt)) if v}
    return {"range": {field: bounds}}


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


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(slots=True)
class _Row:
    """Counters of one rollup row (day × channel × source × lang × topic)."""

    answerable: int = 0
    answered: int = 0
    brand_items: int = 0
    comments: int = 0
    constructive: int = 0
    criticism: int = 0
    negative: int = 0
    neutral: int = 0
    new_authors: int = 0
    positive: int = 0
    posts: int = 0
    toxic: int = 0
    unanswered_critical: int = 0
    volume: int = 0
    minutes: list[float] = field(default_factory=list)


class DayRollup:
    """Folds one day's mentions, in any number of pages, into its rollup rows."""

    def __init__(self, day: date):
        self.day = day
        self.rows: dict[tuple[str, str, str, str], _Row] = {}
        # author -> (created_at, arrival, keys of that item, is_brand) of their earliest item today
        self.first_item: dict[str, tuple[datetime, int, tuple, bool]] = {}
        self.items = 0

    def add(self, docs: Iterable[dict[str, Any]]) -> None:
        for d in docs:
            self.items += 1
            author = d.get("author") or {}
            is_brand = bool(author.get("is_brand"))
            base = (d.get("channel") or "unknown", d.get("source") or "unknown", d.get("lang") or "und")
            keys = tuple(
                (*base, str(t)) for t in dict.fromkeys([ALL_TOPICS, *(d.get("topics") or [])]) if t is not None
            )
            created = _time(d.get("created_at"))
            kind = d.get("kind") or "post"
            answered, answerable = kpis.answered(d), kpis.answerable(d)
            criticism = bool(d.get("criticism"))
            minutes = kpis.response_minutes(d)
            for key in keys:
                row = self.rows.get(key) or self.rows.setdefault(key, _Row())
                if is_brand:
                    row.brand_items += 1
                    continue
                row.volume += 1
                row.posts += kind == "post"
                row.comments += kind in ("comment", "reply")
                sentiment = d.get("sentiment")
                row.positive += sentiment == "positive"
                row.neutral += sentiment == "neutral"
                row.negative += sentiment == "negative"
                row.criticism += criticism
                row.constructive += criticism and bool(d.get("constructive"))
                row.toxic += bool(d.get("toxic"))
                if answerable:
                    row.answerable += 1
                    if answered:
                        row.answered += 1
                        if minutes is not None:
                            row.minutes.append(minutes)
                row.unanswered_critical += criticism and not answered and not bool(d.get("handled"))
            author_id = author.get("id")
            if author_id and created is not None:
                current = self.first_item.get(author_id)
                if current is None or created < current[0]:
                    self.first_item[author_id] = (created, self.items, keys, is_brand)

    def authors(self) -> set[str]:
        return set(self.first_item)

    def result(self, returning_authors: set[str]) -> list[dict[str, Any]]:
        """The rows, once every page was added; ``returning_authors`` were seen before the day."""
        import statistics

        for author, (_, _, keys, is_brand) in self.first_item.items():
            if not is_brand and author not in returning_authors:
                for key in keys:
                    self.rows[key].new_authors += 1
        computed_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        out = []
        for (channel, source, lang, topic), row in sorted(self.rows.items()):
            volume = row.volume
            out.append(
                {
                    "id": "|".join([self.day.isoformat(), channel, source, lang, topic]),
                    "day": self.day.isoformat(),
                    "channel": channel,
                    "source": source,
                    "lang": lang,
                    "topic": topic,
                    "volume": volume,
                    "posts": row.posts,
                    "comments": row.comments,
                    "positive": row.positive,
                    "neutral": row.neutral,
                    "negative": row.negative,
                    "mood_index": round(mood_index(row.positive, row.negative, volume) or 0.0, 4),
                    "negative_share": round(row.negative / volume, 4) if volume else 0.0,
                    "criticism": row.criticism,
                    "criticism_constructive": row.constructive,
                    "toxic": row.toxic,
                    # stored as 0.0 for a row with nothing to answer (a float field Kibana averages)
                    "brand_response_rate": round(kpis.response_rate(row.answered, row.answerable) or 0.0, 4),
                    "median_response_minutes": round(float(statistics.median(row.minutes)), 2) if row.minutes else None,
                    "unanswered_critical": row.unanswered_critical,
                    "new_authors": row.new_authors,
                    "brand_items": row.brand_items,
                    "computed_at": computed_at,
                }
            )
        return out


def rollup_rows(docs: Iterable[dict[str, Any]], day: date, returning_authors: set[str]) -> list[dict[str, Any]]:
    """The rollup rows of one day from its enriched items (pure function: unit-tested)."""
    rollup = DayRollup(day)
    rollup.add(docs)
    return rollup.result(returning_authors)


# Days read in one pass: every request to the store has a fixed cost (about 70 ms on noida-db), so a
# month read day by day paid ~12 requests a day; a window's memory is its days' rows and authors.
WINDOW_DAYS = 31


def compute_daily_rollups(settings: Settings, day_from: date, day_to: date) -> int:
    """Recompute the rollups of every UTC day in [day_from, day_to] (inclusive); return rows written."""
    from ecoute.es import ensure_index_mapping, make_client

    if day_to < day_from:
        raise ValueError(f"day_to ({day_to}) is before day_from ({day_from})")
    client = make_client(settings)
    ensure_index_mapping(client, settings.indices.rollups_daily, "ecoute-rollups-daily")
    written = 0
    first = day_from
    while first <= day_to:
        last = min(day_to, first + timedelta(days=WINDOW_DAYS - 1))
        written += _compute_window(client, settings, first, last)
        first = last + timedelta(days=1)
    return written


def _window_rollups(client: Any, settings: Settings, first: date, last: date) -> dict[date, DayRollup]:
    """Each day of [first, last] folded from one scan of the window's mentions."""
    from ecoute.es import pit_pages

    rollups = {first + timedelta(days=n): DayRollup(first + timedelta(days=n)) for n in range((last - first).days + 1)}
    if not client.indices.exists_alias(name=settings.indices.mentions):
        return rollups  # nothing was enriched yet
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    query = _range_query("created_at", start, end)
    for page in pit_pages(client, settings.indices.mentions, query, SOURCE_FIELDS):
        by_day: dict[date, list[dict[str, Any]]] = {}
        for doc in page:
            created = _time(doc.get("created_at"))
            day = created.astimezone(UTC).date() if created is not None and created.tzinfo else None
            if day not in rollups:  # the store matched its range; a time Python cannot read is logged
                log.warning(
                    "rollups: %s has a creation time %r outside %s..%s",
                    doc.get("id"),
                    doc.get("created_at"),
                    first,
                    last,
                )
                continue
            by_day.setdefault(day, []).append(doc)
        for day, docs in by_day.items():
            rollups[day].add(docs)
    return rollups


def _compute_window(client: Any, settings: Settings, first: date, last: date) -> int:
    from ecoute.es import bulk_write, scan_docs, upsert_actions

    index = settings.indices.rollups_daily
    rollups = _window_rollups(client, settings, first, last)
    every_author = set().union(*(rollup.authors() for rollup in rollups.values()))
    # Seen before a day = seen before the window, or on an earlier day of it (read above).
    seen = authors_seen_before(client, settings, every_author, day_bounds(first)[0]) if every_author else set()
    existing: dict[str, set[str]] = {}
    if client.indices.exists(index=index):
        window = {"range": {"day": {"gte": first.isoformat(), "lte": last.isoformat()}}}
        for hit in scan_docs(client, index, window, ["day"]):
            existing.setdefault(str(hit.get("day")), set()).add(hit["_id"])
    actions: list[dict[str, Any]] = []
    written = 0
    for day, rollup in sorted(rollups.items()):
        rows = rollup.result(seen)
        seen |= rollup.authors()
        stale = existing.get(day.isoformat(), set()) - {row["id"] for row in rows}
        actions += upsert_actions(index, rows)
        actions += [{"_op_type": "delete", "_index": index, "_id": row_id} for row_id in sorted(stale)]
        log.info("rollups %s: %d rows from %d items (%d stale removed)", day, len(rows), rollup.items, len(stale))
        written += len(rows)
    if actions:
        result = bulk_write(client, actions, refresh="wait_for")
        failed = [f for f in result.failed if f["status"] != 404]  # deleting a gone row is fine
        if failed:
            raise RuntimeError(f"{len(failed)} rollup rows of {first}..{last} not written: {failed[0]['error']}")
    return written


def read_rollups(
    settings: Settings, day_from: date, day_to: date, topic: str | None = ALL_TOPICS
) -> list[dict[str, Any]]:
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
