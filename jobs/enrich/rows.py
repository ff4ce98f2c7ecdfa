"""The one shape of what leaves the executors: an Arrow schema for rows, and a typed rejection.

Every Kafka record becomes exactly one row of ``ROW_SCHEMA``: an enriched document (``doc``) with
the columns the gate and the sink need, or a rejection (``error``, ``details``) that travels with
its original bytes. ``Rejected`` is the dead letter a stage hands to the sink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

# -- the gate's table --------------------------------------------------------------------------
# The columns the Great Expectations suite (schemas/expectations/enriched_mentions.json) reads, one
# entry each: its name, its Arrow type, and how it is read from an enriched document. Everything
# else derives from this table: the executor rows (ROW_SCHEMA), the gate's rows (``gate_row``), the
# suite's tables in Spark and pandas (``SUITE_COLUMNS``). tests/jobs/enrich/test_gate_table.py
# checks it against the data files: the suite, the enriched-event schema and the mentions template.
# A new gated column: one line here, then the label in those three files.


def _epoch_s(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _field(path: str) -> Callable[[dict[str, Any], float], Any]:
    """The document's value at a dotted ``path`` (``author.id``), None where a level is missing."""
    keys = path.split(".")

    def extract(doc: dict[str, Any], now_epoch_s: float) -> Any:
        value: Any = doc
        for key in keys:
            value = (value or {}).get(key)
        return value

    return extract


def _topic_scores(doc: dict[str, Any]) -> list[float]:
    return [s for s in (doc.get("topic_scores") or {}).values() if isinstance(s, int | float)]


def _created_at_epoch_s(doc: dict[str, Any], now_epoch_s: float) -> float:
    created = _epoch_s(doc.get("created_at"))
    return created if created is not None else float("-inf")  # unparseable: "infinitely wrong"


def _created_ahead_s(doc: dict[str, Any], now_epoch_s: float) -> float:
    created = _epoch_s(doc.get("created_at"))
    return (created - now_epoch_s) if created is not None else float("inf")


def _fetched_before_created_s(doc: dict[str, Any], now_epoch_s: float) -> float:
    created, fetched = _epoch_s(doc.get("created_at")), _epoch_s(doc.get("fetched_at"))
    return (created - fetched) if created is not None and fetched is not None else 0.0


@dataclass(frozen=True)
class GateColumn:
    """One column of the gate's table."""

    name: str
    type: pa.DataType
    # (enriched document, now in epoch seconds) -> value; derived columns compute theirs
    extract: Callable[[dict[str, Any], float], Any]
    field: str | None = None  # the document's field it copies (dotted), None for a derived column

    @classmethod
    def copy(cls, name: str, type: pa.DataType, field: str | None = None) -> GateColumn:
        """A column that is the document's own field (``field``, default the column's name)."""
        return cls(name, type, _field(field or name), field or name)


GATE_COLUMNS: tuple[GateColumn, ...] = (
    GateColumn.copy("kind", pa.string()),
    GateColumn.copy("channel", pa.string()),
    GateColumn.copy("author_id", pa.string(), "author.id"),
    GateColumn.copy("text", pa.string()),
    GateColumn.copy("lang", pa.string()),
    GateColumn.copy("lang_confidence", pa.float64()),
    GateColumn.copy("sentiment", pa.string()),
    GateColumn.copy("sentiment_score", pa.float64()),
    GateColumn.copy("toxic_score", pa.float64()),
    GateColumn("topic_score_min", pa.float64(), lambda doc, now: min(_topic_scores(doc), default=None)),
    GateColumn("topic_score_max", pa.float64(), lambda doc, now: max(_topic_scores(doc), default=None)),
    GateColumn.copy("toxic", pa.bool_()),
    GateColumn.copy("criticism", pa.bool_()),
    GateColumn.copy("constructive", pa.bool_()),
    GateColumn.copy("question", pa.bool_()),
    GateColumn.copy("labeller_version", pa.string()),
    GateColumn("created_at_epoch_s", pa.float64(), _created_at_epoch_s),
    GateColumn("created_ahead_s", pa.float64(), _created_ahead_s),
    GateColumn("fetched_before_created_s", pa.float64(), _fetched_before_created_s),
)
GATE_FIELDS: tuple[pa.Field, ...] = tuple(pa.field(c.name, c.type) for c in GATE_COLUMNS)
# The suite's columns: the row's own id and source first (named ``event_id``/``source`` in the rows).
SUITE_COLUMNS: tuple[str, ...] = ("id", "source", *(c.name for c in GATE_COLUMNS))
GATE_COLUMN_OF = {"id": "event_id", "source": "source"}  # suite column -> row column, where they differ


def gate_row(doc: dict[str, Any], now_epoch_s: float) -> dict[str, Any]:
    """One row of the gate's table (every name of ``SUITE_COLUMNS``) for an enriched event ``doc``."""
    row = {"id": doc.get("id"), "source": doc.get("source")}
    for column in GATE_COLUMNS:
        row[column.name] = column.extract(doc, now_epoch_s)
    return row


ROW_SCHEMA = pa.schema(
    [
        pa.field("topic", pa.string()),
        pa.field("partition", pa.int32()),
        pa.field("offset", pa.int64()),
        pa.field("kafka_ts", pa.timestamp("us", tz="UTC")),
        pa.field("event_id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("doc", pa.binary()),  # the enriched document (JSON), None when rejected
        pa.field("error", pa.string()),  # why the record was rejected, None when enriched
        pa.field("details", pa.binary()),  # JSON details of the rejection
        pa.field("original", pa.binary()),  # the Kafka record's bytes, kept for the dead letter
        # what the sink needs without parsing the doc again
        pa.field("parent_id", pa.string()),
        pa.field("created_at", pa.string()),
        pa.field("brand_reply", pa.bool_()),
        *GATE_FIELDS,
    ]
)
ROW_NAMES = tuple(ROW_SCHEMA.names)

# What a sink partition hands back to the driver: counts only (JSON), never documents.
COUNTS_SCHEMA = pa.schema([pa.field("counts", pa.binary())])


def spark_ddl(schema: pa.Schema) -> str:
    """The Spark DDL of an Arrow schema (``mapInArrow`` takes the output schema as DDL)."""
    names = {
        pa.string(): "string",
        pa.int32(): "int",
        pa.int64(): "long",
        pa.binary(): "binary",
        pa.bool_(): "boolean",
        pa.float64(): "double",
        pa.timestamp("us", tz="UTC"): "timestamp",
    }
    return ", ".join(f"`{f.name}` {names[f.type]}" for f in schema)


ROW_DDL = spark_ddl(ROW_SCHEMA)
COUNTS_DDL = spark_ddl(COUNTS_SCHEMA)


def origin(topic: str, partition: int, offset: int) -> str:
    """Where a record came from; also what keys its quarantine record (stable across replays)."""
    return f"{topic}:{partition}:{offset}"


@dataclass(frozen=True)
class Rejected:
    """A record a stage refused: which stage, why, where it came from, and its original bytes."""

    stage: str  # enrich | validate | sink
    reason: str
    origin: str
    original: Any
    event_id: str | None = None
    source: str | None = None
    details: Any = None

    def record(self) -> dict[str, Any]:
        """The dead letter (schemas/dlq_record.schema.json) plus the ``id`` the quarantine index keys it by."""
        from ecoute.events import dead_letter

        details = {"items": self.details} if isinstance(self.details, list) else self.details
        record = dead_letter(
            stage=self.stage,
            reason=self.reason,
            original=self.original,
            event_id=self.event_id,
            source=self.source,
            details=details,
        )
        record["id"] = f"{self.stage}:{self.origin}"
        return record


def empty_columns(n: int) -> dict[str, list[Any]]:
    return {name: [None] * n for name in ROW_NAMES}


def to_record_batch(columns: dict[str, list[Any] | pa.Array]) -> pa.RecordBatch:
    """Columns (lists or Arrow arrays, every name of ROW_SCHEMA) → one batch of ROW_SCHEMA."""
    arrays = []
    for field in ROW_SCHEMA:
        value = columns[field.name]
        if isinstance(value, pa.ChunkedArray):
            value = value.combine_chunks()
        if isinstance(value, pa.Array):
            arrays.append(value if value.type == field.type else value.cast(field.type))
        else:
            arrays.append(pa.array(value, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=ROW_SCHEMA)
