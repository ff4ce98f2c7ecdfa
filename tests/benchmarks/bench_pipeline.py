"""Benchmark of the enrichment job: throughput (raw pass-through vs full) and follow-mode latency.

    .venv/bin/python tests/benchmarks/bench_pipeline.py                 # 100k events, own noida-db
    .venv/bin/python tests/benchmarks/bench_pipeline.py --events 20000 --latency-seconds 30
    ECOUTE_KAFKA__BOOTSTRAP_SERVERS=… ECOUTE_ES__URL=… .venv/bin/python tests/benchmarks/bench_pipeline.py --external

In one run, on the same data (the same topic, read by alternating passes, ``--repeats`` pairs,
each pass with its own checkpoint and indices and an empty Elasticsearch):
(a) raw pass-through Kafka → ES docs/s (parse + upsert, no labels, no gate);
(b) full enrich + validate + ES docs/s (labeller, raw/label contract checks, GX suite, brand answers);
their ratio per pair and the median;
(c) the labeller alone on the same texts and as many processes as Spark has cores (model loaded
beforehand), and the ratio (b)/(c) — the part of the pipeline that is ours beyond the model;
(d) the bytes the driver collected per batch (counts from the executors, never documents);
(e) the speed-up of (b) from ``local[1]`` to the ``--spark-master`` cores (``--skip-speedup`` to skip);
then p50/p95 end-to-end latency (produce acknowledged → searchable in Elasticsearch)
in ``--follow`` mode at a steady ``--rate`` events/s (``--rates 2,10`` for several), with the batches'
sizes and durations, Spark's phases and where each event's latency went (``follow_latency.py``).

Every text is encoded in every pass (the labeller's shared embedding cache is off for the run, and
each full pass gets fresh Python workers): a text a previous pass encoded would otherwise come back
from the cache and flatter the later pass. Each pass also prints the CPU-seconds of Spark's JVM,
its Python workers and the driver, beside noida-db's.

Throughput is reported two ways: over the micro-batches' processing time (steady state, what a
long-running job sees) and over the whole call (Spark start-up, labeller loading included).
On the embedded server each pass also prints noida-db's CPU time and the bytes it spent rewriting
its store (it persists Elasticsearch by rewriting the whole store about every second during writes,
a cost real Elasticsearch does not have); ``--external`` measures a real deployment instead.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
# Every text encoded, in every pass: the labeller's embedding cache (SQLite, shared by every process
# on the machine, and kept across runs) would otherwise serve the texts a previous pass encoded, and
# flatter whichever pass comes later (the labeller alone runs after the full passes).
os.environ["ECOUTE_EMBED_CACHE"] = "off"

from ecoute.es import count, make_client
from ecoute.kafka import ensure_topics
from ecoute.settings import Settings
from tests.benchmarks.follow_latency import breakdown, latency
from tests.benchmarks.pipeline_support import (
    SERVER,
    bench_settings,
    cores_of,
    cpu_split,
    cpu_used,
    drop_mentions,
    labeller_alone,
    phase_summary,
    produce,
    spark_cpu,
    start_noida,
    stop_spark,
    varied_event,
)


def throughput(settings: Settings, events: int, *, enrich: bool, name: str) -> dict[str, float]:
    from jobs.enrich import EnrichError, run_enrichment

    server_before, cpu_before = SERVER.read(), spark_cpu()
    for attempt in range(3):
        started = time.monotonic()
        try:
            stats = run_enrichment(
                settings,
                mode="available-now",
                max_offsets_per_trigger=10_000,
                enrich=enrich,
                validate=enrich,
                checkpoint_name=f"{name}-try{attempt}",
            )
            break
        except EnrichError as exc:
            # On a loaded machine a fresh Python worker may miss Spark's 10 s connect-back timeout
            # while the query starts; the pass is run again from scratch (idempotent upserts).
            if "connect back" not in str(exc) or attempt == 2:
                raise
            print(f"    ({name}: a Python worker did not connect back in time; pass restarted)", flush=True)
    wall = time.monotonic() - started
    cpu = cpu_used(cpu_before)
    server_after = SERVER.read()
    total_cpu = sum(cpu.values()) + (server_after[0] - server_before[0] if server_before and server_after else 0.0)
    client = make_client(settings)
    client.indices.refresh(index=settings.indices.mentions)
    stored = count(client, settings.indices.mentions)
    processing = sum(stats.batch_durations_s)
    # The first batch of the full run also loads the labeller in every Python worker.
    steady = sum(list(stats.batch_durations_s)[1:]) or processing
    steady_rows = stats.rows_out - (stats.rows_out / max(1, stats.batches)) if stats.batches > 1 else stats.rows_out
    return {
        "rows_out": stats.rows_out,
        "stored": stored,
        "quarantined": stats.quarantined,
        "batches": stats.batches,
        "wall_s": wall,
        "processing_s": processing,
        "docs_per_s_wall": stats.rows_out / wall,
        "docs_per_s_processing": stats.rows_out / processing if processing else 0.0,
        "docs_per_s_steady": steady_rows / steady if steady else 0.0,
        "events": events,
        "driver_bytes_per_batch": stats.driver_bytes_collected / max(1, stats.batches),
        "phases": phase_summary(settings) + SERVER.since(server_before) + cpu_split(cpu),
        # all the CPU the pass cost (Spark's processes and, when embedded, noida-db): load-independent
        "docs_per_cpu_s": stats.rows_out / total_cpu if total_cpu else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=500, help="events/s produced in the latency test")
    parser.add_argument(
        "--rates",
        type=lambda v: [float(r) for r in v.split(",")],
        default=None,
        help="several latency tests back to back, e.g. 2,10,20 (overrides --rate)",
    )
    parser.add_argument("--latency-seconds", type=int, default=60)
    parser.add_argument("--trigger-seconds", type=float, default=0.5)
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-speedup", action="store_true", help="no local[1] pass for the scale-out speed-up")
    parser.add_argument(
        "--speedup-events",
        type=int,
        default=None,
        help="events of the local[1] vs local[N] passes (default: all; both passes on the same ones)",
    )
    parser.add_argument(
        "--alone-events",
        type=int,
        default=None,
        help="texts the labeller alone is timed on (default: all; the first N of the same events)",
    )
    parser.add_argument("--repeats", type=int, default=2, help="raw/full pairs in the throughput test")
    parser.add_argument(
        "--external",
        action="store_true",
        help="use the Kafka and Elasticsearch configured by the ECOUTE_* environment (e.g. the infra/ "
        "deployment) instead of starting a noida-db; only bench.* topics and ecoute-*-bench* indices are "
        "written, and the benchmark's mention indices are deleted between passes",
    )
    args = parser.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="ecoute-bench-"))
    server = None
    if args.external:
        base = Settings().model_copy(update={"state_dir": workdir / "state", "spark_master": args.spark_master})
    else:
        server, bootstrap, es_url = start_noida(workdir)
        SERVER.pid = server.pid
        base = Settings(
            state_dir=workdir / "state",
            spark_master=args.spark_master,
            kafka={"bootstrap_servers": bootstrap},
            es={"url": es_url},
        )
    try:
        if not args.skip_throughput:
            run_throughput(
                base,
                args.events,
                args.repeats,
                speedup=not args.skip_speedup,
                speedup_events=args.speedup_events,
                alone_events=args.alone_events,
            )
        if not args.skip_latency:
            if not args.skip_throughput:  # the follow pass also starts from an empty Elasticsearch
                drop_mentions(base)
            for rate in args.rates or [args.rate]:
                follow_settings = bench_settings(base, "follow", f"bench.follow.{uuid.uuid4().hex[:6]}")
                lat = latency(follow_settings, rate, args.latency_seconds, args.trigger_seconds)
                print(
                    f"follow latency at {lat['rate_achieved']:.1f} events/s for {args.latency_seconds}s "
                    f"(trigger {args.trigger_seconds}s, load average {os.getloadavg()[0]:.2f}): "
                    f"p50 {lat['p50_s']:.2f}s, p95 {lat['p95_s']:.2f}s, max {lat['max_s']:.2f}s "
                    f"({lat['searchable']}/{lat['sampled']} sampled events searchable, {lat['stored']}/{lat['produced']} "
                    f"stored; target p95 ≤ 5 s)\n    {breakdown(lat)}",
                    flush=True,
                )
                drop_mentions(base)
    finally:
        if server is not None:
            server.terminate()
            server.wait(15)
        shutil.rmtree(workdir, ignore_errors=True)


def warm_up(base: Settings, count_events: int = 2000) -> None:
    """One untimed raw and full pass on a small topic: the JVM's JIT and Spark's code paths are cold
    in whichever pass runs first, which would flatter the ratio (raw goes first)."""
    topic = f"bench.warmup.{uuid.uuid4().hex[:6]}"
    ensure_topics(bench_settings(base, "warm", topic))
    rng = random.Random(1)
    produce(bench_settings(base, "warm", topic), [varied_event(n, rng) for n in range(count_events)])
    started = time.monotonic()
    for kind, enrich in (("raw", False), ("full", True)):
        throughput(bench_settings(base, f"warm{kind}", topic), count_events, enrich=enrich, name=f"warm-{kind}")
    drop_mentions(base)
    print(
        f"warm-up (untimed raw and full passes on {count_events} events): {time.monotonic() - started:.1f}s", flush=True
    )


def run_throughput(
    base: Settings,
    count_events: int,
    repeats: int = 2,
    speedup: bool = True,
    speedup_events: int | None = None,
    alone_events: int | None = None,
) -> None:
    """(a) raw pass-through and (b) full pipeline on the same topic; prints docs/s and the ratio.

    The passes alternate ``repeats`` times (raw, full, raw, full…) and the ratio reported is the
    median of the pairs: the embedded server's write time varies by ±15 % from one pass to the
    next, which moves a single pair's ratio by ±0.05.
    """
    topic = f"bench.raw.{uuid.uuid4().hex[:6]}"
    ensure_topics(bench_settings(base, "raw", topic))
    rng = random.Random(42)
    events = [varied_event(n, rng) for n in range(count_events)]
    produce_s = produce(bench_settings(base, "raw", topic), events)
    print(f"produced {len(events)} events in {produce_s:.1f}s ({len(events) / produce_s:.0f}/s)", flush=True)

    warm_up(base)
    ratios: list[tuple[float, float]] = []
    fulls: list[dict[str, float]] = []
    for attempt in range(1, repeats + 1):
        pair = {}
        for kind, enrich in (("raw", False), ("full", True)):
            # Every pass starts from an empty Elasticsearch: noida-db's indexing slows down as it
            # holds more documents, which would otherwise penalise whichever pass runs later.
            drop_mentions(base)
            if enrich and attempt > 1:
                stop_spark()  # fresh Python workers: their in-memory embedding cache holds the texts of pass 1
            settings = bench_settings(base, kind, topic)
            pair[kind] = result = throughput(settings, len(events), enrich=enrich, name=f"bench-{kind}-{attempt}")
            label = "(a) raw pass-through Kafka→ES:" if kind == "raw" else "(b) full enrich+validate+ES:  "
            print(
                f"[{attempt}/{repeats}] {label} {result['docs_per_s_processing']:.0f} docs/s over batch time "
                f"(steady {result['docs_per_s_steady']:.0f}), {result['docs_per_s_wall']:.0f} docs/s wall "
                f"({result['stored']} stored, {result['quarantined']} quarantined, {result['batches']} batches, "
                f"{result['wall_s']:.1f}s)\n    {result['phases']}",
                flush=True,
            )
        ratio = (
            pair["full"]["docs_per_s_processing"] / pair["raw"]["docs_per_s_processing"],
            pair["full"]["docs_per_s_wall"] / pair["raw"]["docs_per_s_wall"],
        )
        ratios.append(ratio)
        print(f"[{attempt}/{repeats}] ratio full/raw: {ratio[0]:.3f} over batch time, {ratio[1]:.3f} wall", flush=True)
        fulls.append(pair["full"])
    batch_ratio = statistics.median(r[0] for r in ratios)
    wall_ratio = statistics.median(r[1] for r in ratios)
    print(
        f"ratio full/raw (median of {repeats}): {batch_ratio:.3f} over batch time, {wall_ratio:.3f} wall "
        f"(target ≥ 0.5)",
        flush=True,
    )

    cores = cores_of(base.spark_master)
    full_rate = statistics.median(f["docs_per_s_processing"] for f in fulls)
    alone = labeller_alone(events[:alone_events] if alone_events else events, cores)
    full_per_cpu = statistics.median(f["docs_per_cpu_s"] for f in fulls)
    print(
        f"(c) labeller alone, {cores} processes: {alone['docs_per_s']:.0f} docs/s ({alone['docs']} texts in "
        f"{alone['seconds']:.1f}s; model loaded in {alone['load_s']:.1f}s, not counted)\n"
        f"    ratio full/labeller-alone: {full_rate / alone['docs_per_s']:.3f} (target ≥ 0.8)\n"
        f"    per CPU-second (independent of other load on the machine): full {full_per_cpu:.1f} docs, "
        f"labeller alone {alone['docs_per_cpu_s']:.1f} docs, ratio {full_per_cpu / alone['docs_per_cpu_s']:.3f}",
        flush=True,
    )
    driver_bytes = statistics.median(f["driver_bytes_per_batch"] for f in fulls)
    print(f"(d) driver collected per batch: {driver_bytes:.0f} bytes (counts only; no documents)", flush=True)
    if speedup and cores > 1:
        subset = topic
        wide_rate = full_rate
        if speedup_events and speedup_events < len(events):
            # Both passes of the speed-up on the same smaller topic (a local[1] pass is long).
            subset = f"bench.speedup.{uuid.uuid4().hex[:6]}"
            stop_spark()  # fresh Python workers: their in-memory embedding cache holds the texts already seen
            ensure_topics(bench_settings(base, "sub", subset))
            produce(bench_settings(base, "sub", subset), events[:speedup_events])
            drop_mentions(base)
            wide = throughput(bench_settings(base, "fulln", subset), speedup_events, enrich=True, name="bench-full-N")
            wide_rate = wide["docs_per_s_processing"]
        stop_spark()
        one = base.model_copy(update={"spark_master": "local[1]"})
        drop_mentions(base)
        single = throughput(
            bench_settings(one, "full1", subset), speedup_events or len(events), enrich=True, name="bench-full-local1"
        )
        stop_spark()
        full_rate = wide_rate
        print(
            f"(e) full pipeline on local[1]: {single['docs_per_s_processing']:.0f} docs/s over batch time "
            f"({single['docs_per_s_wall']:.0f} wall), on {base.spark_master} {wide_rate:.0f} docs/s, same "
            f"{speedup_events or len(events)} events; speed-up local[1] → {base.spark_master}: "
            f"{full_rate / single['docs_per_s_processing']:.2f}x\n    {single['phases']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
