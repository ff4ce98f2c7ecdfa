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

import csv
import gzip
import hashlib
import io
from collections.abc import Iterator
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
    RunStats,
    build_raw_event,
    map_record,
    parse_bool,
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


def row_to_event(
    row: dict[str, Any],
    settings: Settings,
    *,
    default_source: str = "import",
    default_channel: str | None = None,
    fetched_at: str | None = None,
) -> dict[str, Any]:
    """One import-format row → one raw event (MappingError when it cannot be)."""
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


def _records(path: Path, fmt: str) -> Iterator[tuple[str | bytes, dict[str, Any] | None, str | None]]:
    """(original text of the record, parsed row or None, parse error or None), in file order."""
    with _open_binary(path) as raw:
        if fmt == "jsonl":
            for line in raw:
                stripped = line.strip()
                if not stripped:
                    continue
                try:
                    row = orjson.loads(stripped)
                except orjson.JSONDecodeError as exc:
                    yield stripped, None, f"parse: not JSON ({exc})"
                    continue
                if not isinstance(row, dict):
                    yield stripped, None, f"parse: a JSON object is expected, got {type(row).__name__}"
                    continue
                yield stripped, row, None
            return
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
        delimiter = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        header = [column.strip() for column in header]
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                # The rest of the file cannot be read reliably: say where, and stop the run.
                raise ConnectorError(f"{path.name} line {reader.line_num}: {exc}") from None
            if not any(cell.strip() for cell in cells):
                continue
            original = _csv_line(header, cells, delimiter)
            if len(cells) != len(header):
                yield original, None, f"parse: {len(cells)} columns where the header has {len(header)}"
                continue
            yield original, dict(zip(header, cells, strict=True)), None


def _csv_line(header: list[str], cells: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerow(cells)
    return buffer.getvalue().rstrip("\r\n")


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
) -> Iterator[Page]:
    fmt = file_format(path)
    done = int(state.get("records", 0)) if state and state.get("fingerprint") == fingerprint else 0
    position = 0
    batch: list[Mapped] = []
    skipped = 0
    fetched_at = events.utc_now()
    default_source = source or "import"
    for original, row, error in _records(path, fmt):
        position += 1
        if position <= done:
            skipped += 1
            continue
        if error is not None or row is None:
            batch.append(Mapped(original, reason=error))
        else:
            renamed = _rename(row, mapping or {})
            if source and not renamed.get("source"):
                renamed["source"] = source
            native = renamed.get("native_id")
            mapped = map_record(
                original,
                lambda r=renamed: row_to_event(
                    r, settings, default_source=default_source, default_channel=channel, fetched_at=fetched_at
                ),
                native,
            )
            batch.append(mapped)
        if len(batch) >= batch_size:
            yield Page(batch, _state(path, fingerprint, position), skipped)
            batch, skipped = [], 0
    if batch or skipped:
        yield Page(batch, _state(path, fingerprint, position), skipped)


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
) -> RunStats:
    """Import one CSV/TSV/JSONL file (optionally .gz) into ``settings.topics.raw``.

    Rows are renamed with ``mapping`` ({their column: import-format field}), ``source`` fills rows
    without one, ``channel`` fills rows without one. Each batch of ``batch_size`` records is produced
    (acks=all), then the checkpoint advances; a re-run skips what was acknowledged. ``restart``
    forgets the checkpoint first. Bad rows are dead-lettered with the reason and the original line.
    """
    path = Path(path)
    if not path.is_file():
        raise ConnectorError(f"{path}: no such file")
    if source is not None and source not in events.SOURCES:
        raise ConnectorError(f"--source {source!r}: expected one of {', '.join(events.SOURCES)}")
    if batch_size < 1:
        raise ConnectorError("batch_size must be at least 1")
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
            batch_size=batch_size,
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
                on_page=lambda page: bar.advance(task, len(page.records) + page.skipped),
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
