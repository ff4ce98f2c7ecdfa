"""What the job tells about itself: run totals (``EnrichStats``), one document per batch in the
job-metrics index (rows in/out, quarantined, duplicates, lag, time split, results per expectation),
and the lag read from the batch's offsets in the checkpoint (through Hadoop's FileSystem API, so a
checkpoint on ``s3a://`` or ``hdfs://`` works as well as a local folder)."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ecoute.settings import Settings

log = logging.getLogger("ecoute.enrich")

JOB_NAME = "enrich"


@dataclass
class EnrichStats:
    """What the job did, at every level: one partition (on an executor), one batch, the whole run.

    A partition's sink fills the counters and ships them to the driver as JSON (``as_json``); the
    driver sums a batch's partitions (``add``) and then adds the batch to the run (``add_batch``).
    """

    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    deduplicated: int = 0
    erased: int = 0  # events of authors erased under GDPR, dropped on purpose
    checked: int = 0  # rows the gate checked
    rejected_by_stage: Counter = field(default_factory=Counter)
    unexpected: Counter = field(default_factory=Counter)  # rows failing, per expectation
    write_s: float = 0.0  # executor-seconds spent writing to Elasticsearch and the DLQ
    # Run level (the driver's):
    batches: int = 0
    duration_s: float = 0.0
    source_format: str = ""
    centring: str | None = None  # the published centring version the run labelled with (None: the prior)
    last_lag: int | None = None
    driver_bytes_collected: int = 0  # what the executors sent the driver: counts, never documents
    # The most recent batches only: a follow job runs for weeks.
    batch_durations_s: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    SUMMED: ClassVar[tuple[str, ...]] = (
        "rows_in",
        "rows_out",
        "quarantined",
        "deduplicated",
        "erased",
        "checked",
        "write_s",
    )
    TALLIED: ClassVar[tuple[str, ...]] = ("rejected_by_stage", "unexpected")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("batch_durations_s")
        return {k: dict(v) if isinstance(v, Counter) else v for k, v in data.items()}

    def as_json(self) -> bytes:
        """The counters only: what a partition sends the driver."""
        return orjson.dumps(
            {name: getattr(self, name) for name in self.SUMMED}
            | {name: dict(getattr(self, name)) for name in self.TALLIED}
        )

    def add(self, other: EnrichStats | dict[str, Any]) -> None:
        """Add another level's counters (an ``EnrichStats`` or its ``as_json`` parsed)."""
        get = other.get if isinstance(other, dict) else lambda name: getattr(other, name)
        for name in self.SUMMED:
            setattr(self, name, getattr(self, name) + get(name))
        for name in self.TALLIED:
            getattr(self, name).update(get(name))

    def add_batch(self, batch: EnrichStats, lag: int | None, seconds: float, collected_bytes: int) -> None:
        self.add(batch)
        self.batches += 1
        self.last_lag = lag
        self.driver_bytes_collected += collected_bytes
        self.batch_durations_s.append(seconds)


def read_batch_offsets(spark: SparkSession, checkpoint: str, batch_id: int) -> dict[str, dict[str, int]]:
    """The end offsets Spark logged for ``batch_id`` (``{topic: {partition: offset}}``), or {}.

    Read with Hadoop's FileSystem API, so any checkpoint URI Spark accepts works."""
    jvm = spark.sparkContext._jvm
    if jvm is None:
        raise RuntimeError("reading the checkpoint's offsets needs classic Spark (a JVM in this process)")
    path = jvm.org.apache.hadoop.fs.Path(f"{str(checkpoint).rstrip('/')}/offsets/{batch_id}")
    try:
        fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        if not fs.exists(path):
            return {}
        stream = fs.open(path)
        try:
            reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
            lines = []
            while (line := reader.readLine()) is not None:
                lines.append(line)
        finally:
            stream.close()
    except Exception as exc:  # the lag is informative: never fail a batch over it
        log.debug("offsets of batch %s unreadable: %r", batch_id, exc)
        return {}
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{") and '"batchWatermarkMs"' not in line:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return {t: {str(p): int(o) for p, o in parts.items()} for t, parts in value.items()}
    return {}


class LagMeter:
    """Records behind the high watermark after a batch (one small consumer, kept for the run)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._consumer: Any = None

    def lag(self, ends: dict[str, int]) -> int | None:
        from ecoute.kafka import high_watermarks, make_consumer

        if not ends:
            return None
        try:
            if self._consumer is None:
                self._consumer = make_consumer(self.settings, max_partition_fetch_bytes=1024, fetch_max_wait_ms=50)
            latest = high_watermarks(
                self.settings.topics.raw, [int(p) for p in ends], timeout_s=5, consumer=self._consumer
            )
        except Exception as exc:  # lag is informative; never fail a batch over it
            log.debug("lag unavailable: %r", exc)
            return None
        return sum(max(0, latest[int(p)] - o) for p, o in ends.items())

    def close(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                self._consumer.close()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def gate_outcomes(counts: EnrichStats, names: list[str]) -> list[dict[str, Any]]:
    """Per expectation: rows checked and rows failing, summed over the partitions."""
    return [
        {
            "expectation": name,
            "success": counts.unexpected.get(name, 0) == 0,
            "element_count": counts.checked,
            "unexpected_count": counts.unexpected.get(name, 0),
        }
        for name in names
    ]


def batch_document(
    *,
    run_id: str,
    batch_id: int,
    started: float,
    finished: float,
    counts: EnrichStats,
    lag: int | None,
    source_format: str,
    expectations: list[str] | None,
    timings: dict[str, float],
    collected_bytes: int,
) -> dict[str, Any]:
    """The job-metrics document of one batch."""
    results = gate_outcomes(counts, expectations) if expectations and counts.checked else []
    failed = [r["expectation"] for r in results if not r["success"]]
    return {
        "id": f"{JOB_NAME}:{run_id}:{batch_id}",
        "job": JOB_NAME,
        "batch_id": batch_id,
        "run_id": run_id,
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "duration_ms": round((finished - started) * 1000, 1),
        # where the time went: the executors' read+label+gate+write stage, of which Elasticsearch writes
        **{k: round(v * 1000, 1) for k, v in timings.items()},
        "rows_in": counts.rows_in,
        "rows_out": counts.rows_out,
        "quarantined": counts.quarantined,
        "deduplicated": counts.deduplicated,
        "lag": lag,
        "source_format": source_format,
        "driver_bytes": collected_bytes,
        "validation_success": (not failed) if results else None,
        "expectations_evaluated": len(results),
        "expectations_failed": len(failed),
        "failed_expectations": failed,
        "expectation_results": results,
    }
