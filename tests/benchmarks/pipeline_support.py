"""What ``bench_pipeline.py`` needs around the passes it times: its own noida-db, the events and
their topic, per-pass settings, the server's cost meter, the phases read back from the job-metrics
index, and the labeller alone in a pool of processes (the model's own speed on the same cores)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from ecoute.es import make_client
from ecoute.kafka import Producer
from ecoute.settings import Settings
from ecoute.stack import noida_binary, port_open
from tests.jobs.enrich.events import TEXTS, raw_event

WORDS = [
    "livraison",
    "commande",
    "remboursement",
    "appli",
    "service",
    "client",
    "prix",
    "qualité",
    "équipe",
    "magasin",
    "site",
    "connexion",
    "bug",
    "abonnement",
    "colis",
    "retard",
    "merci",
    "bravo",
    "nul",
    "génial",
    "horrible",
    "rapide",
    "lent",
    "facture",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_noida(data_dir: Path) -> tuple[subprocess.Popen, str, str]:
    kafka_port, es_port = free_port(), free_port()
    log = open(data_dir / "noida.log", "ab")  # noqa: SIM115 - lives as long as the server
    command = [
        str(noida_binary()),
        "start",
        "--data-dir",
        str(data_dir / "data"),
        "--only",
        "kafka,elasticsearch",
        "--kafka-port",
        str(kafka_port),
        "--elasticsearch-port",
        str(es_port),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not (port_open("127.0.0.1", kafka_port) and port_open("127.0.0.1", es_port)):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("noida-db did not start")
        time.sleep(0.1)
    return process, f"127.0.0.1:{kafka_port}", f"http://127.0.0.1:{es_port}"


def bench_settings(base: Settings, tag: str, topic: str) -> Settings:
    suffix = f"bench{tag}{uuid.uuid4().hex[:6]}"
    return base.model_copy(
        update={
            "topics": base.topics.model_copy(update={"raw": topic, "dlq": f"{topic}.dlq"}),
            "indices": base.indices.model_copy(
                update={
                    "mentions": f"ecoute-mentions-{suffix}",
                    "quarantine": f"ecoute-quarantine-{suffix}",
                    "job_metrics": f"ecoute-job-metrics-{suffix}",
                }
            ),
        }
    )


def varied_event(n: int, rng: random.Random, created_at: datetime | None = None) -> dict[str, Any]:
    """A realistic event whose text is unique (no cache can flatter the labeller)."""
    text = f"{TEXTS[n % len(TEXTS)]} {' '.join(rng.choice(WORDS) for _ in range(rng.randint(2, 12)))} #{n}"
    if n % 10 == 7:
        return raw_event(n, kind="reply", parent=f"facebook:{n - 1}", brand=True, text=text, created_at=created_at)
    if n % 10 == 0:
        return raw_event(n, kind="post", text=text, created_at=created_at)
    return raw_event(n, kind="comment", parent=f"facebook:{n - n % 10}", text=text, created_at=created_at)


def produce(settings: Settings, events: list[dict[str, Any]], chunk: int = 5000) -> float:
    started = time.monotonic()
    with Producer(settings) as producer:
        for i in range(0, len(events), chunk):
            producer.send_batch(settings.topics.raw, [(e["id"], e) for e in events[i : i + chunk]])
    return time.monotonic() - started


def phase_summary(settings: Settings) -> str:
    """Mean per-batch time of each phase, from the job-metrics index (what analysts chart)."""
    client = make_client(settings)
    client.indices.refresh(index=settings.indices.job_metrics)
    hits = client.search(index=settings.indices.job_metrics, size=10_000, query={"match_all": {}})["hits"]["hits"]
    batches = [h["_source"] for h in hits]
    if not batches:
        return "no batch metrics"

    def mean(key: str) -> float:
        values = [b[key] for b in batches if b.get(key) is not None]
        return sum(values) / len(values) / 1000 if values else 0.0

    rows = sum(b["rows_in"] for b in batches) / len(batches)
    driver_bytes = sum(b.get("driver_bytes") or 0 for b in batches) / len(batches)
    return (
        f"{len(batches)} batches of {rows:.0f} rows on average: executors (read, label, gate, write) "
        f"{mean('enrich_ms'):.2f}s, of which writes {mean('write_ms'):.2f} executor-s; total {mean('duration_ms'):.2f}s; "
        f"driver collected {driver_bytes:.0f} bytes per batch"
    )


class ServerMeter:
    """CPU time and bytes written by the embedded server (noida-db), read from /proc.

    noida-db persists its Elasticsearch store by rewriting it whole (one JSON file) about every
    second while writes go on, so its cost per document grows with what the store holds and with
    the documents' size; these figures let a run show how much of a pass went there.
    """

    def __init__(self, pid: int | None) -> None:
        self.pid = pid

    def read(self) -> tuple[float, int] | None:
        if self.pid is None:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            written = next(
                int(line.split()[1])
                for line in Path(f"/proc/{self.pid}/io").read_text().splitlines()
                if line.startswith("wchar:")
            )
        except (OSError, StopIteration, IndexError, ValueError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), written

    def since(self, before: tuple[float, int] | None) -> str:
        after = self.read()
        if before is None or after is None:
            return ""
        return f"; noida-db: {after[0] - before[0]:.1f} CPU-s, {(after[1] - before[1]) / 1e6:.0f} MB of store rewrites"


SERVER = ServerMeter(None)  # set by main() when the benchmark starts its own noida-db


def _cpu_s(stat: str, children: bool = False) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def spark_cpu() -> dict[str, float]:
    """CPU-seconds so far of this benchmark's Spark processes, by role: the JVM (scheduling, shuffle,
    the window of the dedupe), the Python workers (labelling, validation, writes) and this driver.

    Read from /proc over the process tree under this process; a worker that exited is counted in
    its parent's children time (the daemon's), so the sum of two readings is a pass's CPU."""
    parent_of: dict[int, int] = {}
    stats: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = stat = (entry / "stat").read_text()
                parent_of[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    me, cpu = os.getpid(), {"jvm": 0.0, "python workers": 0.0, "driver": 0.0}
    for pid, stat in stats.items():
        ancestors, up = [], parent_of.get(pid)
        while up and up != me and up in parent_of:
            ancestors.append(up)
            up = parent_of[up]
        if pid == me:
            cpu["driver"] += _cpu_s(stat)
        elif up == me:  # under this driver: the JVM, or Python workers under it
            name = stat.split("(", 1)[1].split(")", 1)[0]
            role = "jvm" if name == "java" else "python workers" if ancestors else "driver"
            cpu[role] += _cpu_s(stat, children=role == "python workers")
    return cpu


def cpu_used(before: dict[str, float]) -> dict[str, float]:
    after = spark_cpu()
    return {role: after[role] - before.get(role, 0.0) for role in after}


def cpu_split(used: dict[str, float]) -> str:
    return "; CPU-s " + ", ".join(f"{role} {seconds:.1f}" for role, seconds in used.items())


_LABELLER: Any = None


def _load_labeller() -> None:
    global _LABELLER
    from jobs.labeller import get_labeller

    _LABELLER = get_labeller()


def _label_chunk(chunk: tuple[list[str], list[str], list[bool]]) -> tuple[int, float]:
    """Texts labelled and the CPU-seconds this process spent on them."""
    texts, kinds, brands = chunk
    started = time.process_time()
    _LABELLER.label_columns(texts, kinds=kinds, is_brand=brands)
    return len(texts), time.process_time() - started


def _ready(_: int) -> bool:
    return _LABELLER is not None


def cores_of(master: str) -> int:
    inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
    return (os.cpu_count() or 1) if inside == "*" else int(inside.split(",")[0])


def labeller_alone(events: list[dict[str, Any]], cores: int, chunk: int = 2000) -> dict[str, float]:
    """The labeller by itself on the events' texts, in ``cores`` processes, as the executors call it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # At least a few chunks per process: one chunk for two processes would time a single core.
    chunk = max(1, min(chunk, len(events) // (cores * 4)))

    chunks = [
        ([e["text"] for e in part], [e["kind"] for e in part], [bool(e["author"]["is_brand"]) for e in part])
        for part in (events[i : i + chunk] for i in range(0, len(events), chunk))
    ]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(cores, mp_context=context, initializer=_load_labeller) as pool:
        loading = time.monotonic()
        assert all(pool.map(_ready, range(cores * 4)))  # every worker has loaded the model
        loaded_s = time.monotonic() - loading
        started = time.monotonic()
        done = list(pool.map(_label_chunk, chunks))
        seconds = time.monotonic() - started
    labelled, cpu_s = sum(n for n, _ in done), sum(c for _, c in done)
    return {
        "docs": labelled,
        "seconds": seconds,
        "docs_per_s": labelled / seconds,
        "load_s": loaded_s,
        "cpu_s": cpu_s,
        "docs_per_cpu_s": labelled / cpu_s if cpu_s else 0.0,
    }


def stop_spark() -> None:
    """Stop the benchmark's Spark session, so the next pass can start one with another master."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if session is not None:
        session.stop()


def drop_mentions(base: Settings) -> None:
    """Delete the benchmark's mention indices written so far (metrics and quarantine stay)."""
    client = make_client(base)
    for index in client.indices.get(index="ecoute-mentions-bench*", expand_wildcards="open"):
        client.indices.delete(index=index)
    client.close()
