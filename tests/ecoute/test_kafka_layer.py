"""The Kafka wrapper against both real brokers (noida-db and Tansu)."""

from __future__ import annotations

import orjson

from ecoute import kafka


def test_topics_created_once_with_declared_partitions(broker_settings):
    created = kafka.ensure_topics(broker_settings)
    assert sorted(created) == sorted(broker_settings.topics.model_dump().values())
    assert kafka.ensure_topics(broker_settings) == []
    assert kafka.partitions_of(broker_settings.topics.raw, broker_settings) == [0, 1, 2]


def test_send_batch_then_read_back_every_record_in_key_order(broker_settings):
    kafka.ensure_topics(broker_settings)
    topic = broker_settings.topics.raw
    records = [(f"facebook:{i % 7}", {"n": i, "text": "é😀"}) for i in range(500)]
    with kafka.Producer(broker_settings) as producer:
        assert producer.send_batch(topic, records) == 500
    marks = kafka.high_watermarks(topic, settings=broker_settings)
    assert sum(marks.values()) == 500
    seen = []
    for partition, end in marks.items():
        seen += [orjson.loads(r.value) for r in kafka.read_range(topic, partition, 0, end, broker_settings)]
    assert sorted(m["n"] for m in seen) == list(range(500))
    by_key: dict[int, list[int]] = {}
    for m in seen:
        by_key.setdefault(m["n"] % 7, []).append(m["n"])
    assert all(v == sorted(v) for v in by_key.values())


def test_high_watermarks_of_empty_topic_are_zero(broker_settings):
    kafka.ensure_topics(broker_settings)
    assert kafka.high_watermarks(broker_settings.topics.raw, settings=broker_settings) == {0: 0, 1: 0, 2: 0}
