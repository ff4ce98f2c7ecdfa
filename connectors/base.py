"""The connector contract: every source honours it, nothing else in connectors/ talks to Kafka.

One connector = one or more *streams* (in the spirit of the Singer/Meltano SDK: one class per
stream, a paginator, a bookmark). A stream yields :class:`Page` objects: the records of one page,
already mapped to raw events (or to a mapping failure), plus the checkpoint state that holds once
that page is safely in Kafka. :func:`run_streams` is the only loop that produces, and it keeps
the one ordering rule that makes restarts safe:

    map + validate  →  produce raw & dead letters (acks=all, wait for every ack)  →  save checkpoint

A crash anywhere before the checkpoint is written re-sends at most that one page on restart;
downstream upserts by event id absorb the duplicates. A crash after it loses nothing.

Checkpoints live in the state folder (``settings.checkpoints_dir``), one JSON file per stream,
written atomically (temp file + fsync + rename + fsync of the folder): a reader sees the old or
the new state, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from ecoute import events
from ecoute.settings import Settings

log = logging.getLogger(__name__)


class ConnectorError(RuntimeError):
    """A run cannot go on (bad configuration, expired credentials...): the message says what to do."""


class MappingError(ValueError):
    """A source record cannot become a raw event; it goes to the dead-letter topic with this reason."""


# ---------------------------------------------------------------------------------------------
# run statistics
# ---------------------------------------------------------------------------------------------
@dataclass
class RunStats:
    """What one run did. ``skipped`` counts records already behind the checkpoint."""

    produced: int = 0
    dead_lettered: int = 0
    skipped: int = 0
    duration_s: float = 0.0
    pages: int = 0
    connector: str = ""

    def add(self, other: RunStats) -> RunStats:
        self.produced += other.produced
        self.dead_lettered += other.dead_lettered
        self.skipped += other.skipped
        self.pages += other.pages
        self.duration_s += other.duration_s
        return self

    @property
    def docs_per_s(self) -> float:
        return self.produced / self.duration_s if self.duration_s > 0 else 0.0


# ---------------------------------------------------------------------------------------------
# the raw-event builder every connector uses
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# pages and records
# ---------------------------------------------------------------------------------------------
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


@dataclass
class Page:
    """The records of one page and the checkpoint state to save once they are acknowledged."""

    records: list[Mapped]
    state: dict[str, Any] | None
    skipped: int = 0
    prepared: Prepared | None = None  # already validated and serialised (by a worker process)

    @property
    def size(self) -> int:
        if self.prepared is not None:
            return len(self.prepared.good) + len(self.prepared.dead)
        return len(self.records)


# ---------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------
def _safe_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("_")[:180] or "default"


class CheckpointStore:
    """Durable per-stream state in the state folder, one JSON file per key, written atomically."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{_safe_name(key)}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        path = self.path(key)
        try:
            return orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except orjson.JSONDecodeError as exc:
            raise ConnectorError(f"checkpoint {path} is corrupt ({exc}); move it away to start over") from None

    def save(self, key: str, state: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps({**state, "saved_at": events.utc_now()}, option=orjson.OPT_INDENT_2))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()


# ---------------------------------------------------------------------------------------------
# the one produce loop
# ---------------------------------------------------------------------------------------------
@dataclass
class Prepared:
    """A page ready to produce: (id, JSON bytes) of valid events, and dead-letter records."""

    good: list[tuple[str, bytes]]
    dead: list[dict[str, Any]]


# Raw events stay well under the producer's 4 MiB request limit; a bigger one is a bad record.
MAX_EVENT_BYTES = 1024 * 1024


def prepare(records: Iterable[Mapped], connector: str) -> Prepared:
    """Validate mapped records against the contract and serialise them (no I/O: runs in workers too)."""
    stage = f"connector:{connector}"
    fallback_source = connector if connector in events.SOURCES else None
    good: list[tuple[str, bytes]] = []
    dead: list[dict[str, Any]] = []
    for record in records:
        source = record.event.get("source") if record.event else None
        if record.event is not None:
            errors = contract_errors(record.event)
            if not errors:
                try:
                    payload = orjson.dumps(record.event)
                except TypeError as exc:  # orjson.JSONEncodeError: e.g. an integer over 64 bits in raw
                    errors = [f"(event): cannot be serialised as JSON ({exc})"]
                else:
                    if len(payload) <= MAX_EVENT_BYTES:
                        good.append((record.event["id"], payload))
                        continue
                    errors = [f"(event): {len(payload)} bytes once serialised, over the {MAX_EVENT_BYTES}-byte limit"]
            reason = "validation: " + "; ".join(errors)[:2000]
            event_id = record.event.get("id")
            details: Any = errors
        else:
            reason = record.reason or "mapping failed"
            event_id = None
            details = {"native_id": record.native_id} if record.native_id else None
        # A dead letter too big for Kafka is kept whole by ecoute.kafka (overflow file in the state folder).
        dead.append(
            events.dead_letter(
                stage=stage,
                reason=reason,
                original=record.original,
                event_id=event_id if isinstance(event_id, str) else None,
                source=source if isinstance(source, str) else fallback_source,
                details=details,
            )
        )
    return Prepared(good, dead)


class EventSink:
    """Validates mapped records and produces them: raw events keyed by id, failures to the DLQ."""

    def __init__(self, settings: Settings, connector: str, producer: Any = None, ensure_topics: bool = True):
        from kafka.errors import KafkaError

        from ecoute import kafka

        self.settings = settings
        self.stage = f"connector:{connector}"
        self.connector = connector
        self._own = producer is None
        try:
            if ensure_topics:
                kafka.ensure_topics(settings)
            self.producer = producer or kafka.Producer(settings)
        except KafkaError as exc:
            raise ConnectorError(
                f"Kafka at {settings.kafka.bootstrap_servers} is unreachable ({exc}); start the embedded stack "
                "with `ecoute stack up` or set ECOUTE_KAFKA__BOOTSTRAP_SERVERS"
            ) from None

    def emit(self, records: Iterable[Mapped]) -> tuple[int, int]:
        """Produce one page; returns (produced, dead-lettered) once the broker acknowledged all of it."""
        return self.send(prepare(records, self.connector))

    def send(self, prepared: Prepared) -> tuple[int, int]:
        if prepared.good:
            self.producer.send_batch(self.settings.topics.raw, prepared.good)
        if prepared.dead:
            for record in prepared.dead:
                log.warning("dead-lettered %s: %s", record.get("event_id") or "a record", record["reason"][:300])
            self.producer.send_dead_letters(prepared.dead)
        return len(prepared.good), len(prepared.dead)

    def close(self) -> None:
        if self._own:
            self.producer.close()


_DONE = object()


def prefetch(pages: Iterator[Page], depth: int = 1) -> Iterator[Page]:
    """Yield the same pages in the same order, reading up to ``depth`` ahead in a thread, so the
    next page is fetched/mapped while the broker acknowledges the current one. Checkpoints are
    unaffected: the caller still saves a page's state only after that page was acknowledged."""
    import queue
    import threading

    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not put(page):
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        else:
            put(_DONE)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="page-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join(timeout=30)


def run_pages(
    pages: Iterator[Page],
    sink: EventSink,
    checkpoints: CheckpointStore,
    key: str,
    on_page: Callable[[Page], None] | None = None,
) -> RunStats:
    """Produce each page, then (only then) save its checkpoint state."""
    stats = RunStats(connector=sink.connector)
    started = time.perf_counter()
    # Three threads share the GIL here (prefetch, this one, the Kafka sender): a short switch
    # interval keeps the sender from waiting 5 ms behind CPU-bound mapping (measured +30 % on imports).
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, 0.001))
    try:
        for page in prefetch(pages):
            produced, dead = sink.send(page.prepared) if page.prepared is not None else sink.emit(page.records)
            stats.produced += produced
            stats.dead_lettered += dead
            stats.skipped += page.skipped
            stats.pages += 1
            if page.state is not None:
                checkpoints.save(key, page.state)
            if on_page is not None:
                on_page(page)
    finally:
        sys.setswitchinterval(switch_interval)
    stats.duration_s = time.perf_counter() - started
    return stats


# ---------------------------------------------------------------------------------------------
# helpers for sources that list newest first
# ---------------------------------------------------------------------------------------------
class SeenFilter:
    """Which items are new, for sources that list newest first without a ``since`` filter.

    ``is_new`` compares with the committed high water (newest timestamp of the last completed
    sweep, plus the ids at exactly that timestamp so ties are neither lost nor re-sent);
    ``observe`` advances a pending high water during a sweep; ``state(commit=True)`` at its end
    makes it the committed one. Both are saved, so a sweep interrupted by a crash resumes with
    the same notion of "new".
    """

    MAX_DEAD = 500

    def __init__(self, state: dict[str, Any] | None = None):
        state = state or {}
        self.high_water: str | None = state.get("high_water")
        self.ids_at_high_water: set[str] = set(state.get("ids_at_high_water") or [])
        self._pending: str | None = state.get("pending_high_water", self.high_water)
        self._pending_ids: set[str] = set(state.get("pending_ids", self.ids_at_high_water))
        # Native ids already dead-lettered: a source re-read each sweep does not re-send them.
        self.dead: list[str] = list(state.get("dead") or [])

    def first_failure(self, native_id: str | None) -> bool:
        """True the first time a record with this native id fails mapping (then remembered)."""
        if native_id is None:
            return True
        if native_id in self.dead:
            return False
        self.dead = [*self.dead[-(self.MAX_DEAD - 1) :], native_id]
        return True

    def is_new(self, timestamp: str, item_id: str) -> bool:
        if self.high_water is None or timestamp > self.high_water:
            return True
        return timestamp == self.high_water and item_id not in self.ids_at_high_water

    def observe(self, timestamp: str, item_id: str) -> None:
        if self._pending is None or timestamp > self._pending:
            self._pending = timestamp
            self._pending_ids = {item_id}
        elif timestamp == self._pending:
            self._pending_ids.add(item_id)

    def state(self, commit: bool = False) -> dict[str, Any]:
        if commit:
            self.high_water, self.ids_at_high_water = self._pending, set(self._pending_ids)
        return {
            "high_water": self.high_water,
            "ids_at_high_water": sorted(self.ids_at_high_water),
            "pending_high_water": self._pending,
            "pending_ids": sorted(self._pending_ids),
            "dead": self.dead,
        }


def copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy (pages carry a snapshot of the state, not a reference that moves on)."""
    return orjson.loads(orjson.dumps(state))


def epoch_now() -> int:
    return int(time.time())


def epoch_of(timestamp: Any) -> int:
    """Epoch seconds of any timestamp ``parse_time`` accepts."""
    return int(datetime.fromisoformat(parse_time(timestamp).replace("Z", "+00:00")).timestamp())
