"""A PySpark 4 Python streaming data source over kafka-python: Kafka without Spark's Maven jar.

Spark's built-in ``kafka`` format needs ``spark-sql-kafka-0-10`` from Maven, which is not always
reachable. This source (format ``ecoute_kafka``) offers the same contract for what the jobs use:

- the same output schema (key, value, topic, partition, offset, timestamp, timestampType);
- the same options: ``kafka.bootstrap.servers``, ``subscribe`` (one topic), ``startingOffsets``
  (``earliest`` | ``latest`` | JSON ``{"topic": {"0": 42}}``), ``maxOffsetsPerTrigger``, ``minPartitions``,
  ``kafka.security.protocol``, ``kafka.sasl.mechanism``, ``kafka.sasl.jaas.config``;
- the same offsets semantics: an offset is ``{"<topic>": {"<partition>": next offset}}`` and lives in
  Spark's checkpoint (offset log), so a restarted query re-reads exactly the uncommitted ranges;
- one Spark partition per Kafka partition offset range of the micro-batch (``minPartitions`` cuts big
  ranges into pieces so all cores get the same work);
- admission control (``maxOffsetsPerTrigger`` → ``ReadMaxRows``) and ``Trigger.AvailableNow``.

Latest offsets are the high watermarks of fetch responses (``ecoute.kafka.high_watermarks``),
never ``end_offsets()``, which Tansu answers with a stale value.

``stream_reader(spark, ...)`` picks the built-in ``kafka`` format when its jar is on the classpath
(production) and this source otherwise, with the same options.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import (
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

if TYPE_CHECKING:
    from kafka import KafkaConsumer
    from pyspark.sql import SparkSession
    from pyspark.sql.streaming import DataStreamReader

    from ecoute.settings import Settings

log = logging.getLogger(__name__)

FORMAT_NAME = "ecoute_kafka"
BUILTIN_PROVIDER = "org.apache.spark.sql.kafka010.KafkaSourceProvider"

# The schema of Spark's built-in Kafka source, so the job does not care which one it reads.
KAFKA_SCHEMA = StructType(
    [
        StructField("key", BinaryType(), True),
        StructField("value", BinaryType(), True),
        StructField("topic", StringType(), False),
        StructField("partition", IntegerType(), False),
        StructField("offset", LongType(), False),
        StructField("timestamp", TimestampType(), True),
        StructField("timestampType", IntegerType(), True),
    ]
)

ARROW_BATCH_ROWS = 10_000


class KafkaOptionError(ValueError):
    """A missing or malformed option of the Kafka source."""


def _jaas_credentials(jaas: str | None) -> tuple[str | None, str | None]:
    if not jaas:
        return None, None
    user = re.search(r'username\s*=\s*"([^"]*)"', jaas)
    password = re.search(r'password\s*=\s*"([^"]*)"', jaas)
    return (user.group(1) if user else None, password.group(1) if password else None)


def _settings_from_options(options: dict[str, str]) -> Settings:
    """Settings whose ``kafka`` part comes from the Spark-style ``kafka.*`` options."""
    from pydantic import SecretStr

    from ecoute.settings import KafkaSettings, Settings

    servers = options.get("kafka.bootstrap.servers")
    if not servers:
        raise KafkaOptionError("option kafka.bootstrap.servers is required")
    username, password = _jaas_credentials(options.get("kafka.sasl.jaas.config"))
    kafka = KafkaSettings(
        bootstrap_servers=servers,
        security_protocol=options.get("kafka.security.protocol", "PLAINTEXT"),
        sasl_mechanism=options.get("kafka.sasl.mechanism"),
        sasl_username=username,
        sasl_password=None if password is None else SecretStr(password),
        client_id=options.get("kafka.client.id", "ecoute-spark"),
    )
    return Settings(kafka=kafka)


# One consumer per process and configuration: Python workers are reused across tasks and the
# driver-side reader lives as long as the query, so connections are not re-opened per batch.
_consumers: dict[tuple[str, ...], KafkaConsumer] = {}
_consumers_lock = threading.Lock()


def _consumer(options: dict[str, str], role: str) -> KafkaConsumer:
    from ecoute.kafka import make_consumer

    key = (role, *(f"{k}={v}" for k, v in sorted(options.items()) if k.startswith("kafka.")))
    with _consumers_lock:
        consumer = _consumers.get(key)
        if consumer is None:
            overrides: dict[str, Any] = {"fetch_max_wait_ms": 50}
            if role == "watermarks":
                overrides["max_partition_fetch_bytes"] = 1024
            consumer = make_consumer(_settings_from_options(options), **overrides)
            _consumers[key] = consumer
        return consumer


def _forget_consumer(options: dict[str, str], role: str) -> None:
    key = (role, *(f"{k}={v}" for k, v in sorted(options.items()) if k.startswith("kafka.")))
    with _consumers_lock:
        consumer = _consumers.pop(key, None)
    if consumer is not None:
        # Closing a broken consumer must not mask the error that made us drop it.
        with contextlib.suppress(Exception):
            consumer.close(autocommit=False)


class KafkaRange(InputPartition):
    """Offsets [start, end) of one Kafka partition: one Spark partition of a micro-batch."""

    def __init__(self, topic: str, partition: int, start: int, end: int):
        self.topic = topic
        self.partition = partition
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"KafkaRange({self.topic}[{self.partition}] {self.start}..{self.end})"


def split_limit(available: dict[int, int], max_rows: int) -> dict[int, int]:
    """How many of each partition's ``available`` records fit in ``max_rows``, shared fairly.

    Each partition gets its share proportional to its backlog (at least one record while the
    budget lasts), so a busy partition cannot starve the others and the total never exceeds
    ``max_rows``.
    """
    total = sum(available.values())
    if total <= max_rows:
        return dict(available)
    take = {p: min(n, (n * max_rows) // total) for p, n in available.items()}
    budget = max_rows - sum(take.values())
    for p in sorted(available, key=lambda p: available[p] - take[p], reverse=True):
        if budget <= 0:
            break
        extra = min(budget, available[p] - take[p])
        take[p] += extra
        budget -= extra
    return take


MIN_PIECE_RECORDS = 256  # below this a task's fixed cost outweighs what splitting gains


def split_ranges(
    ranges: list[tuple[int, int, int]], min_pieces: int, min_piece: int = MIN_PIECE_RECORDS
) -> list[tuple[int, int, int]]:
    """Cut ``(partition, start, end)`` ranges into about ``min_pieces`` pieces of similar size.

    Spark's ``minPartitions``: with fewer Kafka partitions than cores, or a count that does not
    divide evenly (3 partitions on 2 cores), big ranges are divided so every core gets the same
    work. No piece is larger than total / ``min_pieces``, none is cut below ``min_piece`` records,
    and pieces of one Kafka partition stay in offset order.
    """
    total = sum(end - start for _, start, end in ranges)
    if min_pieces <= len(ranges) or total <= 0:
        return ranges
    target = max(min_piece, -(-total // min_pieces))  # ceil: the size no piece exceeds
    pieces = []
    for partition, start, end in ranges:
        count = max(1, -(-(end - start) // target))
        step, extra = divmod(end - start, count)
        at = start
        for i in range(count):
            size = step + (1 if i < extra else 0)
            if size:
                pieces.append((partition, at, at + size))
                at += size
    return pieces


class KafkaStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    def __init__(self, options: dict[str, str]):
        # Spark hands options over case-insensitively (lower-cased keys): look them up lower-cased.
        self.options = {str(k).lower(): v for k, v in options.items()}
        self.topic = self.options.get("subscribe") or ""
        if not self.topic or "," in self.topic:
            raise KafkaOptionError("option subscribe must name exactly one topic")
        max_offsets = self.options.get("maxoffsetspertrigger")
        self.max_offsets = int(max_offsets) if max_offsets else None
        if self.max_offsets is not None and self.max_offsets <= 0:
            raise KafkaOptionError("maxOffsetsPerTrigger must be a positive integer")
        min_partitions = self.options.get("minpartitions")
        self.min_partitions = int(min_partitions) if min_partitions else 0
        if min_partitions and self.min_partitions <= 0:
            raise KafkaOptionError("minPartitions must be a positive integer")
        self.min_piece = MIN_PIECE_RECORDS
        self.timeout_s = float(self.options.get("kafkaconsumer.polltimeoutms", "60000")) / 1000
        self._target: dict[int, int] | None = None  # Trigger.AvailableNow end point
        self._last_latest: dict[int, int] | None = None

    # -- driver side -----------------------------------------------------------------------------
    def _partitions(self) -> list[int]:
        import time

        consumer = _consumer(self.options, "watermarks")
        deadline = time.monotonic() + 30
        while True:
            parts = consumer.partitions_for_topic(self.topic)
            if parts:
                return sorted(parts)
            if time.monotonic() > deadline:
                raise KafkaOptionError(f"topic {self.topic!r} not found on {self.options['kafka.bootstrap.servers']}")
            consumer.topics()  # forces a metadata refresh
            time.sleep(0.2)

    def _high_watermarks(self) -> dict[int, int]:
        from ecoute.kafka import high_watermarks

        try:
            return high_watermarks(self.topic, self._partitions(), consumer=_consumer(self.options, "watermarks"))
        except Exception:
            _forget_consumer(self.options, "watermarks")
            raise

    def _as_offset(self, positions: dict[int, int]) -> dict:
        return {self.topic: {str(p): int(o) for p, o in sorted(positions.items())}}

    def _positions(self, offset: dict | None) -> dict[int, int]:
        return {int(p): int(o) for p, o in ((offset or {}).get(self.topic) or {}).items()}

    def initialOffset(self) -> dict:
        starting = self.options.get("startingoffsets", "earliest").strip()
        if starting == "earliest":
            return self._as_offset({p: 0 for p in self._partitions()})
        if starting == "latest":
            return self._as_offset(self._high_watermarks())
        try:
            given = json.loads(starting)
        except ValueError as exc:
            raise KafkaOptionError(f"startingOffsets must be earliest, latest or JSON: {exc}") from None
        wanted = self._positions(given)
        latest: dict[int, int] | None = None
        positions = {}
        for p in self._partitions():
            value = wanted.get(p, -2)
            if value == -1:  # Spark's convention: -1 latest, -2 earliest
                latest = latest or self._high_watermarks()
                value = latest[p]
            positions[p] = max(0, value)
        return self._as_offset(positions)

    def getDefaultReadLimit(self) -> ReadLimit:
        return ReadMaxRows(self.max_offsets) if self.max_offsets else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        self._target = self._high_watermarks()

    def latestOffset(self, start: dict, limit: ReadLimit) -> dict:
        begin = self._positions(start)
        latest = self._target if self._target is not None else self._high_watermarks()
        self._last_latest = latest
        # Partitions added since the start begin at their first offset.
        begin = {p: begin.get(p, 0) for p in latest}
        available = {p: max(0, latest[p] - begin[p]) for p in latest}
        if isinstance(limit, ReadMaxRows):
            take = split_limit(available, limit.max_rows)
        elif self._target is not None and self.max_offsets:
            # Under Trigger.AvailableNow Spark 4.3 passes ReadAllAvailable to Python sources; keep
            # the batches bounded by maxOffsetsPerTrigger as the built-in Kafka source does.
            take = split_limit(available, self.max_offsets)
        else:
            take = available
        return self._as_offset({p: begin[p] + take[p] for p in latest})

    def reportLatestOffset(self) -> dict | None:
        # Spark asks right after latestOffset(): reuse what it just fetched (a fetch round costs).
        return self._as_offset(self._last_latest) if self._last_latest is not None else None

    def partitions(self, start: dict, end: dict) -> Sequence[InputPartition]:
        begin, finish = self._positions(start), self._positions(end)
        ranges = [(p, begin.get(p, 0), finish[p]) for p in sorted(finish) if finish[p] > begin.get(p, 0)]
        return [
            KafkaRange(self.topic, p, a, b) for p, a, b in split_ranges(ranges, self.min_partitions, self.min_piece)
        ]

    def commit(self, end: dict) -> None:
        # Progress lives in Spark's checkpoint; nothing to do in Kafka (no consumer group).
        pass

    def stop(self) -> None:
        _forget_consumer(self.options, "watermarks")

    # -- executor side ---------------------------------------------------------------------------
    def read(self, partition: InputPartition) -> Iterator[Any]:
        if not isinstance(partition, KafkaRange):  # Spark hands back the partitions `partitions` made
            raise TypeError(f"expected a KafkaRange, got {type(partition).__name__}")
        return read_range_as_arrow(self.options, partition, self.timeout_s)


def read_range_as_arrow(options: dict[str, str], part: KafkaRange, timeout_s: float) -> Iterator[Any]:
    """Yield Arrow record batches of the records of ``part``, in offset order."""
    import pyarrow as pa

    from ecoute.kafka import read_range

    schema = pa.schema(
        [
            ("key", pa.binary()),
            ("value", pa.binary()),
            pa.field("topic", pa.string(), nullable=False),
            pa.field("partition", pa.int32(), nullable=False),
            pa.field("offset", pa.int64(), nullable=False),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("timestampType", pa.int32()),
        ]
    )

    def batch(rows: list[Any]) -> Any:
        n = len(rows)
        return pa.RecordBatch.from_arrays(
            [
                pa.array([r.key for r in rows], pa.binary()),
                pa.array([r.value for r in rows], pa.binary()),
                pa.array([part.topic] * n, pa.string()),
                pa.array([part.partition] * n, pa.int32()),
                pa.array([r.offset for r in rows], pa.int64()),
                pa.array([r.timestamp * 1000 if r.timestamp is not None else None for r in rows], pa.int64()).cast(
                    pa.timestamp("us", tz="UTC")
                ),
                pa.array([r.timestamp_type for r in rows], pa.int32()),
            ],
            schema=schema,
        )

    consumer = _consumer(options, "reader")
    rows: list[Any] = []
    try:
        for record in read_range(
            part.topic, part.partition, part.start, part.end, consumer=consumer, timeout_s=timeout_s
        ):
            rows.append(record)
            if len(rows) >= ARROW_BATCH_ROWS:
                yield batch(rows)
                rows = []
    except Exception:
        _forget_consumer(options, "reader")
        raise
    if rows:
        yield batch(rows)


class KafkaDataSource(DataSource):
    """``spark.readStream.format("ecoute_kafka")``: Kafka through kafka-python, no jar needed."""

    @classmethod
    def name(cls) -> str:
        return FORMAT_NAME

    def schema(self) -> StructType:
        return KAFKA_SCHEMA

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:
        return KafkaStreamReader(dict(self.options))


def builtin_kafka_available(spark: SparkSession) -> bool:
    """Whether Spark's own Kafka connector jar is on the classpath."""
    try:
        jvm = spark._jvm
        if jvm is None:  # Spark Connect: no JVM in this process
            return False
        jvm.java.lang.Class.forName(BUILTIN_PROVIDER)
        return True
    except Exception:  # Py4J raises its own error type when the class is missing
        return False


def kafka_options(
    settings: Settings,
    topic: str,
    starting_offsets: str = "earliest",
    max_offsets_per_trigger: int | None = None,
    min_partitions: int | None = None,
) -> dict[str, str]:
    """The Spark Kafka options for ``settings``; the same keys work for both formats."""
    kafka = settings.kafka
    options = {
        "kafka.bootstrap.servers": kafka.bootstrap_servers,
        "kafka.security.protocol": kafka.security_protocol,
        "subscribe": topic,
        "startingOffsets": starting_offsets,
        "failOnDataLoss": "false",
    }
    if kafka.sasl_mechanism:
        options["kafka.sasl.mechanism"] = kafka.sasl_mechanism
        module = (
            "org.apache.kafka.common.security.scram.ScramLoginModule"
            if kafka.sasl_mechanism.upper().startswith("SCRAM")
            else "org.apache.kafka.common.security.plain.PlainLoginModule"
        )
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
        options["kafka.sasl.jaas.config"] = (
            f'{module} required username="{kafka.sasl_username or ""}" password="{password}";'
        )
    if max_offsets_per_trigger:
        options["maxOffsetsPerTrigger"] = str(max_offsets_per_trigger)
    if min_partitions:
        options["minPartitions"] = str(min_partitions)
    return options


def stream_reader(spark: SparkSession, options: dict[str, str]) -> tuple[DataStreamReader, str]:
    """A ``readStream`` on Kafka with ``options``: the built-in format if present, else ours."""
    if builtin_kafka_available(spark):
        fmt = "kafka"
    else:
        spark.dataSource.register(KafkaDataSource)
        fmt = FORMAT_NAME
    reader = spark.readStream.format(fmt)
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader, fmt
