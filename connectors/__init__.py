"""Écoute connectors: sources → raw events in Kafka (``ecoute.raw.v1``), bad records → ``ecoute.dlq.v1``.

Public API:
- ``run_connector(name, settings, once=True)`` → :class:`RunStats` — what ``ecoute connect`` and the
  Airflow polling DAG call.
- ``connectors.file_import.import_file(path, settings, ...)`` — CSV/JSONL import.
- ``connectors.base.build_raw_event`` — the one raw-event builder every connector uses.
- ``connectors.webhooks.make_server`` / ``serve`` — the Facebook/Instagram webhook receiver.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from typing import TYPE_CHECKING

from connectors.base import ConnectorError, RunStats

if TYPE_CHECKING:
    from connectors.config import ConnectorSettings
    from ecoute.settings import Settings

log = logging.getLogger(__name__)

# Polled sources: name → module with ``streams(settings, connector_settings) -> list[Stream]``.
POLLED = {
    "facebook": "connectors.facebook",
    "instagram": "connectors.instagram",
    "youtube": "connectors.youtube",
    "reddit": "connectors.reddit",
    "x": "connectors.x",
    "rss": "connectors.rss",
}
CONNECTORS = (*POLLED, "webhook", "import")

__all__ = ["CONNECTORS", "ConnectorError", "RunStats", "run_connector"]


def run_connector(
    name: str,
    settings: Settings,
    once: bool = True,
    *,
    connector_settings: ConnectorSettings | None = None,
    stop: threading.Event | None = None,
    max_runs: int | None = None,
) -> RunStats:
    """Run one polled connector from its checkpoints: one sweep (``once``) or sweeps every
    ``poll_interval_s`` until ``stop`` is set (or ``max_runs`` sweeps). Returns the summed stats.

    Raises ConnectorError for what a person must fix (missing or expired credentials...).
    """
    from connectors.base import EventSink, run_streams
    from connectors.config import load_connector_settings
    from connectors.http import RetriesExhausted
    from ecoute.kafka import DeliveryError

    if name not in POLLED:
        hint = " (use import_file / `ecoute connect import FILE`)" if name == "import" else ""
        hint = " (use `ecoute connect webhook`, it serves HTTP)" if name == "webhook" else hint
        raise ConnectorError(f"{name!r} is not a polled connector; expected one of {', '.join(POLLED)}{hint}")
    module = importlib.import_module(POLLED[name])
    csettings = connector_settings or load_connector_settings(name)
    source_settings = getattr(csettings, name)
    stop = stop or threading.Event()
    total = RunStats(connector=name)
    streams = module.streams(settings, csettings)  # checks the configuration before touching Kafka
    sink = EventSink(settings, name)
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
                log.error("%s sweep failed (%s); retrying in %.0fs", name, exc, source_settings.poll_interval_s)
                stats = RunStats(connector=name)
            total.add(stats)
            runs += 1
            log.info(
                "%s sweep %d: %d produced, %d dead-lettered in %.1fs",
                name, runs, stats.produced, stats.dead_lettered, time.perf_counter() - started,
            )  # fmt: skip
            if once or stop.is_set() or (max_runs is not None and runs >= max_runs):
                break
            if stop.wait(source_settings.poll_interval_s):
                break
            streams = module.streams(settings, csettings)
    finally:
        sink.close()
    return total

