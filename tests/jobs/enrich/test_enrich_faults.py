"""Fault tests of the enrichment job: crash mid-stream, Elasticsearch outage, Tansu as the broker."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from jobs.enrich import run_enrichment
from tests.conftest import make_settings
from tests.jobs.enrich.events import stream_of_events
from tests.jobs.enrich.support import enrichment_in_thread, es_count, produce_events, start_enrich_job, stored, wait_for

pytestmark = pytest.mark.slow


def crash_mid_stream(
    settings, events: list[dict], first: int, log: Path, extra_env: dict[str, str] | None = None
) -> None:
    """Produce ``first`` events, start the follow job, produce the rest, kill -9 it mid-backlog."""
    produce_events(settings, events[:first])
    job = start_enrich_job(settings, log, max_offsets=300, extra_env=extra_env)
    try:
        wait_for(lambda: es_count(settings) > 0 or job.poll() is not None, 900, what="the first batch")
        assert job.poll() is None, log.read_text(errors="replace")[-3000:]
        produce_events(settings, events[first:])
        # Kill while the backlog is being worked through.
        wait_for(lambda: es_count(settings) >= 600, 300, what="a few batches")
        assert es_count(settings) < len(events)
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(30)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)


def test_kill_9_mid_stream_then_restart_stores_every_event_exactly_once(job_settings, tmp_path: Path):
    settings = job_settings
    events = stream_of_events(3000)
    crash_mid_stream(settings, events, first=1000, log=tmp_path / "enrich.log")
    stats = run_enrichment(settings, mode="available-now", max_offsets_per_trigger=2000, timeout_s=600)
    assert stats.quarantined == 0
    docs = stored(settings)
    assert len(docs) == len(events)
    assert set(docs) == {e["id"] for e in events}
    assert es_count(settings) == len(events)  # counted through the alias, every monthly index
    assert not stored(settings, settings.indices.quarantine)


def test_kill_9_with_a_hadoop_uri_checkpoint_and_two_writers_is_exactly_once(job_settings, tmp_path: Path):
    """The checkpoint lives behind a ``file://`` URI in its own folder (read and written through Hadoop's
    FileSystem API, as ``s3a://`` or ``hdfs://`` would be), two partitions label and write at once."""
    uri = (tmp_path / "elsewhere" / "checkpoints").as_uri()
    settings = job_settings.model_copy(update={"checkpoints_uri": uri})
    assert settings.spark_master == "local[2]"  # two writer partitions per batch
    events = stream_of_events(2400)
    crash_mid_stream(
        settings, events, first=800, log=tmp_path / "enrich.log", extra_env={"ECOUTE_CHECKPOINTS_URI": uri}
    )
    offsets = tmp_path / "elsewhere" / "checkpoints" / "enrich" / "offsets"
    assert any(offsets.iterdir()), "the offsets log is under the URI's folder"
    assert not (settings.checkpoints_dir / "enrich").exists()
    stats = run_enrichment(settings, mode="available-now", max_offsets_per_trigger=2000, timeout_s=600)
    assert stats.quarantined == 0
    assert stats.driver_bytes_collected < 2000 * max(stats.batches, 1)  # counts, never documents
    docs = stored(settings)
    assert set(docs) == {e["id"] for e in events}
    assert es_count(settings) == len(events)
    assert not stored(settings, settings.indices.quarantine)


def test_elasticsearch_down_30s_the_job_waits_and_loses_nothing(tansu, own_noida, tmp_path: Path):
    # Kafka on Tansu (the other broker, with its end_offsets quirk), Elasticsearch on our own noida-db.
    settings = make_settings(tmp_path, tansu.bootstrap, own_noida.es_url).model_copy(
        update={"spark_master": "local[2]"}
    )
    events = stream_of_events(1200)
    produce_events(settings, events[:400])
    with enrichment_in_thread(settings, max_offsets=200) as outcome:
        wait_for(lambda: es_count(settings) == 400 or "error" in outcome, 300, what="the first 400 events")
        assert "error" not in outcome, outcome
        own_noida.stop()
        produce_events(settings, events[400:])  # Kafka (Tansu) is up: the backlog grows while ES is down
        time.sleep(30)
        assert "error" not in outcome and "stats" not in outcome, outcome  # still running, no failure
        own_noida.start()
        wait_for(lambda: es_count(settings) == len(events) or "error" in outcome, 300, what="all events")
    assert "error" not in outcome, outcome
    assert set(stored(settings)) == {e["id"] for e in events}
    assert outcome["stats"].quarantined == 0
