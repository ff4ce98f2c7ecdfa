"""The connector contract: every source honours it, nothing else in connectors/ talks to Kafka.

One connector = one or more *streams* (in the spirit of the Singer/Meltano SDK: one class per
stream, a paginator, a bookmark). A stream yields :class:`Page` objects: the records of one page,
already mapped to raw events (or to a mapping failure), plus the checkpoint state that holds once
that page is safely in Kafka. :func:`run_streams` is the only loop that produces, and it keeps
the one ordering rule that makes restarts safe:

    map + validate  →  produce raw & dead letters (acks=all, wait for every ack)  →  save checkpoint

A crash anywhere before the checkpoint is written re-sends at most that one page on restart;
downstream upserts by event id absorb the duplicates. A crash after it loses nothing.

Roles: this module is the produce loop (validate + serialise, produce raw events and dead letters,
then checkpoint); the raw-event builder and field parsers are in connectors/mapping.py; checkpoint
state (the store, the newest-first ``SeenFilter``) in connectors/checkpoints.py; the two errors in
connectors/errors.py. Everything stays importable from here.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.checkpoints import CheckpointStore, SeenFilter, copy_state
from connectors.errors import ConnectorError, MappingError
from connectors.mapping import (
    MAX_COUNT,
    Mapped,
    build_raw_event,
    contract_errors,
    epoch_now,
    epoch_of,
    json_kind,
    map_record,
    parse_bool,
    parse_count,
    parse_time,
)
from ecoute import events
from ecoute.settings import Settings

__all__ = [
    "MAX_COUNT",
    "MAX_EVENT_BYTES",
    "CheckpointStore",
    "ConnectorError",
    "EventSink",
    "Mapped",
    "MappingError",
    "Page",
    "Prepared",
    "RunStats",
    "SeenFilter",
    "build_raw_event",
    "contract_errors",
    "copy_state",
    "epoch_now",
    "epoch_of",
    "json_kind",
    "map_record",
    "parse_bool",
    "parse_count",
    "parse_time",
    "prefetch",
    "prepare",
    "run_pages",
]

log = logging.getLogger(__name__)


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
# pages and records
# ---------------------------------------------------------------------------------------------
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

        # Every source produces through here (CLI, Airflow DAGs, webhooks): the public default key is
        # refused off the embedded stack before any author id is pseudonymised with it.
        problem = settings.pseudonym_key_problem()
        if problem is not None:
            raise ConnectorError(f"{problem}; connector {connector} refuses to start with it")
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
