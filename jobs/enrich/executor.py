"""The executors' part of the job, one Kafka record at a time (in bulk per Arrow batch):

decode → validate raw → label → build document → validate labels → row | Rejected.

Runs inside Spark's Python workers (``mapInArrow``); the labeller is loaded once per worker process
from the config the driver built (``jobs.labeller.get_labeller(config)`` is cached and Spark reuses
its workers). Nothing here talks to a server: a bad record becomes a row with its reason, never an
exception that stops the batch.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import orjson
import pyarrow as pa

from jobs.enrich.rows import GATE_COLUMNS, empty_columns, to_record_batch
from jobs.labeller import COLUMNS
from jobs.labeller.config import LabellerConfig

log = logging.getLogger("ecoute.enrich")

# The labels a document carries: exactly the labeller's columns (one source of truth).
LABEL_KEYS = COLUMNS
BRAND_REPLY_KINDS = ("reply", "comment")
# Written only by brand replies (jobs.enrich.sink): the document's own upsert never carries them.
ANSWER_FIELDS = ("answered_by_brand", "brand_answered_at")
_PLAIN_SCALARS = (str, bool, int, float, type(None))


def _plain(value: Any) -> Any:
    """numpy scalars and containers → plain Python, so the doc serialises and validates."""
    if type(value) in _PLAIN_SCALARS:  # the usual case, answered first
        return value
    if hasattr(value, "item") and not isinstance(value, list | dict | str | bytes):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple) or type(value).__name__ == "ndarray":
        return [_plain(v) for v in value]
    return value


# -- decode + validate raw ------------------------------------------------------------------------
def parse_raw(value: bytes | None) -> tuple[dict[str, Any] | None, str | None, Any]:
    """(event, None, None) for a valid raw event, else (None, reason, details)."""
    from ecoute.events import raw_contract_errors

    if value is None:
        return None, "empty message (no value)", None
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return None, "invalid JSON", {"error": str(exc)}
    errors = raw_contract_errors(event)
    if errors:
        return None, "raw event violates schemas/raw_event.schema.json", {"errors": errors}
    return event, None, None


def _loose_names(value: bytes | None) -> tuple[str | None, str | None]:
    """Best effort (id, source) of a broken record, so the DLQ can be searched."""
    try:
        loose = orjson.loads(value) if value else None
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(loose, dict):
        return None, None
    ident, source = loose.get("id"), loose.get("source")
    return (ident if isinstance(ident, str) else None, source if isinstance(source, str) else None)


# -- label ----------------------------------------------------------------------------------------
def label(labeller: Any, events: list[dict[str, Any]]) -> list[dict[str, Any] | Exception]:
    """Labels per event; if the labeller fails on the batch, retry one by one to isolate the culprit."""

    def call(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        columns = labeller.label_columns(
            [e["text"] for e in chunk],
            kinds=[e["kind"] for e in chunk],
            is_brand=[bool((e.get("author") or {}).get("is_brand")) for e in chunk],
        )
        return [{key: columns[key][i] for key in columns} for i in range(len(chunk))]

    if not events:
        return []
    try:
        return list(call(events))
    except Exception as exc:
        log.warning("labeller failed on a batch of %d, isolating: %r", len(events), exc)
    out: list[dict[str, Any] | Exception] = []
    for event in events:
        try:
            out.append(call([event])[0])
        except Exception as exc:
            out.append(exc)
    return out


# -- build document -------------------------------------------------------------------------------
def enriched_doc(
    event: dict[str, Any], labels: dict[str, Any], version: str, enriched_at: str, store_author_names: bool
) -> dict[str, Any]:
    """Raw event (without ``raw``) + labels + brand-answer flag + labeller version + time."""
    doc = {k: v for k, v in event.items() if k != "raw"}
    author = dict(doc.get("author") or {})
    if not store_author_names and not author.get("is_brand"):
        author.pop("name", None)  # commenters' names are personal data: kept only when enabled
    doc["author"] = author
    for key in LABEL_KEYS:
        if key in labels:
            doc[key] = _plain(labels[key])
    doc["answered_by_brand"] = False  # the value a new document starts with (see sink: never reset)
    doc["labeller_version"] = str(version)
    doc["enriched_at"] = enriched_at
    return doc


def is_brand_reply(doc: dict[str, Any]) -> bool:
    return bool(
        (doc.get("author") or {}).get("is_brand") and doc.get("kind") in BRAND_REPLY_KINDS and doc.get("parent_id")
    )


# -- validate labels ------------------------------------------------------------------------------
@cache
def _labels_schema() -> dict[str, Any]:
    """The fields the enrichment adds, as a schema derived from schemas/enriched_event.schema.json.

    The raw part of a doc was validated already; re-validating the whole doc through the schema's
    ``$ref`` + ``unevaluatedProperties`` costs twice as much for nothing.
    """
    import schemas

    schema = schemas.load_json("enriched_event.schema.json")
    return {"type": "object", "required": schema["required"], "properties": schema["properties"]}


@cache
def _labels_validator() -> Any:
    """Reference validator (explains violations)."""
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(_labels_schema(), format_checker=FormatChecker())


@cache
def _fast_labels_validator() -> Any:
    """Rust validator of the same schema: answers valid/invalid in microseconds on the hot path."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(_labels_schema(), validate_formats=True)


def label_errors(doc: dict[str, Any]) -> list[str]:
    """Contract violations of the enrichment's fields of ``doc`` (empty when valid)."""
    added = {key: doc[key] for key in _labels_schema()["properties"] if key in doc}
    if _fast_labels_validator().is_valid(added):
        return []
    errors = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(event)'}: {error.message[:300]}"
        for error in _labels_validator().iter_errors(added)
    ]
    return errors or ["rejected by the enriched-event schema"]


# -- one Arrow batch ------------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# A value of the wrong type becomes null in its Arrow column (the document itself was validated).
_AS_ARROW: dict[pa.DataType, Callable[[Any], Any]] = {pa.string(): _text, pa.float64(): _number, pa.bool_(): _flag}
_GATE_WRITERS = tuple((column, _AS_ARROW[column.type]) for column in GATE_COLUMNS)


def set_doc_columns(columns: dict[str, list[Any]], i: int, doc: dict[str, Any], now_epoch_s: float) -> None:
    """Row ``i``'s sink and gate columns (``jobs.enrich.rows.GATE_COLUMNS``) from ``doc``."""
    columns["doc"][i] = orjson.dumps(doc)
    columns["parent_id"][i] = _text(doc.get("parent_id"))
    columns["created_at"][i] = _text(doc.get("created_at"))
    columns["brand_reply"][i] = is_brand_reply(doc)
    for column, as_arrow in _GATE_WRITERS:
        columns[column.name][i] = as_arrow(column.extract(doc, now_epoch_s))


def enrich_record_batch(batch: pa.RecordBatch, labeller: Any, store_author_names: bool) -> pa.RecordBatch:
    """One Arrow batch of Kafka records → one Arrow batch of ``ROW_SCHEMA`` rows."""
    from ecoute.events import utc_now

    values: list[bytes | None] = batch.column("value").to_pylist()
    columns = empty_columns(len(values))
    valid: list[tuple[int, dict[str, Any]]] = []
    for i, value in enumerate(values):
        event, reason, info = parse_raw(value)
        if event is None:
            columns["error"][i] = reason
            columns["details"][i] = orjson.dumps(info) if info is not None else None
            columns["event_id"][i], columns["source"][i] = _loose_names(value)
            continue
        columns["event_id"][i], columns["source"][i] = event["id"], event["source"]
        valid.append((i, event))

    enriched_at, now = utc_now(), time.time()
    for (i, event), labels in zip(valid, label(labeller, [e for _, e in valid]), strict=True):
        if isinstance(labels, Exception):
            columns["error"][i] = "labeller failed"
            columns["details"][i] = orjson.dumps({"error": repr(labels)[:2000]})
            continue
        doc = enriched_doc(event, labels, labeller.version, enriched_at, store_author_names)
        problems = label_errors(doc)
        if problems:
            columns["error"][i] = "enriched event violates schemas/enriched_event.schema.json"
            columns["details"][i] = orjson.dumps({"errors": problems})
            continue
        set_doc_columns(columns, i, doc, now)
    return _with_kafka_columns(columns, batch)


def _with_kafka_columns(columns: dict[str, Any], batch: pa.RecordBatch) -> pa.RecordBatch:
    columns["topic"], columns["partition"], columns["offset"] = (
        batch.column(n) for n in ("topic", "partition", "offset")
    )
    columns["kafka_ts"], columns["original"] = batch.column("timestamp"), batch.column("value")
    return to_record_batch(columns)


def worker_labeller(config: LabellerConfig) -> Any:
    """The labeller of this Python worker: loaded once per process, then its heap frozen.

    A reused PySpark worker runs a full ``gc.collect()`` after every task; over the labeller's
    objects (models, lexicons, pattern tables: millions of them) that was ≈ 7 % of the workers' CPU
    in a profiled run. Frozen objects are skipped by the collector; what a batch allocates is not.
    """
    global _frozen
    from jobs.labeller import get_labeller

    labeller = get_labeller(config)
    labeller.refresh_model()  # a model built or rolled back since the last micro-batch is used from this one
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
    return labeller


_frozen = False


def enrich_partition(
    batches: Iterator[pa.RecordBatch], store_author_names: bool, labeller_config: LabellerConfig
) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function. The labeller is cached per process: loaded once per worker."""
    labeller = worker_labeller(labeller_config)
    for batch in batches:
        if batch.num_rows:
            yield enrich_record_batch(batch, labeller, store_author_names)


def passthrough_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Raw pass-through (benchmark baseline): parse only, no labels, no schema checks."""
    for batch in batches:
        values = batch.column("value").to_pylist()
        columns = empty_columns(len(values))
        for i, value in enumerate(values):
            try:
                event = orjson.loads(value)
                event.pop("raw", None)
                columns["event_id"][i] = event["id"]
                columns["doc"][i] = orjson.dumps(event)
                columns["created_at"][i] = _text(event.get("created_at"))
            except Exception as exc:  # the baseline still never crashes on a bad record
                columns["error"][i] = f"unreadable: {exc}"
        yield _with_kafka_columns(columns, batch)
