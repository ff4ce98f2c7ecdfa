"""Spark session, Python-worker warm-up, and the Kafka source of the enrichment query.

The source is Spark's built-in ``kafka`` format when the ``spark-sql-kafka`` package is on the
classpath (production: ``ECOUTE_SPARK_PACKAGES`` or the image's jars), else the project's Python
data source ``jobs.enrich.kafka_source`` (the embedded stack and tests), with the same options and offsets.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from jobs.enrich.executor import enrich_partition, passthrough_partition
from jobs.enrich.rows import ROW_DDL

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from ecoute.settings import Settings
    from jobs.labeller.config import LabellerConfig


def spark_session(settings: Settings, app_name: str = "ecoute-enrich") -> SparkSession:
    """A SparkSession tuned for small fast micro-batches (UI off, quiet logs), memory explicit."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(settings.spark_master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "WARN")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        .config("spark.sql.streaming.noDataMicroBatches.enabled", "false")
        .config("spark.sql.adaptive.enabled", "false")
        # The driver holds no documents (only counts per partition): 1 GB is plenty.
        .config("spark.driver.memory", settings.spark_driver_memory)
    )
    if settings.spark_executor_memory:
        builder = builder.config("spark.executor.memory", settings.spark_executor_memory)
    if settings.spark_pyspark_memory:
        # Caps each executor's Python workers (the labeller lives there), counted beside the JVM's.
        builder = builder.config("spark.executor.pyspark.memory", settings.spark_pyspark_memory)
    if settings.spark_packages:
        builder = builder.config("spark.jars.packages", settings.spark_packages)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    # One shuffle (the in-batch dedupe) feeds the writers: one partition per core.
    spark.conf.set("spark.sql.shuffle.partitions", str(spark.sparkContext.defaultParallelism))
    return spark


def _load_labeller_in_worker(batches: Iterator[pa.RecordBatch], config: LabellerConfig) -> Iterator[pa.RecordBatch]:
    from jobs.enrich.executor import worker_labeller

    worker_labeller(config)
    yield from batches


def _start_worker(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield from batches


def warm_up_workers(spark: SparkSession, labeller: LabellerConfig | None) -> float:
    """Start every Python worker the query will use (with the labeller loaded) before its first batch.

    Each task of the query holds Python workers (the Kafka reader, the enrichment, the sink), and
    any may serve any role later; a worker that loads the labeller mid-stream stalls its batch for
    seconds (a latency spike in follow mode). Chained Python stages on as many tasks as cores start
    that pool; Spark reuses its workers afterwards. ``labeller``: the config they load it from (None:
    no labeller, the raw pass-through). Returns seconds.
    """
    started = time.monotonic()
    tasks = spark.sparkContext.defaultParallelism
    function = partial(_load_labeller_in_worker, config=labeller) if labeller is not None else _start_worker
    spark.range(0, tasks, 1, tasks).mapInArrow(function, "id long").mapInArrow(function, "id long").collect()
    return time.monotonic() - started


def checkpoint_location(settings: Settings, name: str) -> str:
    """The query's checkpoint: ``<checkpoints_uri>/<name>`` (any Hadoop URI) or a local folder."""
    if settings.checkpoints_uri:
        return f"{settings.checkpoints_uri.rstrip('/')}/{name}"
    path = settings.checkpoints_dir / name
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def kafka_rows(
    spark: SparkSession, settings: Settings, max_offsets_per_trigger: int | None, starting_offsets: str = "earliest"
) -> tuple[DataFrame, str]:
    """The raw topic as a stream (topic, partition, offset, timestamp, value) and the format used."""
    from jobs.enrich.kafka_source import kafka_options, stream_reader

    # Twice as many pieces as cores: 3 Kafka partitions on 2 cores would otherwise leave one core
    # idle for a third of every batch ...
    parallelism = spark.sparkContext.defaultParallelism
    options = kafka_options(settings, settings.topics.raw, starting_offsets, max_offsets_per_trigger, 2 * parallelism)
    reader, fmt = stream_reader(spark, options)
    # ... and as many tasks as cores: each task costs a fixed ~0.2 s (Python workers), so a small
    # batch runs in one wave and a big one in balanced shares.
    frame = reader.load().select("topic", "partition", "offset", "timestamp", "value").coalesce(parallelism)
    return frame, fmt


def enriched_rows(frame: DataFrame, settings: Settings, labeller: LabellerConfig | None) -> DataFrame:
    """Kafka rows → executor rows (``jobs.enrich.rows.ROW_SCHEMA``), on the executors, labelled with
    the labeller of ``labeller`` (None: the raw pass-through, no labels)."""
    if labeller is None:
        return frame.mapInArrow(passthrough_partition, ROW_DDL)
    function = partial(enrich_partition, store_author_names=settings.store_author_names, labeller_config=labeller)
    return frame.mapInArrow(function, ROW_DDL)
