"""Runbook operations: rebuild the mentions index from Kafka, and replay from given offsets."""

from __future__ import annotations

import json

import pytest

from ecoute import es, kafka

pytestmark = pytest.mark.slow


def test_rebuild_from_kafka_and_replay_from_offsets(settings):
    from jobs.enrich import run_enrichment
    from tests.jobs.enrich.events import stream_of_events
    from tests.jobs.enrich.support import produce_events

    events = stream_of_events(90)
    produce_events(settings, events)
    assert run_enrichment(settings, mode="available-now").rows_out == 90
    client = es.make_client(settings)

    def wipe() -> None:
        for index in client.indices.get_alias(name=settings.indices.mentions):
            client.indices.delete(index=index)
        assert es.count(client, settings.indices.mentions) == 0

    # Rebuild: a new checkpoint from the earliest retained offsets brings every document back.
    wipe()
    stats = run_enrichment(settings, mode="available-now", checkpoint_name="rebuild", refresh="wait_for")
    assert stats.rows_in == 90 and es.count(client, settings.indices.mentions) == 90
    # Replay from offsets: only what follows them is read again.
    marks = kafka.high_watermarks(settings.topics.raw, settings=settings)
    start = {settings.topics.raw: {str(p): max(0, end - 5) for p, end in marks.items()}}
    wipe()
    stats = run_enrichment(
        settings,
        mode="available-now",
        checkpoint_name="replay-1",
        starting_offsets=json.dumps(start),
        refresh="wait_for",
    )
    expected = sum(min(5, end) for end in marks.values())
    assert stats.rows_in == expected
    assert es.count(client, settings.indices.mentions) == expected
