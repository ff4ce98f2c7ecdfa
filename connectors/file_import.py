"""File import: CSV and JSONL exports (optionally .gz) in the Écoute import format → ecoute.raw.v1.

The Écoute import format and its column mapping are in connectors/import_rows.py, the file
formats (CSV/TSV/JSONL readers) in connectors/import_readers.py; this module runs an import. Other
exports are imported with a column mapping (``{"their column": "import-format field"}``).

The checkpoint is keyed by a fingerprint of the file's first 64 KiB and counts the records
already acknowledged, so re-running the same file (or an export that grew at its end) does not
re-send what is already in Kafka. Bad rows go to the dead-letter topic with the original line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import EventSink, Page, Prepared, RunStats, run_pages
from connectors.checkpoints import CheckpointStore
from connectors.errors import ConnectorError
from connectors.import_readers import (
    ReadLimits,
    check_encoding,
    chunks,
    count_records,
    file_fingerprint,
    file_format,
)
from connectors.import_rows import IMPORT_FIELDS, MapOptions, map_items, parse_mapping, prepare_chunk, row_to_event
from ecoute import events
from ecoute.settings import Settings

__all__ = [
    "IMPORT_FIELDS",
    "auto_workers",
    "check_encoding",
    "file_fingerprint",
    "file_format",
    "import_file",
    "import_pages",
    "parse_mapping",
    "row_to_event",
]


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: leave when the importer dies (even by SIGKILL), never linger as an orphan."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def import_pages(
    path: Path,
    settings: Settings,
    state: dict[str, Any] | None,
    *,
    fingerprint: str,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    channel: str | None = None,
    batch_size: int = 1000,
    workers: int = 0,
    encoding: str = "utf-8",
) -> Iterator[Page]:
    """Pages of the file after its checkpoint. With ``workers`` > 0, mapping, validation and
    serialisation run in worker processes (a few batches ahead); pages still come out in file
    order, so the checkpoint still only ever advances over acknowledged records."""
    fmt = file_format(path)
    done = int(state.get("records", 0)) if state and state.get("fingerprint") == fingerprint else 0
    options = MapOptions(settings, mapping or {}, source, channel, events.utc_now())
    limits = ReadLimits.for_file(path, settings)
    if workers <= 0:
        for chunk, position, skipped in chunks(path, fmt, done, batch_size, encoding, limits):
            yield Page(map_items(chunk, fmt, options), _state(path, fingerprint, position), skipped)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    # spawn, not fork: the caller may already run threads (Kafka producer, progress bar).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        pending: deque[tuple[Future[Prepared], int, int]] = deque()
        try:
            for chunk, position, skipped in chunks(path, fmt, done, batch_size, encoding, limits):
                pending.append((pool.submit(prepare_chunk, chunk, fmt, options), position, skipped))
                if len(pending) > workers + 1:
                    future, at, skip = pending.popleft()
                    yield Page([], _state(path, fingerprint, at), skip, prepared=future.result())
            while pending:
                future, at, skip = pending.popleft()
                yield Page([], _state(path, fingerprint, at), skip, prepared=future.result())
        finally:
            for future, _, _ in pending:
                future.cancel()


def auto_workers(path: Path) -> int:
    """One mapping worker for big files when a CPU is idle; otherwise in-process is faster
    (on a saturated machine a second process only adds pickling and hand-over work)."""
    cpus = os.cpu_count() or 1
    idle_cpu = os.getloadavg()[0] <= cpus - 0.5
    return 1 if cpus >= 2 and idle_cpu and path.stat().st_size >= 16 * 1024 * 1024 else 0


def _state(path: Path, fingerprint: str, records: int) -> dict[str, Any]:
    return {"fingerprint": fingerprint, "file": str(path), "records": records}


def import_file(
    path: Path,
    settings: Settings,
    *,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    channel: str | None = None,
    batch_size: int = 1000,
    progress: bool = False,
    restart: bool = False,
    sink: EventSink | None = None,
    workers: int | None = None,
    encoding: str = "utf-8",
) -> RunStats:
    """Import one CSV/TSV/JSONL file (optionally .gz) into ``settings.topics.raw``.

    Rows are renamed with ``mapping`` ({their column: import-format field}), ``source`` fills rows
    without one, ``channel`` fills rows without one. Each batch of ``batch_size`` records is produced
    (acks=all), then the checkpoint advances; a re-run skips what was acknowledged. ``restart``
    forgets the checkpoint first. Bad rows are dead-lettered with the reason and the original line.
    ``workers`` mapping processes (default: 1 for files of 16 MB or more when a CPU is idle, else 0).
    ``encoding`` is the file's text encoding (default utf-8, with or without a BOM).
    """
    path = Path(path)
    if not path.is_file():
        raise ConnectorError(f"{path}: no such file")
    if source is not None and source not in events.SOURCES:
        raise ConnectorError(f"--source {source!r}: expected one of {', '.join(events.SOURCES)}")
    if batch_size < 1:
        raise ConnectorError("batch_size must be at least 1")
    encoding = check_encoding(encoding)
    fingerprint = file_fingerprint(path)
    checkpoints = CheckpointStore(settings.checkpoints_dir)
    key = f"import.{fingerprint}"
    if restart:
        checkpoints.delete(key)
    state = checkpoints.load(key)
    own_sink = sink is None
    sink = sink or EventSink(settings, "import")
    try:
        pages = import_pages(
            path,
            settings,
            state,
            fingerprint=fingerprint,
            mapping=mapping,
            source=source,
            channel=channel,
            batch_size=batch_size,
            workers=auto_workers(path) if workers is None else workers,
            encoding=encoding,
        )
        if not progress:
            return run_pages(pages, sink, checkpoints, key)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        total = count_records(path, ReadLimits.for_file(path, settings))
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(f"import {path.name}", total=total)
            return run_pages(
                pages,
                sink,
                checkpoints,
                key,
                on_page=lambda page: bar.advance(task, page.size + page.skipped),
            )
    finally:
        if own_sink:
            sink.close()
