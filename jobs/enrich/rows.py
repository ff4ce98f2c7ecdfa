"""The one shape of what leaves the executors: an Arrow schema for rows, and a typed rejection.

Every Kafka record becomes exactly one row of ``ROW_SCHEMA``: an enriched document (``doc``) with
the columns the gate and the sink need, or a rejection (``error``, ``details``) that travels with
its original bytes. ``Rejected`` is the dead letter a stage hands to the sink.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

# Columns the Great Expectations suite reads (schemas/expectations/enriched_mentions.json), as
# produced by jobs.enrich.validation.gate_row; ``id`` is the row's ``event_id``.
GATE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("kind", pa.string()),
    pa.field("channel", pa.string()),
    pa.field("author_id", pa.string()),
    pa.field("text", pa.string()),
    pa.field("lang", pa.string()),
    pa.field("lang_confidence", pa.float64()),
    pa.field("sentiment", pa.string()),
    pa.field("sentiment_score", pa.float64()),
    pa.field("toxic_score", pa.float64()),
    pa.field("topic_score_min", pa.float64()),
    pa.field("topic_score_max", pa.float64()),
    pa.field("toxic", pa.bool_()),
    pa.field("criticism", pa.bool_()),
    pa.field("constructive", pa.bool_()),
    pa.field("question", pa.bool_()),
    pa.field("labeller_version", pa.string()),
    pa.field("created_at_epoch_s", pa.float64()),
    pa.field("created_ahead_s", pa.float64()),
    pa.field("fetched_before_created_s", pa.float64()),
)
GATE_COLUMN_OF = {"id": "event_id", "source": "source"}  # suite column -> row column, where they differ

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
        pa.string(): "string", pa.int32(): "int", pa.int64(): "long", pa.binary(): "binary",
        pa.bool_(): "boolean", pa.float64(): "double", pa.timestamp("us", tz="UTC"): "timestamp",
    }  # fmt: skip
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
        """The dead letter (schemas/dead_letter.schema.json) plus the ``id`` the quarantine index keys it by."""
        from ecoute.events import dead_letter

        details = {"items": self.details} if isinstance(self.details, list) else self.details
        record = dead_letter(
            stage=self.stage, reason=self.reason, original=self.original, event_id=self.event_id,
            source=self.source, details=details,
        )  # fmt: skip
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
