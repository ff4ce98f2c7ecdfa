"""Faults survived, against real processes, bounded in time.

Each test records a row of the fault table (tests/faults/conftest.py): events produced, events in
Elasticsearch, lost, duplicated. Duplicates are counted across every monthly index of the alias.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from connectors.base import ConnectorError
from connectors.file_import import import_file
from ecoute import es
from ecoute.kafka import DeliveryError
from jobs.enrich import run_enrichment
from tests.conftest import make_settings
from tests.faults.conftest import record_fault
from tests.jobs.enrich.events import stream_of_events
from tests.jobs.enrich.support import (
    enrichment_in_thread,
    es_count,
    produce_events,
    settings_env,
    start_enrich_job,
    wait_for,
)

pytestmark = pytest.mark.slow


def _ids_in_es(settings) -> list[str]:
    client = es.make_client(settings)
    client.options(ignore_status=404).indices.refresh(index=settings.indices.mentions)
    return [d["_id"] for d in es.scan_docs(client, settings.indices.mentions, source=False)]


def _account(fault: str, settings, produced_ids: set[str]) -> tuple[int, int]:
    stored = _ids_in_es(settings)
    lost = len(produced_ids - set(stored))
    duplicated = len(stored) - len(set(stored))
    record_fault(fault, len(produced_ids), len(stored), lost, duplicated)
    return lost, duplicated


def _raw_messages(settings) -> list[dict]:
    from ecoute.kafka import high_watermarks, read_range

    topic = settings.topics.raw
    return [
        {"value": r.value}
        for partition, end in high_watermarks(topic, settings=settings).items()
        for r in read_range(topic, partition, 0, end, settings)
    ]


@pytest.mark.timeout(2400)  # five Spark start-ups
def test_enrichment_killed_at_five_random_points(settings, tmp_path: Path):
    rng = random.Random(20261124)
    events = stream_of_events(1500)
    produce_events(settings, events)
    log = tmp_path / "enrich.log"
    for kill in range(5):
        before = es_count(settings)
        job = start_enrich_job(settings, log, max_offsets=100)
        try:
            # Wait for this run to make progress, then kill it after a random extra delay.
            wait_for(
                lambda b=before, j=job: es_count(settings) > b or j.poll() is not None,
                300,
                what=f"progress of run {kill}",
            )
            assert job.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(rng.uniform(0.0, 4.0))
        finally:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait(30)
    run_enrichment(settings, mode="available-now", max_offsets_per_trigger=5000, timeout_s=600)
    lost, duplicated = _account("enrichment job kill -9 at 5 random points", settings, {e["id"] for e in events})
    assert (lost, duplicated) == (0, 0)


def test_broker_restarted_while_connector_produces_and_job_consumes(own_noida, tmp_path: Path):
    settings = make_settings(tmp_path, own_noida.bootstrap, own_noida.es_url).model_copy(
        update={"spark_master": "local[2]"}
    )
    events = stream_of_events(3000)
    export = tmp_path / "export.jsonl"
    export.write_bytes(b"".join(orjson.dumps(_as_import_row(e)) + b"\n" for e in events))
    from ecoute.stack import provision

    provision(settings)
    outcome: dict = {}

    def connector() -> None:
        # What a scheduler does: re-run the import until it completes; the checkpoint makes re-runs resume.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                import_file(export, settings, batch_size=200)
                outcome["imported"] = True
                return
            except (DeliveryError, ConnectorError, OSError, Exception) as exc:  # broker down: try again
                outcome.setdefault("connector_retries", 0)
                outcome["connector_retries"] += 1
                outcome["last_connector_error"] = repr(exc)
                time.sleep(1)

    producer = threading.Thread(target=connector, daemon=True)
    with enrichment_in_thread(settings, max_offsets=300) as job:
        producer.start()
        wait_for(lambda: es_count(settings) > 0 or "error" in job, 300, what="first documents")
        own_noida.stop()
        time.sleep(5)
        own_noida.start()
        producer.join(300)
        assert outcome.get("imported"), outcome
        wait_for(lambda: es_count(settings) >= len(events) or "error" in job, 400, what="every event in ES")
    assert "error" not in job, job
    produced = {f"{e['source']}:{e['id'].split(':', 1)[1]}" for e in events}
    lost, duplicated = _account("broker restarted during produce + consume", settings, produced)
    assert (lost, duplicated) == (0, 0)


def _as_import_row(event: dict) -> dict:
    return {
        "source": event["source"],
        "native_id": event["id"].split(":", 1)[1],
        "kind": event["kind"],
        "parent_native_id": event["parent_id"].split(":", 1)[1] if event.get("parent_id") else None,
        "thread_native_id": event["thread_id"].split(":", 1)[1] if event.get("thread_id") else None,
        "channel": event["channel"],
        "author_id": event["author"]["id"],
        "author_is_brand": event["author"].get("is_brand", False),
        "text": event["text"],
        "created_at": event["created_at"],
    }


def test_elasticsearch_killed_mid_bulk_then_restarted(tansu, own_noida, tmp_path: Path):
    settings = make_settings(tmp_path, tansu.bootstrap, own_noida.es_url).model_copy(
        update={"spark_master": "local[2]"}
    )
    events = stream_of_events(4000)
    produce_events(settings, events)
    with enrichment_in_thread(settings, max_offsets=2000) as outcome:
        # Kill Elasticsearch as soon as the first bulk has started landing (mid-bulk), restart 3 s later.
        wait_for(lambda: es_count(settings) > 0 or "error" in outcome, 300, interval_s=0.05, what="a bulk in flight")
        own_noida.stop(hard=False)
        time.sleep(3)
        own_noida.start()
        wait_for(lambda: es_count(settings) >= len(events) or "error" in outcome, 400, what="every event")
    assert "error" not in outcome, outcome
    lost, duplicated = _account(
        "Elasticsearch (noida-db) killed mid-bulk, restarted", settings, {e["id"] for e in events}
    )
    assert (lost, duplicated) == (0, 0)


def _tiny_filesystem(path: Path, size_kb: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def test_disk_full_gives_a_clear_error_and_keeps_the_checkpoint(settings, tmp_path: Path):
    state = tmp_path / "small-disk"
    if not _tiny_filesystem(state, 64):
        pytest.skip("cannot mount a small tmpfs here (needs root): disk-full cannot be produced for real")
    try:
        settings = settings.model_copy(update={"state_dir": state})
        events = stream_of_events(1000)
        export = tmp_path / "export.jsonl"
        export.write_bytes(b"".join(orjson.dumps(_as_import_row(e)) + b"\n" for e in events[:500]))
        first = import_file(export, settings, batch_size=100)
        assert first.produced == 500
        checkpoints = list(settings.checkpoints_dir.rglob("*.json"))
        saved = {p: p.read_bytes() for p in checkpoints}
        # Fill the disk, then import more rows: the checkpoint cannot be written.
        filler = state / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        with open(export, "ab") as handle:
            handle.write(b"".join(orjson.dumps(_as_import_row(e)) + b"\n" for e in events[500:]))
        with pytest.raises(OSError) as failure:
            import_file(export, settings, batch_size=100)
        assert failure.value.errno == errno.ENOSPC or "No space left" in str(failure.value)
        for path, content in saved.items():
            assert path.read_bytes() == content, "checkpoint corrupted"
            orjson.loads(path.read_bytes())
        assert not [p for p in settings.checkpoints_dir.rglob("*.tmp")], "temporary file left behind"
        # Space is back: the import resumes from the checkpoint; nothing lost.
        filler.unlink()
        import_file(export, settings, batch_size=100)
        in_topic = [orjson.loads(m["value"])["id"] for m in _raw_messages(settings)]
        produced = {e["id"] for e in events}
        lost, resent = len(produced - set(in_topic)), len(in_topic) - len(set(in_topic))
        record_fault(
            "state folder disk full during import (counted in Kafka)", len(produced), len(in_topic), lost, resent
        )
        assert lost == 0 and resent <= 100  # at most the one unacknowledged batch is sent again
    finally:
        subprocess.run(["umount", "-l", str(state)], capture_output=True)


def test_unwritable_state_folder_is_a_clear_cli_error(settings, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be")
    export = tmp_path / "export.jsonl"
    export.write_bytes(orjson.dumps(_as_import_row(stream_of_events(1)[0])) + b"\n")
    env = {**os.environ, **settings_env(settings), "ECOUTE_STATE_DIR": str(blocker)}
    done = subprocess.run(
        [sys.executable, "-m", "ecoute.cli", "connect", "import", str(export)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "not-a-folder" in done.stderr and (
        "Not a directory" in done.stderr or "not a folder" in done.stderr.lower()
    ), done.stderr
