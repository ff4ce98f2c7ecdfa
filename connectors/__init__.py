"""Écoute connectors: sources → raw events in Kafka (``ecoute.raw.v1``), bad records → ``ecoute.dlq.v1``.

Public API:
- ``run_connector(name, settings, once=True)`` → :class:`RunStats` — what ``ecoute connect`` and the
  Airflow polling DAG call.
- ``connectors.file_import.import_file(path, settings, ...)`` — CSV/JSONL import.
- ``connectors.mapping.build_raw_event`` — the one raw-event builder every connector uses.
- ``connectors.webhooks.make_server`` / ``serve`` — the Facebook/Instagram webhook receiver.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from connectors.base import ConnectorError, RunStats

if TYPE_CHECKING:
    from connectors.config import ConnectorSettings
    from connectors.source import Source, SourceFactory
    from ecoute.settings import Settings


def _lazy(module: str, source_class: str) -> SourceFactory:
    """A factory importing its module only when a run needs it (``ecoute --help`` stays fast)."""

    def factory() -> Source:
        return getattr(importlib.import_module(module), source_class)()

    factory.__qualname__ = f"{module}.{source_class}"
    return factory


# Polled sources: name → factory of a connectors.source.Source.
POLLED: dict[str, SourceFactory] = {
    "facebook": _lazy("connectors.facebook", "FacebookSource"),
    "instagram": _lazy("connectors.instagram", "InstagramSource"),
    "youtube": _lazy("connectors.youtube", "YouTubeSource"),
    "reddit": _lazy("connectors.reddit", "RedditSource"),
    "x": _lazy("connectors.x", "XSource"),
    "rss": _lazy("connectors.rss", "RssSource"),
}
CONNECTORS = (*POLLED, "webhook", "import")

__all__ = ["CONNECTORS", "POLLED", "ConnectorError", "RunStats", "run_connector"]


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
    if name not in POLLED:
        hint = " (use import_file / `ecoute connect import FILE`)" if name == "import" else ""
        hint = " (use `ecoute connect webhook`, it serves HTTP)" if name == "webhook" else hint
        raise ConnectorError(f"{name!r} is not a polled connector; expected one of {', '.join(POLLED)}{hint}")
    from connectors.config import load_connector_settings
    from connectors.run import run_polled

    csettings = connector_settings or load_connector_settings(name)
    return run_polled(name, POLLED[name], settings, once, csettings, stop or threading.Event(), max_runs)
