"""The gate's one table (jobs.enrich.rows.GATE_COLUMNS) against everything that must agree with it:
the executor rows, the GX suite, the enriched-event schema and the mentions index template.

Adding a gated column is one line in the table plus the label in the data files of schemas/; these
tests say which file was forgotten.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import pyarrow as pa
import pytest

import schemas
from jobs.enrich import enriched_doc, parse_raw
from jobs.enrich.executor import set_doc_columns
from jobs.enrich.rows import GATE_COLUMNS, ROW_SCHEMA, SUITE_COLUMNS, empty_columns, gate_row, to_record_batch
from jobs.enrich.validation import gate_frame, suite_definition
from jobs.labeller import COLUMNS
from tests.jobs.enrich.events import raw_event

JSON_TYPES = {pa.string(): {"string"}, pa.float64(): {"number", "integer"}, pa.bool_(): {"boolean"}}
ES_TYPES = {
    pa.string(): {"keyword", "text"},
    pa.float64(): {"float", "double", "half_float", "scaled_float"},
    pa.bool_(): {"boolean"},
}
LABELS = {
    "lang": "fr",
    "lang_confidence": 0.93,
    "sentiment": "negative",
    "sentiment_score": 0.81,
    "topics": ["livraison", "prix"],
    "topic_scores": {"livraison": 0.77, "prix": 0.41},
    "toxic": False,
    "toxic_score": 0.02,
    "toxic_categories": [],
    "criticism": True,
    "constructive": False,
}


def _schema_property(path: str) -> dict[str, Any] | None:
    """The JSON Schema of a (dotted) field of an enriched event: its own properties, then the raw event's."""
    enriched = schemas.load_json("enriched_event.schema.json")["properties"]
    raw = schemas.load_json("raw_event.schema.json")["$defs"]["event"]["properties"]
    head, *rest = path.split(".")
    node = enriched.get(head) or raw.get(head)
    for key in rest:
        node = (node or {}).get("properties", {}).get(key)
    return node


def _json_types(node: dict[str, Any]) -> set[str]:
    if "enum" in node:
        return {{str: "string", bool: "boolean", float: "number", int: "integer"}[type(v)] for v in node["enum"]}
    kinds = node.get("type")
    return ({kinds} if isinstance(kinds, str) else set(kinds or ())) - {"null"}


def _mapping(path: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = {
        "properties": schemas.index_templates()["ecoute-mentions"]["template"]["mappings"]["properties"]
    }
    for key in path.split("."):
        node = (node or {}).get("properties", {}).get(key)
    return node


def test_the_suite_reads_exactly_the_tables_columns() -> None:
    read = {e["kwargs"]["column"] for e in suite_definition()["expectations"] if "column" in e["kwargs"]}
    assert read <= set(SUITE_COLUMNS), f"the suite reads columns the table lacks: {sorted(read - set(SUITE_COLUMNS))}"
    assert set(SUITE_COLUMNS) <= read, f"columns no expectation checks: {sorted(set(SUITE_COLUMNS) - read)}"
    assert len({c.name for c in GATE_COLUMNS}) == len(GATE_COLUMNS)


@pytest.mark.parametrize("column", [c for c in GATE_COLUMNS if c.field], ids=lambda c: c.name)
def test_a_copied_column_is_declared_in_the_schema_and_mapped_in_the_template(column) -> None:
    declared = _schema_property(column.field)
    assert declared is not None, f"{column.field} is not in schemas/enriched_event.schema.json (nor the raw event's)"
    assert _json_types(declared) <= JSON_TYPES[column.type], f"{column.field}: schema type {declared} vs {column.type}"
    mapped = _mapping(column.field)
    assert mapped is not None, f"{column.field} is not mapped in schemas/elasticsearch/ecoute-mentions.template.json"
    assert mapped.get("type") in ES_TYPES[column.type], f"{column.field}: mapped as {mapped.get('type')}"


def test_every_label_is_declared_and_every_declared_field_is_mapped() -> None:
    enriched = schemas.load_json("enriched_event.schema.json")["properties"]
    assert set(COLUMNS) <= set(enriched), f"labels missing from the schema: {sorted(set(COLUMNS) - set(enriched))}"
    unmapped = [name for name in enriched if _mapping(name) is None]
    assert unmapped == [], f"declared in the schema but not mapped in the mentions template: {unmapped}"


def test_executor_rows_and_the_gate_row_derive_from_the_table() -> None:
    assert [f.name for f in ROW_SCHEMA][-len(GATE_COLUMNS) :] == [c.name for c in GATE_COLUMNS]
    assert all(ROW_SCHEMA.field(c.name).type == c.type for c in GATE_COLUMNS)
    event, _, _ = parse_raw(orjson.dumps(raw_event(7, kind="comment", parent="facebook:1")))
    doc = enriched_doc(event, LABELS, "test-1", "2026-10-05T10:00:00Z", False)
    now = time.time()
    row = gate_row(doc, now)
    assert list(row) == list(SUITE_COLUMNS)
    created = row["created_at_epoch_s"]
    assert row["author_id"] == doc["author"]["id"] and row["text"] == doc["text"]
    assert (row["topic_score_min"], row["topic_score_max"]) == (0.41, 0.77)
    assert row["created_ahead_s"] == pytest.approx(created - now)
    assert list(gate_frame([doc], now).columns) == list(SUITE_COLUMNS)
    assert list(gate_frame([], now).columns) == list(SUITE_COLUMNS)

    columns = empty_columns(1)
    set_doc_columns(columns, 0, doc, now)
    columns.update(topic=["raw"], partition=[0], offset=[0], kafka_ts=[None], original=[b"{}"])
    batch = to_record_batch(columns)
    for column in GATE_COLUMNS:
        assert batch.column(column.name)[0].as_py() == row[column.name], column.name


def test_a_value_of_the_wrong_type_is_null_in_its_column() -> None:
    """The document was validated, so this never happens in the stream; the column stays typed all the same."""
    columns = empty_columns(1)
    set_doc_columns(columns, 0, {"id": "x:1", "lang": 3, "toxic": "yes", "lang_confidence": True}, time.time())
    assert (columns["lang"][0], columns["toxic"][0], columns["lang_confidence"][0]) == (None, None, None)
    assert columns["created_at_epoch_s"][0] == float("-inf")  # no date: "infinitely wrong", caught by the suite
