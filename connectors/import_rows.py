"""The Écoute import format and the mapping of import rows to raw events.

The format is flat, one record per row/line:

    source (facebook|instagram|youtube|reddit|x|rss|webhook|import; default "import"), native_id
    (required), kind (post|comment|reply; default post, or comment when a parent is given),
    parent_native_id, thread_native_id, channel, author_id, author_name, author_is_brand
    (true/false/1/0), text, url, created_at (RFC 3339, or "YYYY-MM-DD HH:MM:SS" taken as UTC),
    likes, replies, shares.

Other exports are mapped with a column mapping (``{"their column": "import-format field"}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from connectors.base import Prepared, prepare
from connectors.errors import ConnectorError, MappingError
from connectors.mapping import Mapped, build_raw_event, json_kind, map_record, parse_bool
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


_TEXT_FIELDS = (
    "source",
    "native_id",
    "kind",
    "parent_native_id",
    "thread_native_id",
    "channel",
    "author_id",
    "author_name",
    "text",
    "url",
)


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


@dataclass
class MapOptions:
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


def map_items(items: list[Any], fmt: str, options: MapOptions) -> list[Mapped]:
    """Raw items (JSONL lines, or parsed CSV rows) → mapped records."""
    records: list[Mapped] = []
    default_source = options.source or "import"
    for item in items:
        if fmt == "jsonl" and isinstance(item, bytes):
            original = item
            row, error = _parse_json_line(item)
        else:  # a CSV row, or a JSONL line refused by the reader (over the line limit)
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
                partial(
                    row_to_event,
                    renamed,
                    options.settings,
                    default_source=default_source,
                    default_channel=options.channel,
                    fetched_at=options.fetched_at,
                ),
                renamed.get("native_id"),
            )
        )
    return records


def prepare_chunk(items: list[Any], fmt: str, options: MapOptions) -> Prepared:
    """Map, validate and serialise one batch (runs in a worker process)."""
    return prepare(map_items(items, fmt, options), "import")
