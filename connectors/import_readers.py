"""The import file formats: CSV/TSV and JSON Lines, optionally gzip'ed, read as raw items.

A JSONL item is one non-blank line (bytes, parsed later, possibly in a worker process); a CSV item
is ``(original lines, row by column or None, parse error or None)``. A line that cannot be read is
an item with its error and original bytes, never the end of the file. Mapping the items to raw
events is connectors/import_rows.py; the run (checkpoint, workers, produce) connectors/file_import.py.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from connectors.errors import ConnectorError

FINGERPRINT_BYTES = 64 * 1024


def file_fingerprint(path: Path) -> str:
    """sha256 of the first 64 KiB (decompressed for .gz) and of the file's format."""
    digest = hashlib.sha256(file_format(path).encode())
    with open_binary(path) as handle:
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


def open_binary(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


# A CSV field may be up to this big before the reader gives up on it; a record that big is
# dead-lettered anyway (MAX_EVENT_BYTES), but the run goes on to the next rows.
CSV_FIELD_LIMIT = 64 * 1024 * 1024


def text_encoding(encoding: str) -> str:
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


def csv_records(
    path: Path, fmt: str, encoding: str = "utf-8"
) -> Iterator[tuple[str | bytes, dict[str, Any] | None, str | None]]:
    """CSV/TSV: (the row's original lines, the row by column or None, the parse error or None).

    Undecodable bytes are kept (surrogateescape): such a row is dead-lettered with its original
    bytes and line number, and the rows after it are still imported.
    """
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    with open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding=text_encoding(encoding), errors="surrogateescape", newline="")
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


UTF8_BOM = b"\xef\xbb\xbf"


def raw_items(path: Path, fmt: str, encoding: str = "utf-8") -> Iterator[Any]:
    """JSONL: the raw non-blank lines (parsed later, possibly in a worker); CSV: parsed rows."""
    if fmt == "jsonl":
        recode = text_encoding(encoding) != "utf-8-sig"
        with open_binary(path) as handle:
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
    yield from csv_records(path, fmt, encoding)


def chunks(
    path: Path, fmt: str, done: int, batch_size: int, encoding: str = "utf-8"
) -> Iterator[tuple[list[Any], int, int]]:
    """(items, position after the chunk, items skipped as already checkpointed)."""
    position = skipped = 0
    chunk: list[Any] = []
    for item in raw_items(path, fmt, encoding):
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


def count_records(path: Path) -> int | None:
    """Lines of the file (the bar's total; CSV rows with embedded new lines make it an estimate)."""
    try:
        with open_binary(path) as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None
    return max(0, lines - (1 if file_format(path) == "csv" else 0))
