"""The enrichment job end to end: Kafka (noida-db) → Spark + labeller + GX → Elasticsearch (noida-db)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecoute.es import count, make_client
from ecoute.events import validation_errors
from jobs.enrich import run_enrichment
from tests.jobs.enrich.events import raw_event, stream_of_events
from tests.jobs.enrich.support import dead_letters, produce, produce_events, stored

pytestmark = pytest.mark.slow


def _enriched_errors(doc: dict) -> list[str]:
    doc = {k: v for k, v in doc.items() if k not in ("_id", "_index")}
    return validation_errors(doc, "enriched_event.schema.json")


def test_available_now_enriches_validates_quarantines_and_resumes(job_settings):
    settings = job_settings
    events = stream_of_events(300)
    # A brand reply whose parent arrives only later (in the second run).
    events.append(raw_event(5000, kind="reply", parent="facebook:5001", brand=True, text="Merci, on regarde !"))
    produce_events(settings, events)
    produce(
        settings,
        [
            ("poison-json", b'{"id": "facebook:poison", "text": '),  # not JSON
            ("poison-schema", {"id": "facebook:bad", "source": "facebook", "text": 42}),  # violates the contract
            # Valid raw event, but created in 2099: the GX gate ("dates sane") must stop it.
            ("facebook:9000", raw_event(9000, created_at=datetime(2099, 10, 14, tzinfo=UTC))),
        ],
    )
    reports = []
    stats = run_enrichment(settings, mode="available-now", timeout_s=600, progress=reports.append)

    assert stats.rows_in == 304
    # progress after the batch: everything done, nothing left
    assert reports and reports[-1].done == 304 and reports[-1].left == 0 and reports[-1].batches == stats.batches
    assert stats.rows_out == 301
    assert stats.quarantined == 3
    docs = stored(settings)
    assert set(docs) == {e["id"] for e in events}
    for doc in docs.values():
        assert not _enriched_errors(doc), (doc["id"], _enriched_errors(doc))
        assert doc["_index"] == f"{settings.indices.mentions}-2026.10"
        assert "raw" not in doc
        assert doc["labeller_version"]
        if not doc["author"]["is_brand"]:
            assert "name" not in doc["author"]  # personal data kept only when enabled
    replied = {e["parent_id"] for e in events if e["author"]["is_brand"] and e["parent_id"] in docs}
    assert replied  # the data set does contain brand replies
    for doc in docs.values():
        assert doc["answered_by_brand"] is (doc["id"] in replied), doc["id"]
        if doc["answered_by_brand"]:
            assert doc["brand_answered_at"] >= doc["created_at"]

    quarantined = stored(settings, settings.indices.quarantine)
    reasons = sorted(q["reason"] for q in quarantined.values())
    assert len(quarantined) == 3
    assert reasons[0].startswith("failed expectations: ") and "created_ahead_s" in reasons[0]
    assert "invalid JSON" in reasons
    assert "raw event violates schemas/raw_event.schema.json" in reasons
    future = next(q for q in quarantined.values() if q["stage"] == "validate")
    assert future["event_id"] == "facebook:9000"
    assert '"facebook:9000"' in future["original"]  # the original bytes travel with the reason
    assert len(dead_letters(settings)) == 3

    client = make_client(settings)
    client.indices.refresh(index=settings.indices.job_metrics)
    metrics = client.search(index=settings.indices.job_metrics, size=100)["hits"]["hits"]
    assert sum(m["_source"]["rows_in"] for m in metrics) == 304
    assert sum(m["_source"]["quarantined"] for m in metrics) == 3
    assert all(m["_source"]["expectations_evaluated"] > 10 for m in metrics if m["_source"]["rows_out"])
    assert metrics[-1]["_source"]["lag"] is not None

    # Second run: only the new records are read (the checkpoint resumes); the late parent gets marked.
    late_parent = raw_event(5001, kind="post")
    produce_events(settings, [late_parent, *stream_of_events(20, start=300)])
    again = run_enrichment(settings, mode="available-now", timeout_s=600)
    assert again.rows_in == 21 and again.rows_out == 21
    docs = stored(settings)
    assert len(docs) == 301 + 21
    assert docs["facebook:5001"]["answered_by_brand"] is True
    assert count(client, settings.indices.mentions) == 322
