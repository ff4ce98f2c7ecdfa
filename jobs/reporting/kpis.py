"""The figures people read, defined once: the rollups, the digest, the report and the inbox use these.

- mood index: (positive − negative) / volume, in [−1, 1]; None when there is no volume.
- share: part / whole, None when the whole is empty.
- brand response rate: of the community items the brand could answer (``answerable``: posts,
  comments and replies not written by the brand), the share it answered (``answered``: the
  ``answered_by_brand`` flag the enrichment sets, the queues' definition too); None when there was
  nothing to answer. The rollups and the digest take it over every community item, the report over
  the criticism ("response rate to criticism"): the same definition on a narrower set.
- response time: minutes from an item to the brand's first answer (``response_minutes``); an
  answer dated before its item (clocks of two platforms) has no response time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Every kind a connector produces can be answered (schemas/raw_event.schema.json).
ANSWERABLE_KINDS = frozenset({"post", "comment", "reply"})


def mood_index(positive: int, negative: int, volume: int) -> float | None:
    """(positive − negative) / volume: +1 all positive, −1 all negative, 0 balanced or neutral."""
    return (positive - negative) / volume if volume else None


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def answerable(item: Mapping[str, Any]) -> bool:
    """A community item the brand can answer (the brand's own items never count)."""
    author = item.get("author") or {}
    return item.get("kind") in ANSWERABLE_KINDS and not author.get("is_brand")


def answered(item: Mapping[str, Any]) -> bool:
    return bool(item.get("answered_by_brand"))


def response_rate(answered_items: int, answerable_items: int) -> float | None:
    """The brand response rate in [0, 1]: answered items / answerable items; None when none was answerable."""
    return share(answered_items, answerable_items)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def response_minutes(item: Mapping[str, Any]) -> float | None:
    """Minutes from the item to the brand's first answer; None when unanswered, undated or answered "before"."""
    if not answered(item):
        return None
    created, answered_at = _time(item.get("created_at")), _time(item.get("brand_answered_at"))
    if created is None or answered_at is None:
        return None
    minutes = (answered_at - created).total_seconds() / 60
    return minutes if minutes >= 0 else None
