"""Response time in business hours: time to the brand's first reply, per class of mention.

Hours, working days and holidays come from ``ECOUTE_INBOX__BUSINESS_HOURS__*`` (local time of its
timezone). A comment posted on Friday 17:30 and answered Monday 09:30 waited 1 business hour.
The headline is constructive criticism: what share got a brand reply, and how fast (median).
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from elasticsearch import ApiError

from ecoute.es import scan_docs
from ecoute.settings import BusinessHours
from ecoute.views.common import NOT_BRAND, period_filters
from inbox.store import now_iso

__all__ = ["CLASSES", "business_seconds", "now_iso", "response_times"]

CLASSES = ("constructive", "criticism", "toxic", "other")


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def business_seconds(start: datetime, end: datetime, hours: BusinessHours) -> float:
    """Seconds between two instants that fall inside business hours."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(hours.timezone)
    weekday_hours = (_clock(hours.start), _clock(hours.end))
    weekend_hours: tuple[time, time] | None = None
    if hours.weekend:
        weekend_opens, weekend_closes = hours.weekend.split("-")
        weekend_hours = (_clock(weekend_opens), _clock(weekend_closes))
    holidays = {date.fromisoformat(d) for d in hours.holidays}
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    total = 0.0
    day = local_start.date()
    while day <= local_end.date():
        weekend_open = day.weekday() >= 5 and weekend_hours is not None
        if (weekend_open or day.weekday() in hours.weekdays) and day not in holidays:
            opens, closes = weekend_hours if weekend_open and weekend_hours is not None else weekday_hours
            window_start = datetime.combine(day, opens, tzinfo=zone)
            window_end = datetime.combine(day, closes, tzinfo=zone)
            overlap = min(window_end, local_end) - max(window_start, local_start)
            total += max(0.0, overlap.total_seconds())
        day += timedelta(days=1)
    return total


def mention_class(doc: dict[str, Any]) -> str:
    if doc.get("criticism") and doc.get("constructive"):
        return "constructive"
    if doc.get("criticism"):
        return "criticism"
    if doc.get("toxic"):
        return "toxic"
    return "other"


def response_times(services: Any, start: date, end: date) -> dict[str, Any]:
    """Per class: items, answered by the brand, share answered, median and 90th-percentile business
    hours to the first brand reply, and the median in clock hours (computed here: the embedded server
    has no percentiles)."""
    settings = services.settings
    query = {
        "bool": {
            "filter": [*period_filters(start, end), {"terms": {"kind": ["comment", "reply"]}}],
            "must_not": [NOT_BRAND],
        }
    }
    fields = ["created_at", "criticism", "constructive", "toxic", "answered_by_brand", "brand_answered_at"]
    outside = 0  # replies sent when the business hours say the team is away
    waits: dict[str, list[float]] = {name: [] for name in CLASSES}
    wall: dict[str, list[float]] = {name: [] for name in CLASSES}
    counts = dict.fromkeys(CLASSES, 0)
    try:
        docs = list(scan_docs(services.store.client, settings.indices.mentions, query, fields))
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
        docs = []
    for doc in docs:
        name = mention_class(doc)
        counts[name] += 1
        if doc.get("answered_by_brand") and doc.get("brand_answered_at"):
            created = datetime.fromisoformat(doc["created_at"].replace("Z", "+00:00"))
            answered = datetime.fromisoformat(doc["brand_answered_at"].replace("Z", "+00:00"))
            waits[name].append(business_seconds(created, answered, settings.inbox.business_hours) / 3600)
            wall[name].append(max(0.0, (answered - created).total_seconds()) / 3600)
            outside += business_seconds(answered - timedelta(seconds=60), answered, settings.inbox.business_hours) == 0
    classes = {}
    for name in CLASSES:
        hours_waited = waits[name]
        classes[name] = {
            "items": counts[name],
            "answered": len(hours_waited),
            "answered_share": round(len(hours_waited) / counts[name], 3) if counts[name] else None,
            # Two decimals: a median of 6 minutes is 0.1 h, not "0.0 h" (the page shows minutes under an hour).
            "median_hours": round(statistics.median(hours_waited), 2) if hours_waited else None,
            "p90_hours": round(statistics.quantiles(hours_waited, n=10)[-1], 2) if len(hours_waited) >= 2 else None,
            # Beside it, clock hours: a reply at 20:40 to a comment of 20:00 took 0 business hours.
            "median_clock_hours": round(statistics.median(wall[name]), 2) if wall[name] else None,
        }
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "headline": classes["constructive"],
        "classes": classes,
        "replies": sum(len(w) for w in waits.values()),
        "replies_outside_hours": outside,
        "holidays_in_period": sorted(
            d for d in settings.inbox.business_hours.holidays if start.isoformat() <= d <= end.isoformat()
        ),
        "business_hours": settings.inbox.business_hours.model_dump(),
        "computed_at": datetime.now(UTC).isoformat(),
    }
