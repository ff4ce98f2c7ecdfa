"""The raw-event builder every connector uses, and the field parsers behind it.

A source record becomes a raw event (schemas/raw_event.schema.json) through :func:`build_raw_event`
inside :func:`map_record`: a record that cannot be mapped becomes a :class:`Mapped` carrying the
reason, which the produce loop (connectors/base.py) sends to the dead-letter topic. Nothing here
does I/O.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from connectors.errors import MappingError
from ecoute import events
from ecoute.settings import Settings

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WHITE_SPACE = re.compile(r"\s")
_CANONICAL_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@lru_cache(maxsize=65_536)
def _pseudonym(native_author_id: str, key: str) -> str:
    # Authors repeat a lot (regulars, the brand itself): the keyed hash is computed once per author.
    return events.pseudonymise(native_author_id, key)


def parse_time(value: Any) -> str:
    """Any timestamp a source gives (RFC 3339, ``+0000`` offsets, ``YYYY-MM-DD HH:MM:SS`` as UTC,
    epoch seconds) → UTC RFC 3339 (``2024-05-01T10:00:00Z``)."""
    if value is None or value == "":
        raise MappingError("created_at is missing")
    if isinstance(value, datetime):
        return events.to_rfc3339(value)
    if isinstance(value, bool):
        raise MappingError(f"created_at {value!r} is not a date-time (RFC 3339 expected)")
    if isinstance(value, int | float):
        return _from_epoch(value)
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str):
        raise MappingError(f"created_at is a {type(value).__name__}, not a date-time (RFC 3339 expected)")
    text = value.strip()
    if _CANONICAL_UTC.match(text):  # already what we emit (most imports): only check it is a real date
        try:
            datetime.fromisoformat(text[:-1])
        except ValueError:
            raise MappingError(f"created_at {text!r} is not a date-time (RFC 3339 expected)") from None
        return text
    if _DATE_ONLY.match(text):
        text += "T00:00:00"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            epoch = float(text)
        except ValueError:
            raise MappingError(f"created_at {text[:60]!r} is not a date-time (RFC 3339 expected)") from None
        return _from_epoch(epoch, text)
    try:
        return events.to_rfc3339(parsed)
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:00:00-05:00 is past year 9999 in UTC
        raise MappingError(f"created_at {text[:60]!r} is out of range once in UTC") from None


def _from_epoch(value: float, shown: Any = None) -> str:
    # 1e20, inf and nan are numbers but no date: Python raises OverflowError/ValueError/OSError.
    try:
        return events.to_rfc3339(datetime.fromtimestamp(float(value), UTC))
    except (OverflowError, ValueError, OSError):
        shown = value if shown is None else shown
        raise MappingError(f"created_at {str(shown)[:60]!r} is not a plausible epoch timestamp") from None


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "t", "oui"):
        return True
    if text in ("false", "0", "no", "n", "f", "non", ""):
        return False
    raise MappingError(f"author_is_brand {value!r} is not a boolean")


def json_kind(value: Any) -> str:
    """How a JSON user would name the type of ``value``, with its article: "a list", "an object"."""
    kinds = {bool: "a boolean", list: "a list", tuple: "a list", dict: "an object", str: "a string"}
    kind = kinds.get(type(value), "a number" if isinstance(value, int | float) else f"a {type(value).__name__}")
    try:
        shown = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError):  # circular or too deep
        shown = "…"
    return f"{kind} ({shown[:60]})"


# Metrics are Elasticsearch longs; a bigger number is junk, not a count.
MAX_COUNT = 2**63 - 1


def _checked_count(name: str, number: int) -> int:
    if number < 0:
        raise MappingError(f"{name} {number!r} is negative")
    if number > MAX_COUNT:
        raise MappingError(f"{name} {str(number)[:40]} is over the largest count ({MAX_COUNT})")
    return number


def parse_count(name: str, value: Any) -> int | None:
    """A metric: a whole number ≥ 0, or a string of one; booleans, lists and objects are rejected."""
    if type(value) is int:  # the common case
        return _checked_count(name, value)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | float | int):
        raise MappingError(f"{name} is {json_kind(value)}, not a whole number")
    try:
        number = int(value) if not isinstance(value, float) else int(value) if value.is_integer() else None
        if number is None:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        try:
            as_float = float(str(value))
        except ValueError:
            raise MappingError(f"{name} {str(value)[:60]!r} is not a whole number") from None
        if not as_float.is_integer():  # also inf and nan
            raise MappingError(f"{name} {str(value)[:60]!r} is not a whole number") from None
        number = int(as_float)
    return _checked_count(name, number)


def _prefixed(source: str, native: Any) -> str | None:
    if native is None or str(native).strip() == "":
        return None
    return events.event_id(source, native)


def build_raw_event(
    settings: Settings,
    *,
    source: str,
    native_id: Any,
    kind: str,
    channel: str | None,
    author_native_id: Any,
    text: str | None,
    created_at: Any,
    author_name: str | None = None,
    author_is_brand: bool = False,
    parent_native_id: Any = None,
    thread_native_id: Any = None,
    url: str | None = None,
    likes: Any = None,
    replies: Any = None,
    shares: Any = None,
    raw: dict[str, Any] | None = None,
    fetched_at: str | None = None,
) -> dict[str, Any]:
    """One raw event (schemas/raw_event.schema.json) from a source record's fields.

    id, parent_id and thread_id are ``<source>:<native id>``; a post is its own thread, a comment
    without a thread belongs to its parent's. The author id is pseudonymised with the keyed hash
    (brand authors too); the display name is kept only when ``settings.store_author_names``.
    Raises :class:`MappingError` when a field cannot be mapped; the caller dead-letters it.
    """
    if kind not in ("post", "comment", "reply"):
        raise MappingError(f"kind {kind!r} is not one of post, comment, reply")
    try:
        event_id = events.event_id(source, native_id)
    except ValueError as exc:
        raise MappingError(f"id: {exc}") from None
    if _WHITE_SPACE.search(event_id):
        raise MappingError(f"native id {str(native_id)[:80]!r} contains white space")
    parent_id = _prefixed(source, parent_native_id)
    thread_id = _prefixed(source, thread_native_id)
    if kind == "post":
        thread_id = thread_id or event_id
    else:
        if parent_id is None:
            raise MappingError(f"a {kind} needs its parent's native id")
        thread_id = thread_id or parent_id
    if author_native_id is None or str(author_native_id).strip() == "":
        # Keep the record: some sources hide authors (deleted accounts); all of them share one pseudonym.
        author_native_id = f"{source}:unknown"
    metrics = {}
    for name, value in (("likes", likes), ("replies", replies), ("shares", shares)):
        if value is not None:
            count = parse_count(name, value)
            if count is not None:
                metrics[name] = count
    return {
        "schema_version": 1,
        "id": event_id,
        "source": source,
        "kind": kind,
        "parent_id": parent_id,
        "thread_id": thread_id,
        "channel": (channel or "").strip() or "unknown",
        "author": {
            "id": _pseudonym(str(author_native_id), settings.pseudonym_key.get_secret_value()),
            "name": (author_name or None) if settings.store_author_names else None,
            "is_brand": bool(author_is_brand),
        },
        "text": text or "",
        "url": url or None,
        "created_at": parse_time(created_at),
        "fetched_at": fetched_at or events.utc_now(),
        "metrics": metrics,
        "raw": raw,
    }


def contract_errors(event: dict[str, Any]) -> list[str]:
    """Validation against schemas/raw_event.schema.json (fast path in ecoute.events)."""
    return events.raw_contract_errors(event)


@dataclass
class Mapped:
    """One source record after mapping: an event, or the reason it could not become one."""

    original: Any
    event: dict[str, Any] | None = None
    reason: str | None = None
    native_id: str | None = None


def map_record(original: Any, mapper: Callable[[], dict[str, Any]], native_id: Any = None) -> Mapped:
    """Run ``mapper``; a MappingError (or any bad-shape error) becomes a dead-letter reason, never a crash."""
    try:
        return Mapped(original, event=mapper())
    except MappingError as exc:
        return Mapped(original, reason=f"mapping: {exc}", native_id=None if native_id is None else str(native_id))
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        return Mapped(
            original,
            reason=f"mapping: unexpected record shape ({type(exc).__name__}: {exc})",
            native_id=None if native_id is None else str(native_id),
        )


def epoch_now() -> int:
    return int(time.time())


def epoch_of(timestamp: Any) -> int:
    """Epoch seconds of any timestamp ``parse_time`` accepts."""
    return int(datetime.fromisoformat(parse_time(timestamp).replace("Z", "+00:00")).timestamp())
