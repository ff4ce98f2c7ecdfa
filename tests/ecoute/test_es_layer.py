"""The Elasticsearch wrapper against noida-db."""

from __future__ import annotations

from ecoute import es


def test_templates_apply_idempotently_and_upserts_never_duplicate(settings):
    client = es.make_client(settings)
    es.wait_until_up(client)
    assert "ecoute-mentions" in es.apply_templates(client, settings)
    es.apply_templates(client, settings)
    index = settings.indices.rollups_daily
    docs = [{"id": f"d{i}", "day": "2026-10-01", "volume": i} for i in range(50)]
    for _ in range(2):
        result = es.bulk_write(client, es.upsert_actions(index, docs), refresh="wait_for")
        assert result.ok == 50 and not result.failed
    assert es.count(client, index) == 50


def test_rejected_documents_are_returned_with_their_reason(settings):
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    index = settings.indices.rollups_daily
    bad = [{"id": "x", "day": "2026-10-01", "not_in_mapping": 1}]
    result = es.bulk_write(client, es.upsert_actions(index, bad), refresh="wait_for")
    assert result.ok == 0
    assert len(result.failed) == 1 and result.failed[0]["error"]
