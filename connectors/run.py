"""The run loop of polled sources: it pages, dedupes, bookmarks and closes; streams only declare.

For each stream of a source (connectors/source.py), from its checkpoint ``<source>.<key>``:

1. the listing: request page after page (the stream's paginator, up to ``max_pages``), map every
   record (``map_record``: a bad one becomes a dead letter with its reason), keep what the stream
   accepts — and, for newest-first streams, what the :class:`SeenFilter` finds new, stopping below
   the revisit horizon, a repeated mapping failure not being re-sent —, then bookmark the page;
2. the child listing (comments) of every parent the listing watches, one batch per answer or per
   parent;
3. each page goes through ``run_pages``: produced (acks=all), *then* its checkpoint saved.

The source's clients are closed after every sweep, whatever happened.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.base import EventSink, Page, RunStats, run_pages
from connectors.checkpoints import CheckpointStore, SeenFilter, copy_state
from connectors.http import SkipResource
from connectors.mapping import Mapped, epoch_now, epoch_of, map_record
from connectors.source import ChildListing, Item, Listing, PolledStream, SourceFactory, Sweep, Unreadable

if TYPE_CHECKING:
    from connectors.config import ConnectorSettings
    from ecoute.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Fetched:
    """One answer of a child listing: the body, the records to send, the next page's token."""

    body: Any
    records: list[Mapped]
    token: Any


def _mapped(listing: Listing, item: Item) -> Mapped:
    return map_record(item.original, lambda: listing.map(item.record, **item.context), listing.native_id(item.record))


def _keep_failure(mapped: Mapped, seen: SeenFilter | None) -> bool:
    # Sources re-read each sweep would dead-letter the same bad record every time: once is enough.
    return seen is None or seen.first_failure(mapped.native_id)


def _keep_new(mapped: Mapped, seen: SeenFilter | None) -> bool:
    assert mapped.event is not None
    if seen is None:
        return True
    timestamp, event_id = mapped.event["created_at"], mapped.event["id"]
    if not seen.is_new(timestamp, event_id):
        return False
    seen.observe(timestamp, event_id)
    return True


def _listing(stream: PolledStream, sweep: Sweep) -> Generator[Page, None, bool]:
    """The stream's own listing; returns False when it was unreadable (nothing else to read)."""
    state = sweep.state
    first, token = stream.start(sweep)
    seen = SeenFilter(state.get("seen")) if stream.newest_first else None
    cutoff: float | None = None
    if seen is not None:
        # Newest first: read down to the last sweep's newest minus revisit_days (new replies on recent threads).
        cutoff = (
            epoch_of(seen.high_water) - stream.config.revisit_days * 86400
            if seen.high_water
            else sweep.now - stream.config.lookback_days * 86400
        )
    for _ in range(stream.config.max_pages):
        try:
            body = stream.fetch(stream.paginator.request_params(first, token), sweep)
        except Unreadable as exc:
            yield Page([Mapped(exc.original, reason=exc.reason)], None)
            return False
        records: list[Mapped] = []
        oldest: int | None = None
        for item in stream.records(body, sweep):
            mapped = _mapped(stream, item)
            listed = stream.listed_at(item, mapped.event)
            if listed:
                with contextlib.suppress(ValueError):
                    listed_epoch = epoch_of(listed)
                    oldest = listed_epoch if oldest is None else min(oldest, listed_epoch)
            if mapped.event is None:
                if _keep_failure(mapped, seen):
                    records.append(mapped)
            elif stream.accept(item, mapped.event, sweep) and _keep_new(mapped, seen):
                records.append(mapped)
        token = stream.paginator.next_token(body)
        done = token is None or sweep.stop or (cutoff is not None and oldest is not None and oldest < cutoff)
        if seen is not None:
            state["seen"] = seen.state(commit=done)
        stream.advance(sweep, body, token, done)
        yield Page(records, copy_state(state))
        if done:
            break
    return True


def _child_answers(
    child: ChildListing, parent_id: str, info: dict[str, Any], seen: SeenFilter | None
) -> Iterator[Fetched]:
    first, token = child.params(info), None
    for _ in range(child.config.max_pages):
        body = child.fetch(parent_id, child.paginator.request_params(first, token))
        records: list[Mapped] = []
        for item in child.records(body, parent_id):
            mapped = _mapped(child, item)
            if mapped.event is None:
                if _keep_failure(mapped, seen):
                    records.append(mapped)
            elif _keep_new(mapped, seen):
                records.append(mapped)
        token = child.paginator.next_token(body)
        yield Fetched(body, records, token)
        if token is None:
            return


def _children(child: ChildListing, sweep: Sweep, watched: dict[str, Any]) -> Iterator[Page]:
    state = sweep.state
    for parent_id in [p for p, info in watched.items() if info["created"] < sweep.horizon]:
        del watched[parent_id]  # old parents are no longer polled for children
    for parent_id in sorted(watched):
        info = watched[parent_id]
        count = sweep.counts.get(parent_id)
        if not child.changed(info, count):
            continue
        seen = SeenFilter(info.get("seen")) if child.newest_first else None
        batch: list[Mapped] = []
        try:
            for fetched in _child_answers(child, parent_id, info, seen):
                if child.one_page:
                    batch += fetched.records
                    continue
                child.advance(info, fetched.body, fetched.token)
                yield Page(fetched.records, copy_state(state))
        except SkipResource:
            del watched[parent_id]  # deleted post, comments closed: stop polling it
            yield Page([], copy_state(state))
            continue
        if seen is not None:
            info["seen"] = seen.state(commit=True)
        if child.count_field is not None:
            info[child.count_field] = count
        if child.one_page:
            yield Page(batch, copy_state(state))


def stream_pages(stream: PolledStream, saved: dict[str, Any] | None) -> Iterator[Page]:
    """The pages of one sweep of ``stream`` from its saved checkpoint state, each with the state to save."""
    now = epoch_now()
    sweep = Sweep(
        state=copy_state(saved) if saved else {},
        now=now,
        horizon=now - stream.config.lookback_days * 86400,
        watches=stream.watches,
        watch_fields=stream.watch_fields,
    )
    if stream.children is not None and stream.watches is None:
        raise RuntimeError(f"{type(stream).__name__} has children but declares no `watches`")
    if stream.watches:
        sweep.state.setdefault(stream.watches, {})
    readable = yield from _listing(stream, sweep)
    if readable and stream.children is not None and stream.watches:
        yield from _children(stream.children, sweep, sweep.state[stream.watches])


def run_streams(
    connector: str,
    streams: Iterable[PolledStream],
    settings: Settings,
    sink: EventSink | None = None,
) -> RunStats:
    """Run every stream once from its checkpoint; the checkpoint of a stream is ``<connector>.<key>``."""
    checkpoints = CheckpointStore(settings.checkpoints_dir)
    own_sink = sink is None
    sink = sink or EventSink(settings, connector)
    total = RunStats(connector=connector)
    started = time.perf_counter()
    try:
        for stream in streams:
            key = f"{connector}.{stream.key}"
            stats = run_pages(stream_pages(stream, checkpoints.load(key)), sink, checkpoints, key)
            log.info(
                "%s: %d produced, %d dead-lettered, %d pages", key, stats.produced, stats.dead_lettered, stats.pages
            )
            total.add(stats)
    finally:
        if own_sink:
            sink.close()
    total.duration_s = time.perf_counter() - started
    return total


def run_polled(
    name: str,
    factory: SourceFactory,
    settings: Settings,
    once: bool,
    connector_settings: ConnectorSettings,
    stop: threading.Event,
    max_runs: int | None,
) -> RunStats:
    """Sweeps of one source (see ``connectors.run_connector``); its clients are closed after each."""
    from connectors.http import RetriesExhausted
    from ecoute.kafka import DeliveryError

    poll_interval_s = getattr(connector_settings, name).poll_interval_s
    total = RunStats(connector=name)
    source = factory()
    try:
        streams = source.streams(settings, connector_settings)  # checks the configuration before touching Kafka
        sink = EventSink(settings, name)
    except BaseException:
        source.close()
        raise
    runs = 0
    try:
        while True:
            started = time.perf_counter()
            try:
                stats = run_streams(name, streams, settings, sink=sink)
            except (RetriesExhausted, DeliveryError) as exc:
                if once:
                    raise
                # Checkpoints hold: the next sweep resumes where this one stopped.
                log.error("%s sweep failed (%s); retrying in %.0fs", name, exc, poll_interval_s)
                stats = RunStats(connector=name)
            finally:
                source.close()
            total.add(stats)
            runs += 1
            log.info(
                "%s sweep %d: %d produced, %d dead-lettered in %.1fs",
                name,
                runs,
                stats.produced,
                stats.dead_lettered,
                time.perf_counter() - started,
            )
            if once or stop.is_set() or (max_runs is not None and runs >= max_runs):
                break
            if stop.wait(poll_interval_s):
                break
            streams = source.streams(settings, connector_settings)
    finally:
        sink.close()
        source.close()
    return total
