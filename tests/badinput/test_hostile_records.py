"""Hostile and broken records through the real pipeline: each ends enriched or rejected with a reason.

Records are produced as raw bytes to the raw topic (a misbehaving producer), then the enrichment
job runs (Spark local, available-now). Every record must be accounted for — in Elasticsearch, or in
the quarantine index / DLQ topic with a reason — and the job must not stop. The test prints how many
were tried and where each kind ended.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import orjson
import pytest

from ecoute import es, kafka
from tests.badinput.corpus import hostile_records, huge_record

pytestmark = pytest.mark.slow


def _dead_letters(settings) -> list[dict]:
    topic = settings.topics.dlq
    records = []
    for partition, end in kafka.high_watermarks(topic, settings=settings).items():
        records += [orjson.loads(r.value) for r in kafka.read_range(topic, partition, 0, end, settings)]
    return records


def test_every_hostile_record_is_enriched_or_rejected_with_a_reason(settings, capsys, tmp_path):
    from connectors.file_import import import_file
    from jobs.enrich import run_enrichment

    corpus = hostile_records()
    kafka.ensure_topics(settings)
    with kafka.Producer(settings) as producer:
        producer.send_batch(settings.topics.raw, [(r.key or r.marker, r.payload) for r in corpus])
    # A 1 MB record cannot even enter Kafka (message.max.bytes): it arrives through a connector,
    # which must dead-letter it (the full record overflows to the state folder).
    huge = huge_record()
    export = tmp_path / "export.jsonl"
    text = orjson.loads(huge.payload)["text"]
    export.write_bytes(
        orjson.dumps(
            {
                "source": "import",
                "native_id": huge.marker,
                "kind": "comment",
                "channel": "import:test",
                "author_id": "u1",
                "text": text,
                "created_at": "2026-10-12T10:00:00Z",
            }
        )
        + b"\n"
    )
    imported = import_file(export, settings)
    assert (imported.produced, imported.dead_lettered) == (0, 1)
    assert list((settings.state_dir / "dlq-overflow").glob("*.json"))
    corpus.append(huge)

    stats = run_enrichment(settings, mode="available-now")
    assert stats.rows_in == len(corpus) - 1

    client = es.make_client(settings)
    client.indices.refresh(index=f"{settings.indices.mentions}*,{settings.indices.quarantine}")
    stored_ids = {d["_id"] for d in es.scan_docs(client, settings.indices.mentions, source=False)}
    quarantined = list(es.scan_docs(client, settings.indices.quarantine))
    dead = _dead_letters(settings)
    assert all(q.get("reason") for q in quarantined) and all(d.get("reason") for d in dead)

    ended: dict[str, str] = {}
    for record in corpus:
        if any(doc_id.endswith(":" + record.marker) for doc_id in stored_ids if record.marker in doc_id):
            ended[record.marker] = "enriched"
        elif any(
            record.marker in (q.get("event_id") or "") or record.marker in q.get("original", "") for q in quarantined
        ):
            ended[record.marker] = "quarantine"
        elif any(record.marker in (d.get("event_id") or "") or record.marker in d.get("original", "") for d in dead):
            ended[record.marker] = "dlq"
        else:
            ended[record.marker] = "LOST"

    table: dict[str, Counter] = defaultdict(Counter)
    for record in corpus:
        table[record.name][ended[record.marker]] += 1
    with capsys.disabled():
        print(f"\nbad input: {len(corpus)} records tried")
        for name, where in sorted(table.items()):
            print(f"  {name:<45} {dict(where)}")
        print(f"  total: {dict(Counter(ended.values()))}")

    lost = [r.name for r in corpus if ended[r.marker] == "LOST"]
    assert not lost, f"records lost: {lost}"
    wrong = [
        (r.name, ended[r.marker])
        for r in corpus
        if (r.expect == "enriched" and ended[r.marker] != "enriched")
        or (r.expect == "rejected" and ended[r.marker] == "enriched")
    ]
    assert not wrong, wrong
    # Duplicate ids with different content: one document each, holding the last version.
    for i in range(4):
        doc = client.search(index=settings.indices.mentions, query={"ids": {"values": [f"facebook:dup{i:02d}"]}})
        assert doc["hits"]["total"]["value"] == 1
        assert doc["hits"]["hits"][0]["_source"]["text"] == "version 2 du commentaire"
    # HTML reaches Elasticsearch verbatim (escaping is the renderer's job), never executed or altered here.
    html = next(r for r in corpus if r.name == "HTML/JS in text")
    source = client.search(index=settings.indices.mentions, query={"ids": {"values": [html.key]}})["hits"]["hits"][0]
    assert "<script>" in source["_source"]["text"]
