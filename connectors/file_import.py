"""File import: CSV and JSONL exports (optionally .gz) in the Écoute import format → ecoute.raw.v1.

The Écoute import format is flat, one record per row/line:

    source (facebook|instagram|youtube|reddit|x|rss|webhook|import; default "import"), native_id
    (required), kind (post|comment|reply; default post, or comment when a parent is given),
    parent_native_id, thread_native_id, channel, author_id, author_name, author_is_brand
    (true/false/1/0), text, url, created_at (RFC 3339, or "YYYY-MM-DD HH:MM:SS" taken as UTC),
    likes, replies, shares.

Other exports are imported with a column mapping (``{"their column": "import-format field"}``).
The checkpoint is keyed by a fingerprint of the file's first 64 KiB and counts the records
already acknowledged, so re-running the same file (or an export that grew at its end) does not
re-send what is already in Kafka. Bad rows go to the dead-letter topic with the original line.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from connectors.base import (
    CheckpointStore,
    ConnectorError,
    EventSink,
    Mapped,
    MappingError,
    Page,
    Prepared,
    RunStats,
    build_raw_event,
    json_kind,
    map_record,
    parse_bool,
    prepare,
    run_pages,
)
from ecoute import events
from ecoute.settings import Settings

IMPORT_FIELDS = (
    "source",
    "native_id",
    "kind",
    "parent_native_id",
    "thread_native_id",
    "channel",
    "author_id",
    "author_name",
    "author_is_brand",
    "text",
    "url",
    "created_at",
    "likes",
    "replies",
    "shares",
)
FINGERPRINT_BYTES = 64 * 1024


def file_fingerprint(path: Path) -> str:
    """sha256 of the first 64 KiB (decompressed for .gz) and of the file's format."""
    digest = hashlib.sha256(file_format(path).encode())
    with _open_binary(path) as handle:
        digest.update(handle.read(FINGERPRINT_BYTES))
    return digest.hexdigest()[:32]


def file_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if kind in (".csv", ".tsv"):
        return "csv"
    raise ConnectorError(f"{path.name}: unknown format; expected .csv, .tsv, .jsonl or .ndjson (optionally .gz)")


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def parse_mapping(pairs: list[str] | None) -> dict[str, str]:
    """``["Comment ID=native_id", ...]`` → ``{"Comment ID": "native_id"}`` (checks the target fields)."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        column, sep, target = pair.rpartition("=")
        if not sep or not column or not target:
            raise ConnectorError(f"mapping {pair!r}: expected COLUMN=FIELD")
        if target not in IMPORT_FIELDS:
            raise ConnectorError(
                f"mapping {pair!r}: {target!r} is not a field of the import format ({', '.join(IMPORT_FIELDS)})"
            )
        mapping[column] = target
    return mapping


_TEXT_FIELDS = ("source", "native_id", "kind", "parent_native_id", "thread_native_id", "channel", "author_id",
                "author_name", "text", "url")  # fmt: skip


def _check_scalars(row: dict[str, Any]) -> None:
    """A text field holding a list, an object or a boolean is junk: reject it rather than store its repr."""
    for name in _TEXT_FIELDS:
        value = row.get(name)
        if value is None or isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
            continue
        raise MappingError(f"{name} must be a string, not {json_kind(value)}")


def row_to_event(
    row: dict[str, Any],
    settings: Settings,
    *,
    default_source: str = "import",
    default_channel: str | None = None,
    fetched_at: str | None = None,
) -> dict[str, Any]:
    """One import-format row → one raw event (MappingError when it cannot be)."""
    _check_scalars(row)
    source = (str(row.get("source") or "").strip().lower()) or default_source
    if source not in events.SOURCES:
        raise MappingError(f"source {source!r} is not one of {', '.join(events.SOURCES)}")
    native_id = row.get("native_id")
    if native_id is None or str(native_id).strip() == "":
        raise MappingError("native_id is missing")
    parent = row.get("parent_native_id") or None
    kind = (str(row.get("kind") or "").strip().lower()) or ("comment" if parent else "post")
    text = row.get("text")
    if text is not None and not isinstance(text, str):
        text = str(text)
    return build_raw_event(
        settings,
        source=source,
        native_id=str(native_id).strip(),
        kind=kind,
        channel=str(row.get("channel") or "").strip() or default_channel,
        author_native_id=row.get("author_id"),
        author_name=row.get("author_name") or None,
        author_is_brand=parse_bool(row.get("author_is_brand")),
        parent_native_id=parent,
        thread_native_id=row.get("thread_native_id") or None,
        text=text,
        url=row.get("url") or None,
        created_at=row.get("created_at"),
        likes=row.get("likes"),
        replies=row.get("replies"),
        shares=row.get("shares"),
        raw=None,
        fetched_at=fetched_at,
    )


def _rename(row: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    if not mapping:
        return row
    renamed = {key: value for key, value in row.items() if key not in mapping}
    for column, target in mapping.items():
        if column in row:
            renamed[target] = row[column]
    return renamed


# A CSV field may be up to this big before the reader gives up on it; a record that big is
# dead-lettered anyway (MAX_EVENT_BYTES), but the run goes on to the next rows.
CSV_FIELD_LIMIT = 64 * 1024 * 1024


def _text_encoding(encoding: str) -> str:
    # utf-8 files may start with a BOM (Excel exports): utf-8-sig reads both.
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def check_encoding(encoding: str) -> str:
    import codecs

    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConnectorError(f"--encoding {encoding!r}: unknown encoding (try utf-8, latin-1 or cp1252)") from None


def _has_undecodable(cells: list[str]) -> bool:
    return any("\udc80" <= ch <= "\udcff" for cell in cells for ch in cell)


def _records(
    path: Path, fmt: str, encoding: str = "utf-8"
) -> Iterator[tuple[str | bytes, dict[str, Any] | None, str | None]]:
    """CSV/TSV: (the row's original lines, the row by column or None, the parse error or None).

    Undecodable bytes are kept (surrogateescape): such a row is dead-lettered with its original
    bytes and line number, and the rows after it are still imported.
    """
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    with _open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding=_text_encoding(encoding), errors="surrogateescape", newline="")
        delimiter = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
        consumed: list[str] = []

        def lines() -> Iterator[str]:
            for line in text:
                consumed.append(line)
                yield line

        reader = csv.reader(lines(), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ConnectorError(f"{path.name} line {reader.line_num}: the header cannot be read ({exc})") from None
        if _has_undecodable(header):
            raise ConnectorError(
                f"{path.name}: the header line is not valid {encoding}; "
                "pass the file's encoding, e.g. --encoding latin-1 or --encoding cp1252"
            )
        header = [column.strip() for column in header]
        while True:
            consumed.clear()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                original = "".join(consumed).rstrip("\r\n")
                yield _original(original, encoding), None, f"parse: line {reader.line_num}: {exc}"
                continue
            if not any(cell.strip() for cell in cells):
                continue
            original = "".join(consumed).rstrip("\r\n")
            if _has_undecodable(cells):
                yield _original(original, encoding), None, f"parse: line {reader.line_num} is not valid {encoding}"
                continue
            if len(cells) != len(header):
                yield original, None, (
                    f"parse: line {reader.line_num}: {len(cells)} columns where the header has {len(header)}"
                )
                continue
            yield original, dict(zip(header, cells, strict=True)), None


def _original(text: str, encoding: str) -> str | bytes:
    """The original bytes of a line with undecodable bytes (kept whole in the DLQ), else its text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode(encoding, errors="surrogateescape")
    return text


@dataclass
class _MapOptions:
    settings: Settings
    mapping: dict[str, str]
    source: str | None
    channel: str | None
    fetched_at: str


def _parse_json_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return None, f"parse: not JSON ({exc})"
    if not isinstance(row, dict):
        return None, f"parse: a JSON object is expected, got {type(row).__name__}"
    return row, None


def _map_items(items: list[Any], fmt: str, options: _MapOptions) -> list[Mapped]:
    """Raw items (JSONL lines, or parsed CSV rows) → mapped records."""
    records: list[Mapped] = []
    default_source = options.source or "import"
    for item in items:
        if fmt == "jsonl":
            original = item
            row, error = _parse_json_line(item)
        else:
            original, row, error = item
        if error is not None or row is None:
            records.append(Mapped(original, reason=error))
            continue
        renamed = _rename(row, options.mapping)
        if options.source and not renamed.get("source"):
            renamed["source"] = options.source
        records.append(
            map_record(
                original,
                lambda r=renamed: row_to_event(
                    r,
                    options.settings,
                    default_source=default_source,
                    default_channel=options.channel,
                    fetched_at=options.fetched_at,
                ),
                renamed.get("native_id"),
            )
        )
    return records


def _prepare_chunk(items: list[Any], fmt: str, options: _MapOptions) -> Prepared:
    """Map, validate and serialise one batch (runs in a worker process)."""
    return prepare(_map_items(items, fmt, options), "import")


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: leave when the importer dies (even by SIGKILL), never linger as an orphan."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


UTF8_BOM = b"\xef\xbb\xbf"


def _raw_items(path: Path, fmt: str, encoding: str = "utf-8") -> Iterator[Any]:
    """JSONL: the raw non-blank lines (parsed later, possibly in a worker); CSV: parsed rows."""
    if fmt == "jsonl":
        recode = _text_encoding(encoding) != "utf-8-sig"
        with _open_binary(path) as handle:
            for number, line in enumerate(handle):
                if number == 0 and line.startswith(UTF8_BOM):  # Windows tools write one; JSON does not allow it
                    line = line[len(UTF8_BOM) :]
                stripped = line.strip()
                if stripped and recode:
                    # Undecodable: kept as is, dead-lettered as not JSON with its original bytes.
                    with contextlib.suppress(UnicodeDecodeError):
                        stripped = stripped.decode(encoding).encode("utf-8")
                if stripped:
                    yield stripped
        return
    yield from _records(path, fmt, encoding)


def _chunks(
    path: Path, fmt: str, done: int, batch_size: int, encoding: str = "utf-8"
) -> Iterator[tuple[list[Any], int, int]]:
    """(items, position after the chunk, items skipped as already checkpointed)."""
    position = skipped = 0
    chunk: list[Any] = []
    for item in _raw_items(path, fmt, encoding):
        position += 1
        if position <= done:
            skipped += 1
            continue
        chunk.append(item)
        if len(chunk) >= batch_size:
            yield chunk, position, skipped
            chunk, skipped = [], 0
    if chunk or skipped:
        yield chunk, position, skipped


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
    options = _MapOptions(settings, mapping or {}, source, channel, events.utc_now())
    if workers <= 0:
        for chunk, position, skipped in _chunks(path, fmt, done, batch_size, encoding):
            yield Page(_map_items(chunk, fmt, options), _state(path, fingerprint, position), skipped)
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
            for chunk, position, skipped in _chunks(path, fmt, done, batch_size, encoding):
                pending.append((pool.submit(_prepare_chunk, chunk, fmt, options), position, skipped))
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
            path, settings, state, fingerprint=fingerprint, mapping=mapping, source=source, channel=channel,
            batch_size=batch_size, workers=auto_workers(path) if workers is None else workers, encoding=encoding,
        )  # fmt: skip
        if not progress:
            return run_pages(pages, sink, checkpoints, key)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        total = _count_records(path)
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            transient=False,
        ) as bar:  # fmt: skip
            task = bar.add_task(f"import {path.name}", total=total)
            return run_pages(
                pages, sink, checkpoints, key,
                on_page=lambda page: bar.advance(task, page.size + page.skipped),
            )  # fmt: skip
    finally:
        if own_sink:
            sink.close()


def _count_records(path: Path) -> int | None:
    """Lines of the file (the bar's total; CSV rows with embedded new lines make it an estimate)."""
    try:
        with _open_binary(path) as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None
    return max(0, lines - (1 if file_format(path) == "csv" else 0))
