"""What the driver does with one micro-batch: plan it, let the executors run it, account for it.

The driver never sees a document: it stages the batch (``gate.stage``: dedupe, erased authors,
failed expectations — a Spark plan), runs ``store_partition`` on every partition (the writer,
``sink``, then the brand-answers step, ``answers``) and collects one small JSON of counts per
partition. When ``foreachBatch`` returns, every partition's writes succeeded or their failures were
quarantined, and Spark commits the batch's offsets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson

from jobs.enrich.gate import expectation_names, gate_columns, stage
from jobs.enrich.metrics import EnrichStats, LagMeter, batch_document, read_batch_offsets
from jobs.enrich.rows import COUNTS_DDL, COUNTS_SCHEMA
from jobs.enrich.sink import PartitionSink, SinkConfig

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from ecoute.settings import Settings
    from jobs.enrich.answers import BrandAnswers
    from jobs.enrich.progress import BacklogProgress

log = logging.getLogger("ecoute.enrich")


def store(batch: pa.RecordBatch, counts: EnrichStats, sink: PartitionSink, answers: BrandAnswers | None) -> None:
    """One Arrow batch of staged rows: written by the sink, then its brand answers recorded and marked."""
    written = sink.write(batch, counts)
    if answers is not None:
        started = time.monotonic()
        answers.record(written)
        counts.write_s += time.monotonic() - started


def store_partition(
    batches: Iterator[pa.RecordBatch], config: SinkConfig, brand_answers: bool
) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function of a batch's writes, on the executors: store this partition, yield its counts."""
    import pyarrow as pa

    from jobs.enrich.answers import BrandAnswers

    sink = PartitionSink.for_process(config)
    # Indices may be deleted between batches (the rebuild runbook does it): check them again per partition.
    sink.known_indices.clear()
    answers = BrandAnswers(sink) if brand_answers else None
    counts = EnrichStats()
    for batch in batches:
        if batch.num_rows:
            store(batch, counts, sink, answers)
    yield pa.RecordBatch.from_arrays([pa.array([counts.as_json()], pa.binary())], schema=COUNTS_SCHEMA)


class BatchStep:
    """The ``foreachBatch`` function of the query; holds what its batches share (a few small clients)."""

    def __init__(
        self,
        spark: SparkSession,
        settings: Settings,
        checkpoint: str,
        stats: EnrichStats,
        run_id: str,
        *,
        validate: bool = True,
        refresh: bool | str = False,
        brand_answers: bool = True,
        refresh_after_batch: bool = False,
        progress: BacklogProgress | None = None,
    ):
        from ecoute.es import make_client
        from ecoute.privacy import ErasureRegistry

        self.spark = spark
        self.settings = settings
        self.checkpoint = checkpoint
        self.stats = stats
        self.run_id = run_id
        self.validate = validate
        self.sink = SinkConfig(settings, refresh=refresh)
        self.brand_answers = brand_answers
        self.expectations = expectation_names() if validate else None
        self.gate = gate_columns(validate)
        self.refresh_after_batch = refresh_after_batch
        self.progress = progress
        # GDPR tombstones, read again for every batch (one small query), never a process-wide set.
        self.erasures = ErasureRegistry(settings, ttl_s=0)
        self.lag = LagMeter(settings)
        self.es = make_client(settings, max_retries=0)

    def close(self) -> None:
        self.lag.close()
        self.es.close()

    def make_searchable(self) -> None:
        """Refresh the mention indices once: the batch's documents are searchable now, not at the
        next periodic refresh (1 s by default: half a second of latency on average in follow mode)."""
        try:
            self.es.indices.refresh(index=self.settings.indices.mentions, ignore_unavailable=True)
        except Exception as exc:  # written all the same; the periodic refresh shows them
            log.warning("refresh after the batch failed: %r", exc)

    def write_partitions(self, staged: DataFrame) -> tuple[EnrichStats, int]:
        """Every partition writes itself on the executors; returns the summed counts and their size."""
        counts, collected_bytes = EnrichStats(), 0
        function = partial(store_partition, config=self.sink, brand_answers=self.brand_answers)
        for row in staged.mapInArrow(function, COUNTS_DDL).collect():
            collected_bytes += len(row["counts"])
            counts.add(orjson.loads(row["counts"]))
        return counts, collected_bytes

    def run(self, rows: DataFrame, batch_id: int) -> None:
        """The function handed to ``foreachBatch`` (which expects no result)."""
        self(rows, batch_id)

    def __call__(self, rows: DataFrame, batch_id: int) -> dict[str, Any]:
        """Enrich and write one micro-batch; its metrics document."""
        from ecoute.es import write_retrying

        started = time.time()
        for attempt in write_retrying(self.sink.retry_for_s, "reading the erasures"):
            with attempt:
                erased = self.erasures.authors()
        staged = stage(rows, erased, validate=self.validate, columns=self.gate)
        counts, collected_bytes = self.write_partitions(staged)
        executors_done = time.time()
        if self.refresh_after_batch and counts.rows_out:
            self.make_searchable()
        ends = read_batch_offsets(self.spark, self.checkpoint, batch_id).get(self.settings.topics.raw, {})
        lag = self.lag.lag(ends)
        finished = time.time()
        metrics = batch_document(
            run_id=self.run_id,
            batch_id=batch_id,
            started=started,
            finished=finished,
            counts=counts,
            lag=lag,
            source_format=self.stats.source_format,
            expectations=self.expectations,
            timings={"enrich_ms": executors_done - started, "write_ms": counts.write_s},
            collected_bytes=collected_bytes,
        )
        for attempt in write_retrying(self.sink.retry_for_s, "job metrics"):
            with attempt:
                self.es.index(index=self.settings.indices.job_metrics, id=metrics["id"], document=metrics)
        self.stats.add_batch(counts, lag, finished - started, collected_bytes)
        if self.progress is not None:
            self.progress.batch_done(counts.rows_in, lag)
        log.info(
            "batch %s: %d in, %d out, %d quarantined, %d duplicates, %d erased, lag %s, %.2fs "
            "(executors %.2fs, of which writes %.2f executor-s), driver got %d bytes%s",
            batch_id,
            counts.rows_in,
            counts.rows_out,
            counts.quarantined,
            counts.deduplicated,
            counts.erased,
            lag,
            finished - started,
            executors_done - started,
            counts.write_s,
            collected_bytes,
            f", failed: {', '.join(metrics['failed_expectations'])}" if metrics["failed_expectations"] else "",
        )
        return metrics
