"""The Python Kafka data source, driven the way Spark drives it, on both brokers (noida-db, Tansu)."""

from __future__ import annotations

import itertools
import json

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadMaxRows

from ecoute.kafka import Producer, ensure_topics
from jobs.enrich.kafka_source import KafkaOptionError, KafkaStreamReader, kafka_options, split_limit, split_ranges

pytestmark = pytest.mark.kafka


@given(st.dictionaries(st.integers(0, 11), st.integers(0, 10_000), min_size=1), st.integers(1, 50_000))
def test_split_limit_never_exceeds_the_budget_nor_the_backlog(available, max_rows):
    take = split_limit(available, max_rows)
    assert set(take) == set(available)
    assert all(0 <= take[p] <= available[p] for p in available)
    assert sum(take.values()) == min(max_rows, sum(available.values()))


@given(
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 5000)), min_size=1, max_size=6),
    st.integers(1, 16),
)
def test_split_ranges_covers_every_offset_once_in_order(spans, min_pieces):
    ranges = [(p, start, start + length) for p, (start, length) in enumerate(spans) if length]
    pieces = split_ranges(ranges, min_pieces, min_piece=10)
    for partition, start, end in ranges:
        own = [(a, b) for p, a, b in pieces if p == partition]
        assert own[0][0] == start and own[-1][1] == end  # same range, cut in offset order
        assert all(a < b for a, b in own) and all(b == a2 for (_, b), (a2, _) in itertools.pairwise(own))
    total = sum(b - a for _, a, b in ranges)
    if min_pieces > len(ranges) and total:
        assert max(b - a for _, a, b in pieces) <= max(10, -(-total // min_pieces))


def _reader(settings, **extra) -> KafkaStreamReader:
    options = kafka_options(settings, settings.topics.raw, **extra)
    return KafkaStreamReader({k.lower(): v for k, v in options.items()})  # Spark lower-cases option keys


def _read_all(reader: KafkaStreamReader, start: dict, end: dict) -> list[dict]:
    rows = []
    for part in reader.partitions(start, end):
        for batch in reader.read(part):
            assert isinstance(batch, pa.RecordBatch)
            rows.extend(batch.to_pylist())
    return rows


def test_offsets_ranges_limits_and_available_now(broker_settings):
    settings = broker_settings
    ensure_topics(settings)
    with Producer(settings) as producer:
        producer.send_batch(settings.topics.raw, [(f"facebook:{i}", {"i": i}) for i in range(250)])
    reader = _reader(settings, max_offsets_per_trigger=100)
    start = reader.initialOffset()
    assert start == {settings.topics.raw: {"0": 0, "1": 0, "2": 0}}
    json.dumps(start)  # what Spark stores in its offset log

    # Admission control: at most 100 records per micro-batch, shared over the partitions.
    assert reader.getDefaultReadLimit() == ReadMaxRows(100)
    first = reader.latestOffset(start, ReadMaxRows(100))
    assert sum(first[settings.topics.raw].values()) == 100
    rows = _read_all(reader, start, first)
    assert len(rows) == 100
    assert len(reader.partitions(start, first)) == 3  # one Spark partition per Kafka partition range
    # minPartitions cuts the ranges so both cores get the same work; nothing read twice or missed.
    split = _reader(settings, max_offsets_per_trigger=100, min_partitions=8)
    split.min_piece = 1
    assert len(split.partitions(start, first)) >= 8
    assert sorted(r["offset"] for r in _read_all(split, start, first)) == sorted(r["offset"] for r in rows)
    assert sorted(r["value"] for r in _read_all(split, start, first)) == sorted(r["value"] for r in rows)
    split.stop()

    # Trigger.AvailableNow: the target is fixed when the query starts; later records wait.
    reader.prepareForTriggerAvailableNow()
    with Producer(settings) as producer:
        producer.send_batch(settings.topics.raw, [(f"facebook:late{i}", {"late": i}) for i in range(30)])
    offset, seen = first, rows
    while True:
        nxt = reader.latestOffset(offset, ReadAllAvailable())
        if nxt == offset:
            break
        seen += _read_all(reader, offset, nxt)
        offset = nxt
    values = sorted(json.loads(r["value"])["i"] for r in seen)
    assert values == list(range(250))  # each record once, in full, none of the late ones
    assert all(r["topic"] == settings.topics.raw and r["key"].startswith(b"facebook:") for r in seen)

    # A fresh reader (a new query) sees the late records as the latest offsets.
    latest = _reader(settings).latestOffset(offset, ReadAllAvailable())
    assert sum(latest[settings.topics.raw].values()) == 280
    starting_latest = _reader(settings, starting_offsets="latest").initialOffset()
    assert starting_latest == latest
    explicit = _reader(settings, starting_offsets=json.dumps({settings.topics.raw: {"0": -2, "1": -1}})).initialOffset()
    assert (
        explicit[settings.topics.raw]["0"] == 0
        and explicit[settings.topics.raw]["1"] == latest[settings.topics.raw]["1"]
    )
    reader.stop()


def test_bad_options_are_refused_clearly(settings):
    with pytest.raises(KafkaOptionError, match="subscribe"):
        KafkaStreamReader({"kafka.bootstrap.servers": settings.kafka.bootstrap_servers, "subscribe": "a,b"})
    with pytest.raises(KafkaOptionError, match="maxOffsetsPerTrigger"):
        KafkaStreamReader({"kafka.bootstrap.servers": "x:1", "subscribe": "a", "maxoffsetspertrigger": "0"})
    with pytest.raises(KafkaOptionError, match="minPartitions"):
        KafkaStreamReader({"kafka.bootstrap.servers": "x:1", "subscribe": "a", "minpartitions": "-2"})
