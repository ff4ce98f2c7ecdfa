"""The driver and sink side of the job (stage, gate, brand answers, upsert, quarantine, metrics) against
noida-db, on a local Spark session but without Kafka or the labeller.

The executor's output is built here from fixed labels, so these tests pin the sink's rules quickly;
the labeller itself runs in the end-to-end tests.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from ecoute.es import apply_templates, make_client
from ecoute.events import utc_now
from ecoute.kafka import ensure_topics
from jobs.enrich import EnrichStats, enriched_doc, label_errors, parse_raw, read_batch_offsets
from jobs.enrich.answers import BrandAnswers
from jobs.enrich.batch import BatchStep, store
from jobs.enrich.executor import set_doc_columns
from jobs.enrich.job import preflight
from jobs.enrich.rows import empty_columns, to_record_batch
from jobs.enrich.sink import PartitionSink
from tests.jobs.enrich.events import raw_event
from tests.jobs.enrich.support import dead_letters, stored

LABELS = {
    "lang": "fr",
    "lang_confidence": 0.93,
    "sentiment": "negative",
    "sentiment_score": 0.81,
    "topics": ["service client"],
    "topic_scores": {"service client": 0.77},
    "toxic": False,
    "toxic_score": 0.02,
    "criticism": True,
    "constructive": False,
}


@pytest.fixture(scope="module")
def spark():
    from ecoute.settings import Settings
    from jobs.enrich.source import spark_session

    return spark_session(Settings(spark_master="local[2]"), app_name="ecoute-test-sink")


class InProcessStep(BatchStep):
    """The job's driver step, with the partitions' sink run in this process (so tests can see its state)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.partition_sink = PartitionSink(self.sink)
        self.answers = BrandAnswers(self.partition_sink) if self.brand_answers else None

    def write_partitions(self, staged):
        counts = EnrichStats()
        for batch in staged.toArrow().to_batches():
            store(batch, counts, self.partition_sink, self.answers)
        return counts, len(counts.as_json())


class Sink:
    """The driver step of the job over hand-made executor rows (``process(table, batch_id)``)."""

    def __init__(self, spark, settings, checkpoint: Path, run_id: str, validate: bool = True, follow: bool = False):
        self.spark = spark
        self.step = InProcessStep(
            spark, settings, str(checkpoint), EnrichStats(), run_id, validate=validate, refresh_after_batch=follow
        )

    @property
    def _producer(self) -> Any:
        return self.step.partition_sink._producer

    def process(self, table: pa.Table, batch_id: int) -> dict[str, Any]:
        return self.step(self.spark.createDataFrame(table), batch_id)

    def close(self) -> None:
        self.step.partition_sink.close()
        self.step.close()


@pytest.fixture
def sink(settings, spark, tmp_path: Path):
    client = make_client(settings)
    apply_templates(client, settings)
    ensure_topics(settings)
    preflight(settings)
    sink = Sink(spark, settings, tmp_path / "checkpoint", "test")
    yield sink
    sink.close()


def table(rows: list[tuple[dict[str, Any] | bytes, dict[str, Any] | None]], first_offset: int = 0) -> pa.Table:
    """Executor output: (raw event or raw bytes, labels or None for a rejected record) per row."""
    columns = empty_columns(len(rows))
    for i, (raw, labels) in enumerate(rows):
        original = raw if isinstance(raw, bytes) else orjson.dumps(raw)
        event, reason, details = parse_raw(original)
        columns["topic"][i], columns["partition"][i], columns["offset"][i] = "raw", 0, first_offset + i
        columns["kafka_ts"][i] = datetime.now(UTC)
        columns["event_id"][i] = event["id"] if event else None
        columns["source"][i] = event["source"] if event else None
        columns["error"][i] = reason
        columns["details"][i] = orjson.dumps(details) if details else None
        columns["original"][i] = original
        if event and labels:
            set_doc_columns(columns, i, enriched_doc(event, labels, "test-1", utc_now(), False), time.time())
    return pa.Table.from_batches([to_record_batch(columns)])


def test_brand_answers_reach_parents_in_the_same_an_earlier_or_a_later_batch(sink, settings):
    post = raw_event(1, kind="post")
    early_parent = raw_event(2, kind="comment", parent="facebook:1")
    same_batch_parent = raw_event(3, kind="comment", parent="facebook:1")
    sink.process(table([(post, LABELS), (early_parent, LABELS)]), 0)
    answers = [
        raw_event(10, kind="reply", parent="facebook:2", brand=True),  # parent stored by batch 0
        raw_event(11, kind="reply", parent="facebook:3", brand=True),  # parent in this very batch
        raw_event(12, kind="reply", parent="facebook:4", brand=True),  # parent not there yet
        (same_batch_parent),
    ]
    sink.process(table([(e, LABELS) for e in answers], 2), 1)
    late_parent = raw_event(4, kind="comment", parent="facebook:1")
    sink.process(table([(late_parent, LABELS)], 6), 2)
    # A new sink (a restarted job) has no memory: the lookup in Elasticsearch does the work.
    docs = stored(settings)
    assert {d: docs[d]["answered_by_brand"] for d in docs} == {
        "facebook:1": False,
        "facebook:2": True,
        "facebook:3": True,
        "facebook:4": True,
        "facebook:10": False,
        "facebook:11": False,
        "facebook:12": False,
    }
    assert docs["facebook:2"]["brand_answered_at"] == answers[0]["created_at"]
    fresh = Sink(sink.spark, settings, Path("/nonexistent"), "restart", validate=False)
    again = raw_event(5, kind="comment", parent="facebook:1")
    fresh.process(table([(again, LABELS), (raw_event(13, kind="reply", parent="facebook:5", brand=True), LABELS)]), 0)
    replay_of_late_parent = fresh.process(table([(late_parent, LABELS)], 6), 1)
    fresh.close()
    docs = stored(settings)
    assert docs["facebook:5"]["answered_by_brand"] is True
    assert docs["facebook:4"]["answered_by_brand"] is True  # a replay does not erase the mark
    assert replay_of_late_parent["rows_out"] == 1


def test_the_writer_only_writes_the_brand_answers_step_records_and_marks(sink, settings, spark):
    """The sink stores documents and nothing else; the answers step, run after it, joins replies and parents."""
    from jobs.enrich.gate import stage

    parent = raw_event(30, kind="comment", parent="facebook:1")
    reply = raw_event(31, kind="reply", parent="facebook:30", brand=True)
    staged = stage(spark.createDataFrame(table([(parent, LABELS), (reply, LABELS)], 40)), [])
    writer = sink.step.partition_sink
    counts = EnrichStats()
    written = [pair for batch in staged.toArrow().to_batches() for pair in writer.write(batch, counts)]
    assert counts.rows_out == 2 and {doc["id"] for doc, _ in written} == {"facebook:30", "facebook:31"}
    assert all(index.startswith(settings.indices.mentions + "-") for _, index in written)
    answers_index = BrandAnswers(writer).index
    assert stored(settings)["facebook:30"]["answered_by_brand"] is False
    assert "facebook:30" not in stored(settings, answers_index)  # the writer recorded no answer
    BrandAnswers(writer).record(written)
    assert stored(settings, answers_index)["facebook:30"]["answered_at"] == reply["created_at"]
    marked = stored(settings)["facebook:30"]
    assert marked["answered_by_brand"] is True and marked["brand_answered_at"] == reply["created_at"]


def test_gate_and_contract_failures_are_quarantined_with_their_reason_and_the_rest_goes_on(sink, settings):
    good = raw_event(20)
    bad_labels = {**LABELS, "sentiment_score": 1.7, "lang": "french"}
    duplicate = raw_event(21, text="première version")
    rows = [
        (good, LABELS),
        (raw_event(22), bad_labels),
        (b"\xff\xfe not json", None),
        (duplicate, LABELS),
        ({**raw_event(21), "text": "seconde version"}, LABELS),
        (raw_event(23, text=""), LABELS),  # text present: empty text fails the gate
    ]
    assert sink._producer is None  # opened with the first dead letter, not before
    metrics = sink.process(table(rows), 7)
    assert sink._producer is not None
    assert metrics["rows_in"] == 6
    assert metrics["deduplicated"] == 1
    assert metrics["rows_out"] == 2
    assert metrics["quarantined"] == 3
    # Searchable as soon as the batch says so, without anyone refreshing the index (issue 19, item 11).
    client = make_client(settings)
    assert client.count(index=settings.indices.quarantine)["count"] == 3
    assert metrics["validation_success"] is False
    assert "expect_column_values_to_be_between(sentiment_score)" in metrics["failed_expectations"]
    assert "expect_column_values_to_match_regex(lang)" in metrics["failed_expectations"]
    docs = stored(settings)
    assert set(docs) == {"facebook:20", "facebook:21"}
    assert docs["facebook:21"]["text"] == "seconde version"  # the later duplicate wins
    quarantine = {q["event_id"]: q for q in stored(settings, settings.indices.quarantine).values()}
    assert set(quarantine) == {"facebook:22", "facebook:23", None}
    assert quarantine["facebook:22"]["stage"] == "validate"
    assert "sentiment_score" in quarantine["facebook:22"]["reason"] and "lang" in quarantine["facebook:22"]["reason"]
    assert quarantine[None]["reason"] == "invalid JSON" and quarantine[None]["original_b64"]
    assert len(dead_letters(settings)) == 3
    # Replaying the same batch (after a crash) changes nothing: same ids everywhere.
    sink.process(table(rows), 7)
    assert len(stored(settings)) == 2 and len(stored(settings, settings.indices.quarantine)) == 3
    client = make_client(settings)
    client.indices.refresh(index=settings.indices.job_metrics)
    stored_metrics = client.get(index=settings.indices.job_metrics, id="enrich:test:7")["_source"]
    assert {r["expectation"] for r in stored_metrics["expectation_results"] if not r["success"]} >= {
        "expect_column_values_to_be_between(sentiment_score)"
    }


def test_the_gate_keeps_nothing_per_batch(spark):
    # GX on Spark may be run again and again (Data Docs, checks): its results store must not grow.
    from jobs.enrich.gate import checked_table, gx_spark, stage, validate_with_gx

    good = stage(spark.createDataFrame(table([(raw_event(n), LABELS) for n in range(50)])), [])
    bad = stage(spark.createDataFrame(table([(raw_event(1), {**LABELS, "sentiment_score": 3.0})])), [])
    store = gx_spark()[0].validation_results_store.store_backend
    before = len(store.list_keys())
    for _ in range(3):
        assert all(success for success, _, _ in validate_with_gx(checked_table(good)).values())
    assert not all(success for success, _, _ in validate_with_gx(checked_table(bad)).values())
    assert len(store.list_keys()) == before


def test_a_batch_with_nothing_to_quarantine_opens_no_dead_letter_producer(sink, settings):
    # An idempotent producer registers with the broker (noida-db then rewrites its whole Kafka
    # store): a clean run must not pay for it.
    metrics = sink.process(table([(raw_event(40), LABELS), (raw_event(41), LABELS)]), 0)
    assert metrics["rows_out"] == 2 and metrics["quarantined"] == 0
    assert sink._producer is None
    assert dead_letters(settings) == []


def test_documents_elasticsearch_refuses_are_quarantined_not_dropped(sink, settings):
    # The monthly index exists with a mapping that refuses this document's `lang` (an integer field).
    client = make_client(settings)
    index = f"{settings.indices.mentions}-2026.10"
    client.indices.create(
        index=index,
        aliases={settings.indices.mentions: {}},
        mappings={"dynamic": "strict", "properties": {"lang": {"type": "integer"}}},
    )
    metrics = sink.process(table([(raw_event(30), LABELS)]), 0)
    assert metrics["rows_out"] == 0 and metrics["quarantined"] == 1
    (record,) = stored(settings, settings.indices.quarantine).values()
    assert record["stage"] == "sink" and record["event_id"] == "facebook:30" and record["details"]["error"]


def test_label_contract_and_offsets_log(spark, tmp_path: Path):
    doc = enriched_doc(raw_event(1), {**LABELS, "topics": ["a", "a"]}, "v", utc_now(), False)
    assert any("non-unique" in e for e in label_errors(doc))
    assert not label_errors(enriched_doc(raw_event(1), LABELS, "v", utc_now(), False))
    offsets = tmp_path / "offsets"
    offsets.mkdir()
    (offsets / "4").write_text('v1\n{"batchWatermarkMs":0,"batchTimestampMs":1}\n{"raw": {"0": 12, "1": 7}}\n')
    assert read_batch_offsets(spark, str(tmp_path), 4) == {"raw": {"0": 12, "1": 7}}
    assert read_batch_offsets(spark, str(tmp_path), 5) == {}
    # Through Hadoop's FileSystem API: any URI Spark supports, not only a local path.
    assert read_batch_offsets(spark, tmp_path.as_uri(), 4) == {"raw": {"0": 12, "1": 7}}


def test_data_docs_are_built_on_demand_from_stored_mentions(sink, settings):
    from jobs.enrich.validation import build_data_docs

    sink.process(table([(raw_event(40), LABELS), (raw_event(41), LABELS)]), 0)
    stored(settings)  # refresh
    index = build_data_docs(settings, sample_size=100)
    assert index.is_file() and index.is_relative_to(settings.state_dir / "gx")
    pages = "".join(p.read_text(errors="replace") for p in index.parent.rglob("*.html"))
    assert "enriched_mentions" in pages


def test_the_compiled_gate_agrees_with_great_expectations_on_spark(spark):
    """Row-level failures come from the suite compiled to Spark columns; GX's Spark engine, run on
    the same frame, must count the same unexpected rows for every expectation."""
    from pyspark.sql import functions as F

    from jobs.enrich.gate import checked_table, expectation_names, stage, validate_with_gx

    rows = [(raw_event(n), LABELS) for n in range(40)]
    rows += [
        (raw_event(50), {**LABELS, "sentiment_score": 1.7, "lang": "french"}),
        (raw_event(51, text=""), LABELS),
        (raw_event(52, created_at=datetime(2099, 1, 1, tzinfo=UTC)), LABELS),
        (raw_event(53), {**LABELS, "topic_scores": {"a": 1.5}}),
        (b"not json", None),
    ]
    staged = stage(spark.createDataFrame(table(rows)), erased_authors=[]).cache()
    compiled = {name: 0 for name in expectation_names()}
    for row in staged.where("checked").select(F.explode("failed").alias("name")).groupBy("name").count().collect():
        compiled[row["name"]] = row["count"]
    assert sum(compiled.values()) >= 5 and compiled["expect_column_values_to_be_between(created_ahead_s)"] == 1
    by_gx = validate_with_gx(checked_table(staged))
    assert set(by_gx) == set(compiled)
    for name, (success, element_count, unexpected_count) in by_gx.items():
        assert unexpected_count == compiled[name], name
        assert success is (compiled[name] == 0), name
        assert element_count == staged.where("checked").count()


def test_in_follow_mode_a_batch_is_searchable_when_it_returns(sink, settings, tmp_path: Path):
    # Elasticsearch shows new documents at its next periodic refresh (1 s): a follow job refreshes
    # once per batch instead, so a mention is searchable as soon as its batch is done.
    client = make_client(settings)
    follow = Sink(sink.spark, settings, tmp_path / "follow", "follow", follow=True)
    try:
        for batch_id, n in enumerate((30, 31, 32)):
            follow.process(table([(raw_event(n), LABELS)], n), batch_id)
            found = client.search(index=settings.indices.mentions, query={"ids": {"values": [f"facebook:{n}"]}})
            assert found["hits"]["total"]["value"] == 1, f"batch {batch_id} not searchable when it returned"
    finally:
        follow.close()


def test_the_gate_shuffles_each_batch_once(spark):
    # The in-batch dedupe and the uniqueness expectation partition by the same key: one exchange,
    # not one per window (each costs a stage, i.e. Python workers and a wave of tasks, per batch).
    from jobs.enrich.gate import gate_columns, stage

    staged = stage(
        spark.createDataFrame(table([(raw_event(n), LABELS) for n in range(5)])), ["a_x"], columns=gate_columns()
    )
    staged.collect()
    assert str(staged._jdf.queryExecution().executedPlan()).count("Exchange hashpartitioning") == 1
