"""Precision, recall and F1 of alert episodes of jobs.spikes on labelled series.

    .venv/bin/python tests/benchmarks/bench_spikes.py            # report on tune and held-out sets
    .venv/bin/python tests/benchmarks/bench_spikes.py --tune     # grid-search SpikeParams on tune/ only

Scoring (per series, then pooled): alerts are grouped into episodes (an alert within 1 h of the
previous one joins its episode). An episode is a true positive when its first alert falls inside a
labelled burst (from its start to 1 h after its end); otherwise it is a false alarm. A labelled
burst is recalled when at least one episode starts inside it. Precision = TP episodes / episodes,
recall = recalled bursts / bursts. The parameters are chosen on ``tune/``; ``holdout/`` is only
reported on, never tuned on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.spikes import SpikeParams, detect_alerts, read_series_csv

SERIES = Path(__file__).resolve().parent / "spike_series"
FMT = "%Y-%m-%d %H:%M:%S"
EPISODE_GAP = timedelta(hours=1)
LATE_TOLERANCE = timedelta(hours=1)


def episodes(alerts: list[datetime]) -> list[datetime]:
    starts: list[datetime] = []
    last: datetime | None = None
    for t in alerts:
        if last is None or t - last > EPISODE_GAP:
            starts.append(t)
        last = t
    return starts


def score_series(alerts: list[datetime], bursts: list[tuple[datetime, datetime]]) -> tuple[int, int, int, int]:
    """(true-positive episodes, episodes, recalled bursts, bursts)."""
    starts = episodes(alerts)
    tp = sum(any(a <= s <= b + LATE_TOLERANCE for a, b in bursts) for s in starts)
    found = sum(any(a <= s <= b + LATE_TOLERANCE for s in starts) for a, b in bursts)
    return tp, len(starts), found, len(bursts)


def load(split: str) -> list[tuple[str, list[datetime], list[float], int, list[tuple[datetime, datetime]]]]:
    folder = SERIES / split
    labels = json.loads((folder / "labels.json").read_text())
    loaded = []
    for name, meta in sorted(labels.items()):
        with open(folder / f"{name}.csv") as handle:
            stamps, values, _ = read_series_csv(handle, name)
        bursts = [(datetime.strptime(a, FMT), datetime.strptime(b, FMT)) for a, b in meta["bursts"]]
        loaded.append((name, stamps, values, meta["bucket_minutes"], bursts))
    return loaded


def evaluate(data: list, params: SpikeParams, verbose: bool = False) -> dict[str, float]:
    tp = n_ep = found = n_b = 0
    for name, stamps, values, bucket, bursts in data:
        alerts = detect_alerts(stamps, values, bucket, params)
        s = score_series(alerts, bursts)
        tp, n_ep, found, n_b = tp + s[0], n_ep + s[1], found + s[2], n_b + s[3]
        if verbose:
            print(f"  {name:<22} episodes={s[1]:<3} true={s[0]:<3} bursts={s[3]} found={s[2]}")
    precision = tp / n_ep if n_ep else 1.0
    recall = found / n_b if n_b else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "episodes": n_ep, "bursts": n_b}


def tune(data: list) -> SpikeParams:
    grid = {
        "false_alarms_per_day": [0.01, 0.03, 0.1, 0.3],
        "min_ratio": [1.8, 2.2, 2.6],
        "level_half_life_h": [24.0, 48.0, 96.0],
    }
    best: tuple[float, SpikeParams] | None = None
    for combo in itertools.product(*grid.values()):
        params = replace(SpikeParams(), **dict(zip(grid, combo, strict=True)))
        m = evaluate(data, params)
        # Precision first (managers hate false alarms), then F1.
        key = (m["precision"] >= 0.85) + m["f1"]
        print(f"{dict(zip(grid, combo, strict=True))} P={m['precision']:.2f} R={m['recall']:.2f} F1={m['f1']:.2f}")
        if best is None or key > best[0]:
            best = (key, params)
    assert best is not None
    return best[1]


def demo_series(bucket: int) -> tuple[list, list, list] | None:
    """Critical comments per bucket of the demo month (infra/demo, ground-truth labels), or None."""
    import gzip

    demo = Path(__file__).resolve().parents[2] / "infra" / "demo"
    if not (demo / "ground_truth.json").exists():
        return None
    truth = json.loads((demo / "ground_truth.json").read_text())
    with gzip.open(demo / "ground_truth_labels.jsonl.gz", "rt", encoding="utf-8") as handle:
        critical = {(r["source"], r["native_id"]) for r in map(json.loads, handle) if r["critical"] and not r["brand"]}
    start = datetime(2026, 10, 1)
    counts = [0.0] * (31 * 24 * 60 // bucket)
    with gzip.open(demo / "ecoute-demo-2026-10.jsonl.gz", "rt", encoding="utf-8") as handle:
        for record in map(json.loads, handle):
            if (record["source"], record["native_id"]) in critical:
                created = datetime.fromisoformat(record["created_at"].replace("Z", "")).replace(tzinfo=None)
                counts[int((created - start).total_seconds() // 60 // bucket)] += 1
    stamps = [start + timedelta(minutes=bucket * i) for i in range(len(counts))]
    crisis = [(datetime.fromisoformat(truth["crisis"][k].replace("Z", "")) for k in ("start", "end"))]
    return stamps, counts, [tuple(c) for c in crisis]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="grid-search on the tune set")
    parser.add_argument("--verbose", "-v", action="store_true", help="per-series figures")
    args = parser.parse_args()
    params = SpikeParams()
    if args.tune:
        params = tune(load("tune"))
        print("best:", params)
    for split in ("tune", "holdout"):
        began = time.perf_counter()
        data = load(split)
        print(f"{split}:")
        m = evaluate(data, params, verbose=args.verbose)
        buckets = sum(len(d[1]) for d in data)
        print(
            f"{split:<8} precision={m['precision']:.3f} recall={m['recall']:.3f} f1={m['f1']:.3f} "
            f"(episodes={m['episodes']}, bursts={m['bursts']}, series={len(data)}, {buckets} buckets, "
            f"{time.perf_counter() - began:.1f}s)"
        )
    # The demo month (one crisis, thirty calm days): never used for tuning.
    for bucket in (15, 60):
        series = demo_series(bucket)
        if series is not None:
            stamps, counts, crisis = series
            alerts = detect_alerts(stamps, counts, bucket, params)
            tp, n_ep, found, n_b = score_series(alerts, crisis)
            print(f"demo month ({bucket} min buckets): {n_ep} episode(s), {tp} on the crisis, crisis found: {found == n_b}")


if __name__ == "__main__":
    main()
