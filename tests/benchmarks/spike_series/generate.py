"""Build simulated labelled count series (deterministic: fixed seeds) — unit-test material only.

They no longer choose or rank the detector: simulations lack real social data's heavy-tailed
bursts, so parameters are chosen on real series (docs/alerts.md, bench_spikes.py). Both families
("real_*" are simulations too, from a thread model) are split into ``tune/`` and ``holdout/``:

- **synthetic**: Poisson/negative-binomial counts around a daily × weekly profile with slow
  audience growth, day-to-day swings, single outliers (unlabelled: one spammer, one bucket),
  missing stretches (gaps), and injected bursts (labelled) of 1–8 h, ×2.5–×10, ramped.
- **realistic**: a thread model — posts arrive with the daily rhythm, each drawing a self-exciting
  cascade of comments of which a share is critical; ordinary popular posts make bumps of ≤ ×2 that
  are *not* crises (unlabelled), crisis posts make large, long critical cascades (labelled).

Each series is ``<name>.csv`` (``timestamp,value``) plus an entry in ``labels.json``:
``{"<name>": {"bucket_minutes": 15, "bursts": [["start", "end"], ...]}}``.
Run ``python tests/benchmarks/spike_series/generate.py`` to rebuild them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FMT = "%Y-%m-%d %H:%M:%S"
DAILY = np.array(
    [
        0.25,
        0.15,
        0.1,
        0.08,
        0.08,
        0.12,
        0.3,
        0.6,
        0.9,
        1.1,
        1.2,
        1.3,
        1.5,
        1.4,
        1.2,
        1.1,
        1.1,
        1.2,
        1.4,
        1.7,
        1.9,
        1.8,
        1.2,
        0.6,
    ]
)
DAILY = DAILY / DAILY.mean()


def _write(folder: Path, name: str, stamps: list[datetime], values: np.ndarray, keep: np.ndarray) -> None:
    lines = ["timestamp,value"]
    lines += [f"{t.strftime(FMT)},{int(v)}" for t, v, k in zip(stamps, values, keep, strict=True) if k]
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n")


def _profile(stamps: list[datetime], rng: np.random.Generator, weekend: float) -> np.ndarray:
    # Smooth daily curve (interpolated per minute) × weekday effect × day-to-day swing.
    hours = np.array([t.hour + t.minute / 60 for t in stamps])
    daily = np.interp(hours, np.arange(25), np.append(DAILY, DAILY[0]))
    days = np.array([(t - stamps[0]).days for t in stamps])
    swing = rng.lognormal(0, 0.15, days.max() + 1)[days]
    weekday = np.array([weekend if t.weekday() >= 5 else 1.0 for t in stamps])
    return daily * weekday * swing


def _gaps(n: int, bucket: int, rng: np.random.Generator, labelled: list[tuple[int, int]]) -> np.ndarray:
    """Missing buckets: 1 % lost at random and 0–2 outages of 1–6 h, never over a labelled burst
    (a crisis nobody could see is not a fair test of the detector)."""
    keep = np.ones(n, dtype=bool)
    keep[rng.random(n) < 0.01] = False  # lost single buckets
    for _ in range(rng.integers(0, 3)):  # outages of 1–6 h
        start = int(rng.integers(n // 5, n - 10))
        stop = start + int(rng.integers(60, 360) // bucket) + 1
        if all(stop <= a or start >= b for a, b in labelled):
            keep[start:stop] = False
    return keep


def synthetic(name: str, seed: int, bucket: int, days: int, per_hour: float, n_bursts: int) -> dict:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 9, 7) - timedelta(days=int(rng.integers(0, 7)))
    n = days * 24 * 60 // bucket
    stamps = [start + timedelta(minutes=bucket * i) for i in range(n)]
    growth = np.linspace(1.0, 1.0 + rng.uniform(0, 0.5), n)
    rate = per_hour * bucket / 60 * _profile(stamps, rng, rng.choice([0.7, 1.0, 1.3])) * growth
    labels = []
    spans: list[tuple[int, int]] = []
    slots = np.sort(rng.choice(np.arange(2, days - 1), size=n_bursts, replace=False))
    for day in slots:
        hour = rng.uniform(8, 21)
        b0 = int(((day * 24 + hour) * 60) // bucket)
        length = int(rng.uniform(1.0, 8.0) * 60 // bucket) + 1
        factor = rng.uniform(2.5, 10.0)
        ramp = np.minimum(1.0, np.linspace(0.3, 1.6, length)) * np.exp(-np.linspace(0, rng.uniform(0, 1.5), length))
        rate[b0 : b0 + length] *= 1 + (factor - 1) * ramp
        labels.append((stamps[b0], stamps[min(b0 + length, n - 1)]))
        spans.append((b0, length))
    dispersion = rng.uniform(0.03, 0.2)
    values = rng.poisson(rng.gamma(1 / dispersion, dispersion, n) * rate).astype(float)
    for i in rng.choice(n, size=int(rng.integers(2, 8)), replace=False):  # single outliers (not crises)
        values[i] += max(6, round(rate[i] * rng.uniform(5, 15)))
    keep = _gaps(n, bucket, rng, [(b0, b0 + length) for b0, length in spans])
    return {"stamps": stamps, "values": values, "keep": keep, "bursts": labels}


def realistic(name: str, seed: int, bucket: int, days: int, posts_per_day: float, n_crises: int) -> dict:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 9, 7) - timedelta(days=int(rng.integers(0, 7)))
    minutes = days * 24 * 60
    critical = np.zeros(minutes)
    minute_profile = np.interp(np.arange(minutes) % 1440 / 60, np.arange(25), np.append(DAILY, DAILY[0]))
    growth = np.linspace(1.0, 1.0 + rng.uniform(0, 0.4), minutes)

    def cascade(t0: int, size: float, share: float, decay_h: float) -> None:
        count = rng.poisson(size)
        delays = rng.exponential(decay_h * 60, count).astype(int)
        times = t0 + delays
        times = times[times < minutes]
        crit = times[rng.random(len(times)) < share]
        np.add.at(critical, crit, 1)

    # Background comments not tied to a post (a low steady trickle of criticism).
    critical += rng.poisson(0.15 * rng.uniform(0.3, 2.0) * minute_profile * growth)
    post_times = np.flatnonzero(rng.random(minutes) < posts_per_day / 1440 * minute_profile * growth)
    for t0 in post_times:
        size = rng.pareto(2.2) * 40 + 10  # heavy-tailed popularity
        cascade(t0, min(size, 400), rng.uniform(0.03, 0.12), rng.uniform(0.5, 3))
    labels = []
    crises: list[tuple[int, int]] = []
    for day in np.sort(rng.choice(np.arange(2, days - 1), size=n_crises, replace=False)):
        t0 = int(day * 1440 + rng.uniform(8, 20) * 60)
        decay = rng.uniform(1.0, 4.0)
        cascade(t0, rng.uniform(300, 1500), rng.uniform(0.4, 0.8), decay)
        labels.append((start + timedelta(minutes=t0), start + timedelta(minutes=t0 + int(decay * 60 * 2))))
        crises.append((t0 // bucket, int(decay * 120) // bucket + 1))
    n = minutes // bucket
    values = critical[: n * bucket].reshape(n, bucket).sum(axis=1)
    stamps = [start + timedelta(minutes=bucket * i) for i in range(n)]
    keep = _gaps(n, bucket, rng, [(b0, b0 + length) for b0, length in crises])
    return {"stamps": stamps, "values": values, "keep": keep, "bursts": labels}


def plan(split_seed: int, count: int) -> list[tuple]:
    """Series parameters drawn at random (but fixed by the seed): half synthetic, half realistic."""
    rng = np.random.default_rng(split_seed)
    rows = []
    for i in range(count):
        kind = "syn" if i % 2 == 0 else "real"
        bucket = int(rng.choice([1, 5, 10, 15, 20, 30, 60], p=[0.08, 0.16, 0.16, 0.2, 0.12, 0.14, 0.14]))
        days = 10 if bucket == 1 else int(rng.choice([21, 28, 35]))
        level = float(rng.choice([2, 4, 8, 15, 30, 60])) if kind == "syn" else float(rng.choice([8, 15, 25, 40]))
        bursts = int(rng.integers(1, 4))
        rows.append((kind, split_seed * 100 + i, bucket, days, level, bursts))
    return rows


def build() -> None:
    plans = {"tune": plan(1, 20), "holdout": plan(2, 20)}
    for split, rows in plans.items():
        folder = HERE / split
        folder.mkdir(exist_ok=True)
        labels = {}
        for kind, seed, bucket, days, level, bursts in rows:
            name = f"{kind}_{seed}_{bucket}min"
            make = synthetic if kind == "syn" else realistic
            series = make(name, seed, bucket, days, level, bursts)
            _write(folder, name, series["stamps"], series["values"], series["keep"])
            labels[name] = {
                "bucket_minutes": bucket,
                "bursts": [[a.strftime(FMT), b.strftime(FMT)] for a, b in series["bursts"]],
            }
        (folder / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")


if __name__ == "__main__":
    build()
