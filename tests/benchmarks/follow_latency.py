"""Follow-mode latency of the enrichment job, and where it goes (used by ``bench_pipeline.py``).

Events are produced at a steady rate; every ``SAMPLE_EVERY``-th one is polled until searchable.
Spark's ``StreamingQueryProgress`` of every micro-batch is recorded by a query listener, and the
job-metrics index gives the split of the batch function (``foreachBatch``) itself. Each sampled
event is then placed in the batch that read it (the first whose offsets were fixed after it was
acknowledged), so its latency splits into:

- **wait**: acknowledged → its batch fixed its end offsets (the trigger, and the batch before it
  still running: with batches longer than the trigger interval, a new event waits on average
  half a batch);
- **batch**: offsets fixed → the batch's trigger ended (Spark's ``durationMs`` phases: walCommit,
  queryPlanning, getBatch, addBatch = our ``foreachBatch``, commitOffsets);
- **visible**: batch ended → the benchmark's search found it (Elasticsearch's refresh, and the
  poll interval).
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from ecoute.es import count, make_client
from ecoute.kafka import Producer, ensure_topics
from ecoute.settings import Settings
from tests.benchmarks.pipeline_support import SERVER, cpu_used, produce, spark_cpu, varied_event

POLL_INTERVAL_S = 0.2  # resolution of "searchable"
SAMPLE_EVERY = 10  # latency is tracked on every 10th event: polling for all would load the server
SPARK_PHASES = ("latestOffset", "walCommit", "queryPlanning", "getBatch", "addBatch", "commitOffsets")


def progress_recorder(settings: Settings) -> tuple[list[dict[str, Any]], Any]:
    """A list that Spark fills with the progress (``StreamingQueryProgress`` as JSON) of every batch,
    and the listener (to remove when done)."""
    from pyspark.sql.streaming import StreamingQueryListener

    from jobs.enrich.source import spark_session

    progress: list[dict[str, Any]] = []

    class Recorder(StreamingQueryListener):
        def onQueryStarted(self, event: Any) -> None:
            pass

        def onQueryProgress(self, event: Any) -> None:
            progress.append(orjson.loads(event.progress.json))

        def onQueryIdle(self, event: Any) -> None:
            pass

        def onQueryTerminated(self, event: Any) -> None:
            pass

    # The job's own session (getOrCreate): the listener sees its query.
    recorder = Recorder()
    spark_session(settings).streams.addListener(recorder)
    return progress, recorder


def batch_metrics(settings: Settings) -> dict[int, dict[str, Any]]:
    """The job-metrics documents by batch id (the split of our ``foreachBatch``)."""
    client = make_client(settings)
    client.indices.refresh(index=settings.indices.job_metrics)
    hits = client.search(index=settings.indices.job_metrics, size=10_000, query={"match_all": {}})["hits"]["hits"]
    return {h["_source"]["batch_id"]: h["_source"] for h in hits}


def latency(settings: Settings, rate: float, seconds: int, trigger_s: float) -> dict[str, Any]:
    """Produce at ``rate`` events/s for ``seconds`` while the follow job runs; time every sampled
    event from produce-acknowledged to searchable. At the end every produced event must be stored."""
    from jobs.enrich import run_enrichment
    from jobs.enrich.source import spark_session

    ensure_topics(settings)
    progress, recorder = progress_recorder(settings)
    rng = random.Random(7)
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def job() -> None:
        try:
            outcome["stats"] = run_enrichment(
                settings,
                mode="follow",
                stop_event=stop,
                trigger_interval_s=trigger_s,
                checkpoint_name=f"follow-{settings.topics.raw}",
            )
        except BaseException as exc:
            outcome["error"] = exc

    runner = threading.Thread(target=job, daemon=True)
    runner.start()
    client = make_client(settings)
    base = 10_000_000
    # Warm up: the labeller loads in the workers before we measure.
    warm = [varied_event(base - 1 - i, rng, datetime.now(UTC)) for i in range(50)]
    produce(settings, warm)
    deadline = time.monotonic() + 600
    while count(client, settings.indices.mentions) < len(warm):
        if "error" in outcome or time.monotonic() > deadline:
            raise RuntimeError(f"follow mode did not warm up: {outcome.get('error')}")
        time.sleep(0.5)
    time.sleep(2 * trigger_s + 1)  # the warm-up's batches are over: they are not counted below
    first_batch = max((p["batchId"] for p in progress), default=-1) + 1

    produced_at: dict[str, float] = {}  # wall clock (time.time), as Spark's progress timestamps
    seen_at: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()
    done_at = [0.0]

    def poll() -> None:
        while not done.is_set() or len(seen_at) < len(produced_at):
            with lock:
                waiting = [i for i in produced_at if i not in seen_at]
            for start in range(0, len(waiting), 5000):
                ids = waiting[start : start + 5000]
                hits = client.search(
                    index=settings.indices.mentions, query={"terms": {"id": ids}}, source=False, size=len(ids)
                )["hits"]["hits"]
                now = time.time()
                for hit in hits:
                    seen_at.setdefault(hit["_id"], now)
            if done.is_set() and time.monotonic() > done_at[0] + 120:
                break
            time.sleep(POLL_INTERVAL_S)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    n = base
    produced_total = 0
    # CPU-seconds by role over the measured window: unlike wall time, independent of other load.
    cpu_before, server_before = spark_cpu(), SERVER.read()
    started = time.monotonic()
    with Producer(settings, linger_ms=5) as producer:
        tick = 0.1 if rate >= 10 else 1 / rate  # below 10 events/s, one event per tick
        per_tick = max(1, int(rate * tick))
        next_tick = started
        while time.monotonic() - started < seconds:
            now = datetime.now(UTC)
            events = [varied_event(n + i, rng, now) for i in range(per_tick)]
            n += per_tick
            producer.send_batch(settings.topics.raw, [(e["id"], e) for e in events])
            acked = time.time()
            with lock:
                for e in events[::SAMPLE_EVERY]:
                    produced_at[e["id"]] = acked
            produced_total += len(events)
            next_tick += tick
            time.sleep(max(0.0, next_tick - time.monotonic()))
    done_at[0] = time.monotonic()
    done.set()
    poller.join(300)
    cpu, server_after = cpu_used(cpu_before), SERVER.read()
    if server_before and server_after:
        cpu["noida-db"] = server_after[0] - server_before[0]
    stop.set()
    runner.join(120)
    spark_session(settings).streams.removeListener(recorder)
    client.indices.refresh(index=settings.indices.mentions)
    stored = count(client, settings.indices.mentions) - len(warm)
    samples = [(produced_at[i], seen_at[i]) for i in produced_at if i in seen_at]
    if not samples:
        raise RuntimeError("no event became searchable")
    latencies = sorted(seen - acked for acked, seen in samples)
    qs = statistics.quantiles(latencies, n=100)
    return {
        "produced": produced_total,
        "stored": stored,
        "sampled": len(produced_at),
        "searchable": len(latencies),
        "rate_achieved": produced_total / seconds,
        "p50_s": qs[49],
        "p95_s": qs[94],
        "max_s": latencies[-1],
        "samples": samples,
        "batches": [p for p in progress if p["batchId"] >= first_batch and p.get("numInputRows")],
        "metrics": batch_metrics(settings),
        "cpu": cpu,
    }


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def breakdown(result: dict[str, Any]) -> str:
    """Batch sizes and durations, Spark's phases, and each part's share of the latency (all events,
    and the events at or above the p95)."""
    batches = sorted(result["batches"], key=lambda p: p["batchId"])
    if not batches:
        return "no batch progress recorded"
    metrics = {int(k): v for k, v in result["metrics"].items()}
    rows = [p["numInputRows"] for p in batches]
    total = [p["durationMs"]["triggerExecution"] / 1000 for p in batches]
    phases = {k: statistics.mean(p["durationMs"].get(k, 0) for p in batches) / 1000 for k in SPARK_PHASES}
    ours = [metrics[p["batchId"]] for p in batches if p["batchId"] in metrics]
    ours_split = {
        "foreachBatch": statistics.mean(m["duration_ms"] for m in ours) / 1000 if ours else 0.0,
        "executors": statistics.mean(m["enrich_ms"] for m in ours) / 1000 if ours else 0.0,
        "writes": statistics.mean(m["write_ms"] for m in ours) / 1000 if ours else 0.0,
    }
    # The batch that read each event: the first whose offsets were fixed after its acknowledgement;
    # its documents were written when the executors were done (the job-metrics document).
    starts = [_epoch(p["timestamp"]) for p in batches]
    fixed = [s + p["durationMs"].get("latestOffset", 0) / 1000 for s, p in zip(starts, batches, strict=True)]
    parts: list[tuple[float, float, float, float]] = []  # latency, wait, until written, visible
    for acked, seen in result["samples"]:
        i = next((i for i, at in enumerate(fixed) if at >= acked), None)
        m = metrics.get(batches[i]["batchId"]) if i is not None else None
        if m is None:
            continue
        written = _epoch(m["started_at"]) + m["enrich_ms"] / 1000
        if seen >= written - 0.05:  # else the broker had the event before its acknowledgement came back
            parts.append((seen - acked, fixed[i] - acked, written - fixed[i], seen - written))
    lines = [
        f"{len(batches)} batches: rows per batch p50 {_quantile(rows, 50):.0f}, max {max(rows)}; "
        f"duration p50 {_quantile(total, 50):.2f}s, p95 {_quantile(total, 95):.2f}s, max {max(total):.2f}s",
        "Spark phases (mean s per batch): " + ", ".join(f"{k} {v:.3f}" for k, v in phases.items()),
        "foreachBatch (mean s): " + ", ".join(f"{k} {v:.3f}" for k, v in ours_split.items()),
    ]
    if result.get("cpu"):
        measured = [p for p in batches if _epoch(p["timestamp"]) <= max(a for a, _ in result["samples"])]
        per = max(1, len(measured))
        lines.append(
            f"CPU-s per batch over the {per} batches produced into: "
            + ", ".join(f"{k} {v / per:.3f}" for k, v in result["cpu"].items())
        )
    if parts:
        p95 = _quantile([p[0] for p in parts], 95)
        for label, chosen in (("all events", parts), ("events ≥ p95", [p for p in parts if p[0] >= p95])):
            mean = [statistics.mean(p[i] for p in chosen) for i in range(4)]
            lines.append(
                f"latency split, {label} ({len(chosen)}; mean {mean[0]:.2f}s): wait for the batch {mean[1]:.2f}s "
                f"({mean[1] / mean[0]:.0%}), its batch until written {mean[2]:.2f}s ({mean[2] / mean[0]:.0%}), refresh + poll "
                f"{mean[3]:.2f}s ({mean[3] / mean[0]:.0%})"
            )
        lines.append(f"({len(parts)}/{len(result['samples'])} sampled events placed in a batch)")
    return "\n    ".join(lines)
