"""The one Kafka client wrapper of Écoute (kafka-python), used by connectors, jobs, DAGs and tests.

Design notes:
- Producers use acks=all and idempotence-friendly settings; ``send_batch`` returns only once the
  broker acknowledged every record, so callers may advance a checkpoint after it.
- Latest offsets come from the high watermark of a fetch response, not from ``end_offsets()``:
  some brokers (Tansu) answer ListOffsets with a stale value. See ``high_watermarks``.
- Messages are UTF-8 JSON keyed by the event id, so one thread keeps its order within a partition.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

import schemas
from ecoute import preflight
from ecoute.private_files import private_folder, write_private
from ecoute.settings import KafkaSettings, Settings, get_settings

log = logging.getLogger(__name__)


# Brokers refuse messages over ~1 MB by default (message.max.bytes); larger dead letters overflow to disk.
DLQ_MAX_BYTES = 900_000
DLQ_ORIGINAL_HEAD_CHARS = 65_536


class DeliveryError(RuntimeError):
    """Some records of a batch were not acknowledged by the broker."""


def _common(kafka: KafkaSettings) -> dict[str, Any]:
    preflight.check(
        "Kafka",
        kafka.bootstrap_servers,
        default_port=9092,
        hint=f"{preflight.START_HINT} or set ECOUTE_KAFKA__BOOTSTRAP_SERVERS",
        # A port that accepts TCP but is not Kafka costs 2 s, not the client's 30 s bootstrap
        # (TLS listeners are not probed: the probe speaks plain Kafka).
        probe=preflight.kafka_probe if kafka.security_protocol.upper() in ("PLAINTEXT", "SASL_PLAINTEXT") else None,
    )
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers.split(","),
        "security_protocol": kafka.security_protocol,
        "client_id": kafka.client_id,
        "request_timeout_ms": kafka.request_timeout_ms,
    }
    if kafka.sasl_mechanism:
        options.update(
            sasl_mechanism=kafka.sasl_mechanism,
            sasl_plain_username=kafka.sasl_username,
            sasl_plain_password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else None,
        )
    return options


def topic_declarations(settings: Settings | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(actual topic name, declaration from schemas/topics.yaml) for every topic of the contract."""
    settings = settings or get_settings()
    names = settings.topics.model_dump()
    return [(names[role], decl) for role, decl in schemas.topics().items()]


def ensure_topics(settings: Settings | None = None, timeout_s: float = 30.0) -> list[str]:
    """Create the contract's topics that do not exist yet; returns the names created."""
    settings = settings or get_settings()
    admin = KafkaAdminClient(**_common(settings.kafka))
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, decl["partitions"], decl.get("replication_factor", 1))
            for name, decl in topic_declarations(settings)
            if name not in existing
        ]
        created = []
        for topic in wanted:
            try:
                admin.create_topics([topic], timeout_ms=int(timeout_s * 1000))
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def make_producer(settings: Settings | None = None, **overrides: Any) -> KafkaProducer:
    settings = settings or get_settings()
    options = {
        **_common(settings.kafka),
        "acks": "all",
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "max_request_size": 4 * 1024 * 1024,
        "retries": 5,
        "max_in_flight_requests_per_connection": 1,  # keeps per-key order across retries
        "key_serializer": None,
        "value_serializer": None,
    }
    options.update(overrides)
    return KafkaProducer(**options)


@dataclass
class Record:
    key: str
    value: bytes


class Producer:
    """Produce JSON events keyed by id; ``send_batch`` blocks until every record is acknowledged."""

    def __init__(self, settings: Settings | None = None, **overrides: Any):
        self.settings = settings or get_settings()
        self._producer = make_producer(self.settings, **overrides)

    def send_batch(self, topic: str, records: Sequence[tuple[str | None, Any]], timeout_s: float = 60.0) -> int:
        futures = []
        for key, value in records:
            payload = value if isinstance(value, bytes) else orjson.dumps(value)
            futures.append(self._producer.send(topic, key=key.encode() if key else None, value=payload))
        self._producer.flush(timeout=timeout_s)
        failures = []
        for future in futures:
            try:
                future.get(timeout=timeout_s)
            except KafkaError as exc:
                failures.append(exc)
        if failures:
            raise DeliveryError(f"{len(failures)} of {len(futures)} records not acknowledged: {failures[0]!r}")
        return len(futures)

    def send_dead_letters(self, records: Sequence[dict[str, Any]]) -> int:
        """Send dead-letter records; one too large for Kafka is saved whole in the state folder first."""
        return self.send_batch(self.settings.topics.dlq, [(r.get("event_id"), self._fit(r)) for r in records])

    def _fit(self, record: dict[str, Any]) -> bytes:
        payload = orjson.dumps(record)
        if len(payload) <= DLQ_MAX_BYTES:
            return payload
        digest = hashlib.sha256(payload).hexdigest()
        overflow = private_folder(self.settings.state_dir / "dlq-overflow") / f"{digest}.json"
        tmp = overflow.with_suffix(".tmp")
        write_private(tmp, payload)  # full texts and author names: the owner's eyes only
        tmp.replace(overflow)
        original = record.get("original") or ""
        log.warning(
            "dead-letter record of %d bytes saved to %s; the DLQ message carries its head", len(payload), overflow
        )
        return orjson.dumps(
            {
                **record,
                "original": original[:DLQ_ORIGINAL_HEAD_CHARS],
                "original_b64": None,
                "original_size": len(original.encode("utf-8", errors="surrogatepass")),
                "original_sha256": hashlib.sha256(original.encode("utf-8", errors="surrogatepass")).hexdigest(),
                "overflow_file": str(overflow),
            }
        )

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.close(timeout=timeout_s)

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_consumer(settings: Settings | None = None, **overrides: Any) -> KafkaConsumer:
    settings = settings or get_settings()
    options = {
        **_common(settings.kafka),
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka.session_timeout_ms,
        "heartbeat_interval_ms": max(1000, settings.kafka.session_timeout_ms // 4),
        "fetch_max_wait_ms": 100,
        "max_partition_fetch_bytes": 8 * 1024 * 1024,
        "consumer_timeout_ms": 1000,
    }
    options.update(overrides)
    return KafkaConsumer(**options)


def partitions_of(topic: str, settings: Settings | None = None, timeout_s: float = 15.0) -> list[int]:
    consumer = make_consumer(settings)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            parts = consumer.partitions_for_topic(topic)
            if parts:
                return sorted(parts)
            if time.monotonic() > deadline:
                raise KafkaError(f"topic {topic!r} not found on {consumer.config['bootstrap_servers']}")
            time.sleep(0.2)
    finally:
        consumer.close()


def high_watermarks(
    topic: str,
    partitions: Iterable[int] | None = None,
    settings: Settings | None = None,
    timeout_s: float = 15.0,
    consumer: KafkaConsumer | None = None,
) -> dict[int, int]:
    """The high watermark (next offset to be written) of each partition, read from fetch responses.

    ``end_offsets()`` is not trusted: Tansu answers ListOffsets with a stale value. We start from
    ``end_offsets()`` as a lower bound and fetch one small page per partition, whose response
    carries the true high watermark.
    """
    own = consumer is None
    consumer = consumer or make_consumer(settings, max_partition_fetch_bytes=1024, fetch_max_wait_ms=50)
    try:
        parts = sorted(partitions) if partitions is not None else partitions_of(topic, settings)
        tps = [TopicPartition(topic, p) for p in parts]
        # A reused consumer remembers the high watermarks of its last fetch; drop that state so
        # the values below come from fresh fetch responses, not from the previous call.
        consumer.unsubscribe()
        consumer.assign(tps)
        lower = consumer.end_offsets(tps)
        begin = consumer.beginning_offsets(tps)
        for tp in tps:
            consumer.seek(tp, max(0, min(lower[tp], max(begin[tp], lower[tp] - 1))))
        known: dict[int, int] = {}
        deadline = time.monotonic() + timeout_s
        while len(known) < len(tps):
            consumer.poll(timeout_ms=200, max_records=1, update_offsets=False)
            for tp in tps:
                hw = consumer.highwater(tp)
                if hw is not None:
                    known[tp.partition] = max(hw, lower[tp])
            if time.monotonic() > deadline:
                missing = [tp.partition for tp in tps if tp.partition not in known]
                log.warning("no fetched high watermark for %s %s; using end_offsets()", topic, missing)
                for tp in tps:
                    known.setdefault(tp.partition, lower[tp])
        return known
    finally:
        if own:
            consumer.close()


def read_range(
    topic: str,
    partition: int,
    start: int,
    end: int,
    settings: Settings | None = None,
    consumer: KafkaConsumer | None = None,
    timeout_s: float = 60.0,
) -> Iterator[Any]:
    """Yield the ConsumerRecords of offsets [start, end) of one partition, in order, then stop."""
    if end <= start:
        return
    own = consumer is None
    consumer = consumer or make_consumer(settings)
    tp = TopicPartition(topic, partition)
    try:
        consumer.assign([tp])
        consumer.seek(tp, start)
        position = start
        deadline = time.monotonic() + timeout_s
        while position < end:
            batch = consumer.poll(timeout_ms=500, max_records=5000).get(tp, [])
            if not batch:
                # Offsets may have gaps (compaction, transaction markers): the position tells.
                if consumer.position(tp) >= end:
                    return
                if time.monotonic() > deadline:
                    raise KafkaError(f"{topic}[{partition}] offsets {position}..{end} not readable in {timeout_s}s")
                continue
            deadline = time.monotonic() + timeout_s
            for record in batch:
                if record.offset >= end:
                    return
                position = record.offset + 1
                yield record
    finally:
        if own:
            consumer.close()
