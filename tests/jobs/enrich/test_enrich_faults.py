"""Fault tests of the enrichment job: crash mid-stream, Elasticsearch outage, Tansu as the broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jobs.enrich import run_enrichment
from tests.conftest import Noida, free_port, make_settings
from tests.jobs.enrich.events import stream_of_events
from tests.jobs.enrich.support import es_count, produce_events, settings_env, stored, wait_for

pytestmark = pytest.mark.slow


def test_kill_9_mid_stream_then_restart_stores_every_event_exactly_once(job_settings, tmp_path: Path):
    settings = job_settings
    events = stream_of_events(3000)
    produce_events(settings, events[:1000])
    log = tmp_path / "enrich.log"
    env = {**os.environ, **settings_env(settings), "PYSPARK_PYTHON": sys.executable}
    command = [sys.executable, "-m", "ecoute.cli", "enrich", "--follow", "--max-offsets-per-trigger", "300"]
    with open(log, "wb") as out:
        # Own session: kill -9 takes the driver and its JVM and Python workers down at once, like a crash.
        job = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: es_count(settings) > 0 or job.poll() is not None, 900, what="the first batch")
        assert job.poll() is None, log.read_text(errors="replace")[-3000:]
        produce_events(settings, events[1000:])
        # Kill while the backlog is being worked through.
        wait_for(lambda: es_count(settings) >= 600, 300, what="a few batches")
        assert es_count(settings) < len(events)
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(30)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
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
    produce_events(settings, events[:800])
    log = tmp_path / "enrich.log"
    env = {**os.environ, **settings_env(settings), "ECOUTE_CHECKPOINTS_URI": uri, "PYSPARK_PYTHON": sys.executable}
    command = [sys.executable, "-m", "ecoute.cli", "enrich", "--follow", "--max-offsets-per-trigger", "300"]
    with open(log, "wb") as out:
        job = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: es_count(settings) > 0 or job.poll() is not None, 900, what="the first batch")
        assert job.poll() is None, log.read_text(errors="replace")[-3000:]
        produce_events(settings, events[800:])
        wait_for(lambda: es_count(settings) >= 600, 300, what="a few batches")
        assert es_count(settings) < len(events)
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(30)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
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


@pytest.fixture
def own_noida(tmp_path: Path):
    """A noida-db of this test only (ES on it goes down and up), so other tests are not disturbed."""
    server = Noida(free_port(), free_port(), tmp_path / "noida-data", tmp_path / "noida.log", None)  # type: ignore[arg-type]
    server.start()
    yield server
    server.stop()


def test_elasticsearch_down_30s_the_job_waits_and_loses_nothing(tansu, own_noida, tmp_path: Path):
    # Kafka on Tansu (the other broker, with its end_offsets quirk), Elasticsearch on our own noida-db.
    settings = make_settings(tmp_path, tansu.bootstrap, own_noida.es_url).model_copy(
        update={"spark_master": "local[2]"}
    )
    events = stream_of_events(1200)
    produce_events(settings, events[:400])
    stop = threading.Event()
    outcome: dict = {}

    def job() -> None:
        try:
            outcome["stats"] = run_enrichment(settings, mode="follow", max_offsets_per_trigger=200, stop_event=stop)
        except BaseException as exc:
            outcome["error"] = exc

    runner = threading.Thread(target=job, daemon=True)
    runner.start()
    try:
        wait_for(lambda: es_count(settings) == 400 or "error" in outcome, 300, what="the first 400 events")
        assert "error" not in outcome, outcome
        own_noida.stop()
        produce_events(settings, events[400:])  # Kafka (Tansu) is up: the backlog grows while ES is down
        time.sleep(30)
        assert runner.is_alive() and "error" not in outcome, outcome
        own_noida.start()
        wait_for(lambda: es_count(settings) == len(events) or "error" in outcome, 300, what="all events")
    finally:
        stop.set()
        runner.join(120)
    assert "error" not in outcome, outcome
    assert set(stored(settings)) == {e["id"] for e in events}
    assert outcome["stats"].quarantined == 0
