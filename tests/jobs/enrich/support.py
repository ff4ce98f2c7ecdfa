"""Helpers for the enrichment tests: produce raw events, read back what the job stored."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ecoute.es import make_client, scan_docs
from ecoute.kafka import Producer, ensure_topics, high_watermarks, read_range
from ecoute.settings import Settings


def produce(settings: Settings, records: list[tuple[str | None, Any]]) -> int:
    ensure_topics(settings)
    with Producer(settings) as producer:
        return producer.send_batch(settings.topics.raw, records)


def produce_events(settings: Settings, events: list[dict[str, Any]]) -> int:
    return produce(settings, [(e.get("id"), e) for e in events])


def stored(settings: Settings, index: str | None = None) -> dict[str, dict[str, Any]]:
    """Every document of ``index`` (default: the mentions alias) by _id, after a refresh."""
    client = make_client(settings)
    index = index or settings.indices.mentions
    client.options(ignore_status=404).indices.refresh(index=index)
    try:
        return {doc["_id"]: doc for doc in scan_docs(client, index)}
    except Exception as exc:  # a missing index means nothing stored yet
        if "index_not_found" in str(exc):
            return {}
        raise
    finally:
        client.close()


def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    import orjson

    topic = settings.topics.dlq
    out = []
    for partition, end in high_watermarks(topic, settings=settings).items():
        out.extend(orjson.loads(r.value) for r in read_range(topic, partition, 0, end, settings=settings))
    return out


def settings_env(settings: Settings) -> dict[str, str]:
    """ECOUTE_* environment variables that recreate ``settings`` in a child process."""
    env = {
        "ECOUTE_STATE_DIR": str(settings.state_dir),
        "ECOUTE_SPARK_MASTER": settings.spark_master,
        "ECOUTE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "ECOUTE_KAFKA__SESSION_TIMEOUT_MS": str(settings.kafka.session_timeout_ms),
        "ECOUTE_ES__URL": settings.es.url,
    }
    for name, value in settings.topics.model_dump().items():
        env[f"ECOUTE_TOPICS__{name.upper()}"] = value
    for name, value in settings.indices.model_dump().items():
        env[f"ECOUTE_INDICES__{name.upper()}"] = value
    return env


def wait_for(predicate: Any, timeout_s: float, interval_s: float = 0.5, what: str = "condition") -> Any:
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)


def es_count(settings: Settings, index: str | None = None) -> int:
    from ecoute.es import count

    client = make_client(settings)
    try:
        return count(client, index or settings.indices.mentions)
    except Exception:  # server down or index missing: nothing visible yet
        return 0
    finally:
        client.close()


def start_enrich_job(
    settings: Settings, log: Path, max_offsets: int, extra_env: dict[str, str] | None = None
) -> subprocess.Popen:
    """``ecoute enrich --follow`` in a child process with its own session, so that ``os.killpg(pid, 9)``
    takes the driver, its JVM and its Python workers down at once, like a crash."""
    env = {**os.environ, **settings_env(settings), **(extra_env or {}), "PYSPARK_PYTHON": sys.executable}
    command = [sys.executable, "-m", "ecoute.cli", "enrich", "--follow", "--max-offsets-per-trigger", str(max_offsets)]
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def enrichment_in_thread(settings: Settings, max_offsets: int) -> Iterator[dict[str, Any]]:
    """The follow-mode job on a thread of this process; yields its outcome ("stats" or "error").
    On exit the job is asked to stop and joined."""
    from jobs.enrich import run_enrichment

    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def job() -> None:
        try:
            outcome["stats"] = run_enrichment(
                settings, mode="follow", max_offsets_per_trigger=max_offsets, stop_event=stop
            )
        except BaseException as exc:  # recorded for the test to assert on
            outcome["error"] = exc

    runner = threading.Thread(target=job, daemon=True)
    runner.start()
    try:
        yield outcome
    finally:
        stop.set()
        runner.join(120)
