"""GDPR erasure (with tombstones) and retention, against noida-db."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from ecoute import es, events, privacy


def _mention(i: int, author: str, created_at: str) -> dict:
    return {
        "id": f"facebook:{i}",
        "source": "facebook",
        "kind": "comment",
        "channel": "facebook:brand",
        "author": {"id": author, "name": None, "is_brand": False},
        "text": f"commentaire {i}",
        "created_at": created_at,
        "fetched_at": created_at,
        "criticism": i % 2 == 0,
    }


def _index(settings, docs):
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    for month in sorted({d["created_at"][:7] for d in docs}):
        index = events.month_index(settings.indices.mentions, month + "-01")
        client.options(ignore_status=400).indices.create(index=index, aliases={settings.indices.mentions: {}})
    actions = es.upsert_actions(
        None, docs, index_of=lambda d: events.month_index(settings.indices.mentions, d["created_at"])
    )
    assert not es.bulk_write(client, actions, refresh="wait_for").failed
    return client


def test_erasure_removes_every_trace_and_leaves_a_tombstone(settings):
    key = settings.pseudonym_key.get_secret_value()
    victim = events.pseudonymise("fb-user-42", key)
    other = events.pseudonymise("fb-user-7", key)
    docs = [_mention(i, victim if i < 5 else other, f"2026-10-0{1 + i % 9}T10:00:00Z") for i in range(20)]
    client = _index(settings, docs)
    quarantined = events.dead_letter(
        stage="validate",
        reason="test",
        original=orjson.dumps(_mention(99, victim, "2026-10-01T00:00:00Z")),
        event_id="facebook:99",
    )
    client.index(index=settings.indices.quarantine, id="q1", document={"id": "q1", **quarantined}, refresh="wait_for")
    client.index(
        index=settings.indices.alerts,
        id="al1",
        document={"id": "al1", "top_mentions": ["facebook:1", "facebook:9"]},
        refresh="wait_for",
    )

    with pytest.raises(ValueError, match="native"):
        privacy.author_key(settings, "fb-user-42")
    author = privacy.author_key(settings, "fb-user-42", native=True)
    result = privacy.erase_author(settings, author, reason="art. 17 request #12")

    assert (result.mentions_deleted, result.quarantine_deleted, result.alerts_scrubbed) == (5, 1, 1)
    assert es.count(client, settings.indices.mentions, {"term": {"author.id": victim}}) == 0
    assert es.count(client, settings.indices.mentions) == 15
    assert client.get(index=settings.indices.alerts, id="al1")["_source"]["top_mentions"] == ["facebook:9"]
    registry = privacy.ErasureRegistry(settings)
    assert registry.is_erased(orjson.dumps(_mention(1, victim, "2026-10-01T00:00:00Z")))
    assert not registry.is_erased(_mention(1, other, "2026-10-01T00:00:00Z"))
    assert not registry.is_erased(b"not json")


def test_retention_deletes_only_what_is_older_than_the_cutoff(settings):
    docs = [_mention(i, "a_x", f"2026-{m:02d}-15T10:00:00Z") for i, m in enumerate([7, 8, 9, 9, 10, 10, 10])]
    client = _index(settings, docs)
    result = privacy.purge_older_than(settings, days=40, now=datetime(2026, 10, 20, tzinfo=UTC))
    # cutoff 2026-09-10: July and August indices dropped whole, nothing deleted from September's.
    assert result.indices_dropped == [f"{settings.indices.mentions}-2026.07", f"{settings.indices.mentions}-2026.08"]
    assert es.count(client, settings.indices.mentions) == 5
    result = privacy.purge_older_than(settings, days=30, now=datetime(2026, 10, 20, tzinfo=UTC))
    assert result.mentions_deleted == 2 and result.indices_dropped == []
    assert es.count(client, settings.indices.mentions) == 3
    with pytest.raises(ValueError):
        privacy.purge_older_than(settings, days=0)


@pytest.mark.slow
def test_reimported_events_of_an_erased_author_stay_out(settings):
    from jobs.enrich import run_enrichment
    from tests.jobs.enrich.events import stream_of_events
    from tests.jobs.enrich.support import produce_events

    batch = stream_of_events(60)
    erased = batch[3]["author"]["id"]
    privacy.erase_author(settings, erased, reason="test")
    produce_events(settings, batch)  # a re-import or replay brings the author's events back to Kafka
    stats = run_enrichment(settings, mode="available-now")
    client = es.make_client(settings)
    client.indices.refresh(index=settings.indices.mentions)
    expected_erased = sum(1 for e in batch if e["author"]["id"] == erased)
    assert stats.erased == expected_erased > 0
    assert es.count(client, settings.indices.mentions, {"term": {"author.id": erased}}) == 0
    assert es.count(client, settings.indices.mentions) == len(batch) - expected_erased
