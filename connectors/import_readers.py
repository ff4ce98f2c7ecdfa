"""The import file formats: CSV/TSV and JSON Lines, optionally gzip'ed, read as raw items.

A JSONL item is one non-blank line (bytes, parsed later, possibly in a worker process); a CSV item
— or a JSONL line that cannot be an event — is ``(original, row by column or None, parse error or
None)``. A line that cannot be read is an item with its error and original bytes, never the end of
the file. Mapping the items to raw events is connectors/import_rows.py; the run (checkpoint,
workers, produce) connectors/file_import.py.

Files are streamed and what one costs is bounded (:class:`ReadLimits`, ``ECOUTE_IMPORTS__*``): a
line longer than ``max_line_bytes`` is dead-lettered with its first 64 KiB, its size and its
sha256, and never held whole; a .gz file that decompresses beyond its allowance (a gzip bomb) is
refused with the limit named. Text in another encoding is decoded, then split into lines (UTF-16
has newline bytes inside its characters).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
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


LINE_HEAD_BYTES = 64 * 1024  # what the dead letter of an over-long line keeps of it


@dataclass(frozen=True)
class ReadLimits:
    """What reading one file may cost: the longest line, and what a .gz may decompress to."""

    max_line_bytes: int = 4 * 1024 * 1024
    max_decompressed_bytes: int | None = None  # None: no bound (plain files are their own size)

    @classmethod
    def for_file(cls, path: Path, settings: Any) -> ReadLimits:
        """The limits of ``settings.imports`` applied to this file (its compressed size sets the allowance)."""
        imports = settings.imports
        allowance = None
        if path.suffix.lower() == ".gz":
            allowance = max(imports.gzip_floor_bytes, int(path.stat().st_size * imports.gzip_max_ratio))
        return cls(imports.max_line_bytes, allowance)


class DecompressionLimit(ConnectorError):
    """A .gz file decompressed past its allowance (a gzip bomb, or an export needing a higher limit)."""


class DamagedGzip(ConnectorError):
    """A .gz file that is not gzip, or whose data is damaged or cut short."""


class _Bounded(io.RawIOBase):
    """A decompressing stream that refuses to produce more than ``limit`` bytes (None: no bound) and
    turns damaged gzip data into one clear error."""

    def __init__(self, inner: io.BufferedIOBase, limit: int | None, name: str):
        self.inner, self.limit, self.name, self.total = inner, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            count = self.inner.readinto(buffer)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            after = (
                f"after {self.total:,} decompressed bytes ({exc}); the records before this point were imported, "
                "re-run with a complete file to import the rest"
                if self.total
                else f"({exc}); nothing was imported"
            )
            raise DamagedGzip(f"{self.name}: the gzip data is damaged or cut short {after}") from None
        self.total += count
        if self.limit is not None and self.total > self.limit:
            raise DecompressionLimit(
                f"{self.name}: decompresses to more than {self.limit:,} bytes, the allowance of this .gz file "
                "(ECOUTE_IMPORTS__GZIP_MAX_RATIO times its size, at least ECOUTE_IMPORTS__GZIP_FLOOR_BYTES); "
                "refused as a likely gzip bomb. The records before this point were imported; "
                "raise the limit if it is a real export"
            )
        return count

    def close(self) -> None:
        self.inner.close()
        super().close()


def open_binary(path: Path, limits: ReadLimits | None = None) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        inner = gzip.open(path, "rb")  # noqa: SIM115 - closed by _Bounded.close
        allowance = limits.max_decompressed_bytes if limits is not None else None
        bounded = _Bounded(inner, allowance, path.name)
        return io.BufferedReader(bounded, buffer_size=1 << 20)
    return open(path, "rb")


def _lines(handle: Any, limit: int, newline: Any) -> Iterator[tuple[Any, int | None, str | None]]:
    """(line, None, None), or for a line longer than ``limit``: (its first LINE_HEAD_BYTES, its size,
    its sha256). The rest of a long line is read in pieces and dropped: never held whole."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(newline):
            yield line, None, None
            continue
        head, size = line[:LINE_HEAD_BYTES], len(line)
        digest = hashlib.sha256(line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass"))
        while not line.endswith(newline):
            line = handle.readline(1 << 20)
            if not line:
                break
            size += len(line)
            digest.update(line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass"))
        yield head, size - line.endswith(newline), digest.hexdigest()  # the size of the line, not of its end


def _too_long(number: int, size: int, digest: str | None, limit: int, unit: str = "bytes") -> str:
    return (
        f"parse: line {number} is {size:,} {unit} long, over the {limit:,}-{unit.rstrip('s')} line limit "
        f"(ECOUTE_IMPORTS__MAX_LINE_BYTES); its first {LINE_HEAD_BYTES:,} {unit} are kept, sha256 {digest}"
    )


def text_encoding(encoding: str) -> str:
    # utf-8 files may start with a BOM (Excel exports): utf-8-sig reads both.
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def check_encoding(encoding: str) -> str:
    import codecs

    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConnectorError(f"--encoding {encoding!r}: unknown encoding (try utf-8, latin-1 or cp1252)") from None


def _keep_bytes(error: UnicodeError) -> tuple[str, int]:
    """Decoding error handler: each undecodable byte becomes U+DC00 + its value. Like surrogateescape,
    but for every byte value (UTF-16's cut-short or unpaired units include bytes under 0x80)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(chr(0xDC00 + byte) for byte in error.object[error.start : error.end]), error.end


codecs.register_error("ecoute-keep-bytes", _keep_bytes)
KEEP_BYTES = "ecoute-keep-bytes"


def _has_undecodable(cells: list[str]) -> bool:
    return any("\udc00" <= ch <= "\udcff" for cell in cells for ch in cell)


def csv_records(
    path: Path, fmt: str, encoding: str = "utf-8", limits: ReadLimits | None = None
) -> Iterator[tuple[str | bytes, dict[str, Any] | None, str | None]]:
    """CSV/TSV: (the row's original lines, the row by column or None, the parse error or None).

    Undecodable bytes are kept (``KEEP_BYTES``): such a row is dead-lettered with its original
    bytes and line number, and the rows after it are still imported. A physical line over the
    line limit is dead-lettered with its head (the reader sees an empty line in its place).
    """
    limits = limits or ReadLimits()
    # A field (a quoted one may span lines) no bigger than a line may be; a record that big is
    # dead-lettered anyway (MAX_EVENT_BYTES), and the run goes on to the next rows.
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_line_bytes))
    with open_binary(path, limits) as raw:
        text = io.TextIOWrapper(raw, encoding=text_encoding(encoding), errors=KEEP_BYTES, newline="")
        delimiter = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
        consumed: list[str] = []
        too_long: list[tuple[int, int, str | None]] = []  # (physical line, size, sha256) in the current record
        physical = 0

        def lines() -> Iterator[str]:
            nonlocal physical
            for line, size, digest in _lines(text, limits.max_line_bytes, "\n"):
                physical += 1
                consumed.append(line)
                if size is not None:
                    too_long.append((physical, size, digest))
                    yield "\n"
                else:
                    yield line

        reader = csv.reader(lines(), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ConnectorError(f"{path.name} line {reader.line_num}: the header cannot be read ({exc})") from None
        if too_long:
            raise ConnectorError(f"{path.name}: the header line is over the line limit ({limits.max_line_bytes:,})")
        if _has_undecodable(header):
            raise ConnectorError(
                f"{path.name}: the header line is not valid {encoding}; "
                "pass the file's encoding, e.g. --encoding latin-1 or --encoding cp1252"
            )
        header = [column.strip() for column in header]
        while True:
            consumed.clear()
            too_long.clear()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                original = "".join(consumed).rstrip("\r\n")
                yield _original(original, encoding), None, f"parse: line {reader.line_num}: {exc}"
                continue
            if too_long:
                number, size, digest = too_long[0]
                original = "".join(consumed).rstrip("\r\n")
                yield (
                    _original(original, encoding),
                    None,
                    _too_long(number, size, digest, limits.max_line_bytes, "characters"),
                )
                continue
            if not any(cell.strip() for cell in cells):
                continue
            original = "".join(consumed).rstrip("\r\n")
            if _has_undecodable(cells):
                yield _original(original, encoding), None, f"parse: line {reader.line_num} is not valid {encoding}"
                continue
            if len(cells) != len(header):
                yield (
                    original,
                    None,
                    (f"parse: line {reader.line_num}: {len(cells)} columns where the header has {len(header)}"),
                )
                continue
            yield original, dict(zip(header, cells, strict=True)), None


def _original(text: str, encoding: str) -> str | bytes:
    """The original bytes of a line with undecodable bytes (kept whole in the DLQ), else its text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        encoder = codecs.getincrementalencoder(encoding)()
        kept = bytearray()
        for run in re.split("([\udc00-\udcff]+)", text):
            if run and "\udc00" <= run[0] <= "\udcff":
                kept += bytes(ord(ch) - 0xDC00 for ch in run)
            elif run:
                kept += encoder.encode(run)
        return bytes(kept)
    return text


UTF8_BOM = b"\xef\xbb\xbf"


def raw_items(path: Path, fmt: str, encoding: str = "utf-8", limits: ReadLimits | None = None) -> Iterator[Any]:
    """JSONL: the raw non-blank lines (parsed later, possibly in a worker); CSV: parsed rows."""
    limits = limits or ReadLimits()
    if fmt != "jsonl":
        yield from csv_records(path, fmt, encoding, limits)
        return
    with open_binary(path, limits) as handle:
        if text_encoding(encoding) == "utf-8-sig":  # UTF-8 (and ASCII): split the bytes, no decoding here
            for number, (line, size, digest) in enumerate(_lines(handle, limits.max_line_bytes, b"\n"), 1):
                if number == 1 and line.startswith(UTF8_BOM):  # Windows tools write one; JSON does not allow it
                    line = line[len(UTF8_BOM) :]
                if size is not None:
                    yield line, None, _too_long(number, size, digest, limits.max_line_bytes)
                elif stripped := line.strip():
                    yield stripped
            return
        # Any other encoding: decode, then split (UTF-16 has b"\n" inside its characters).
        text = io.TextIOWrapper(handle, encoding=encoding, errors=KEEP_BYTES, newline="\n")
        for number, (line, size, digest) in enumerate(_lines(text, limits.max_line_bytes, "\n"), 1):
            if number == 1:
                line = line.lstrip("\ufeff")
            if size is not None:
                yield (
                    _original(line, encoding),
                    None,
                    _too_long(number, size, digest, limits.max_line_bytes, "characters"),
                )
            elif stripped := line.strip():
                original = _original(stripped, encoding)  # undecodable: the original bytes, dead-lettered as not JSON
                yield original if isinstance(original, bytes) else stripped.encode("utf-8")


def chunks(
    path: Path, fmt: str, done: int, batch_size: int, encoding: str = "utf-8", limits: ReadLimits | None = None
) -> Iterator[tuple[list[Any], int, int]]:
    """(items, position after the chunk, items skipped as already checkpointed)."""
    position = skipped = 0
    chunk: list[Any] = []
    for item in raw_items(path, fmt, encoding, limits):
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


def count_records(path: Path, limits: ReadLimits | None = None) -> int | None:
    """Lines of the file (the bar's total; CSV rows with embedded new lines make it an estimate);
    None when unreadable or over its decompression allowance (the import then says why)."""
    try:
        with open_binary(path, limits) as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except (OSError, ConnectorError):
        return None
    return max(0, lines - (1 if file_format(path) == "csv" else 0))
