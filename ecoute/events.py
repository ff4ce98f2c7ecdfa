"""The event contract in code: validation against schemas/, ids, pseudonyms and dead-letter records.

The JSON Schemas in ``schemas/`` are the only declaration of the fields; this module validates
against them and builds the envelopes every stage shares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

import schemas

SOURCES = ("facebook", "instagram", "youtube", "reddit", "x", "rss", "webhook", "import")


@cache
def _registry() -> Registry:
    resources = []
    for name in ("raw_event.schema.json", "enriched_event.schema.json", "dlq_record.schema.json"):
        doc = schemas.load_json(name)
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


@cache
def validator(schema_file: str) -> Draft202012Validator:
    return Draft202012Validator(schemas.load_json(schema_file), registry=_registry(), format_checker=FormatChecker())


def validation_errors(event: Any, schema_file: str = "raw_event.schema.json") -> list[str]:
    """Every contract violation of ``event``, as readable ``path: message`` lines (empty when valid)."""
    errors = []
    for error in sorted(validator(schema_file).iter_errors(event), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(event)"
        message = error.message if len(error.message) < 300 else error.message[:300] + "…"
        errors.append(f"{where}: {message}")
    return errors


@cache
def _fast_raw_validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(schemas.load_json("raw_event.schema.json"), validate_formats=True)


def raw_contract_errors(event: Any) -> list[str]:
    """Validation against schemas/raw_event.schema.json on the hot path: a Rust validator answers
    valid/invalid in microseconds, and the reference validator explains the rare invalid ones."""
    try:
        if _fast_raw_validator().is_valid(event):
            return []
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. an integer over 64 bits: not JSON-able in Rust
        return validation_errors(event, "raw_event.schema.json") or [f"(event): not valid JSON data ({exc})"]
    return validation_errors(event, "raw_event.schema.json") or ["rejected by the raw-event schema"]


def event_id(source: str, native_id: str | int) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    # U+FEFF (a byte-order mark, often at the head of a CSV cell) is white space to the schema's
    # ECMA-262 patterns but not to Python's str.strip: drop it, or the id would be refused later.
    native = str(native_id).replace("\ufeff", "").strip()
    if not native:
        raise ValueError("empty native id")
    return f"{source}:{native}"


def pseudonymise(native_author_id: str, key: str) -> str:
    """Keyed hash of an author's native id: stable for analysis, not reversible without the key."""
    digest = hmac.new(key.encode(), str(native_author_id).encode(), hashlib.sha256).hexdigest()
    return "a_" + digest[:24]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def dumps(event: Any) -> bytes:
    return orjson.dumps(event)


def dead_letter(
    *,
    stage: str,
    reason: str,
    original: bytes | str | Any,
    event_id: str | None = None,
    source: str | None = None,
    details: dict[str, Any] | list[Any] | None = None,
) -> dict[str, Any]:
    """A dead-letter record (schemas/dlq_record.schema.json) that keeps the original bytes intact."""
    original_b64 = None
    if isinstance(original, bytes):
        try:
            text = original.decode("utf-8")
        except UnicodeDecodeError:
            text = original.decode("utf-8", errors="backslashreplace")
            original_b64 = base64.b64encode(original).decode()
    elif isinstance(original, str):
        text = original
    else:
        try:
            text = orjson.dumps(original, default=str).decode()
        except TypeError:  # an integer over 64 bits, a circular structure...: keep what repr shows
            text = repr(original)
    return {
        "event_id": event_id,
        "source": source,
        "stage": stage,
        "reason": reason,
        "details": details,
        "original": text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace"),
        "original_b64": original_b64,
        "rejected_at": utc_now(),
    }


def month_index(index_prefix: str, created_at: str) -> str:
    """The concrete monthly index of an event: an id always maps to the same index, so upserts dedupe."""
    return f"{index_prefix}-{created_at[0:4]}.{created_at[5:7]}"


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
