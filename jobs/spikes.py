"""Criticism spike detector: decide, bucket by bucket, whether a count series is bursting.

Small API (used by the spike-watch DAG, by ``ecoute spikes detect`` and by the benchmark)::

    detect_alerts(timestamps, values, bucket_minutes) -> list[timestamp]   # one per alert episode
    SpikeDetector(bucket_minutes, **params).update(timestamp, value) -> Decision

How it works (every decision at bucket t uses only buckets up to t — it is causal, so running on a
prefix of a series gives exactly the alerts of the full run on that prefix):

1. **Expected count** ``mu_t = level × daily[hour] × weekly[weekday] × bucket_minutes``: an
   exponentially weighted level (per minute, half-life ``level_half_life_h``) follows slow audience
   growth; hour-of-day and day-of-week factors (shrunk towards 1 while little is known, so low
   counts do not invent a profile) capture daily and weekly seasonality. Values above the alarm
   threshold are clipped before they update the baseline, so a burst is not learnt as "normal".
2. **Evidence of a burst**: over windows of the last 30 min … 4 h, the observed sum is compared to
   the expected sum with a negative-binomial tail (Poisson noise plus model error ``dispersion``).
   The largest bucket of the window is left out of the test, so a single outlier never fires on
   its own; only a sustained excess does. The excess must also be big in relative and absolute
   terms (``min_ratio``, ``min_excess``) — managers hate false alarms.
3. **Episodes**: the first firing bucket opens an episode and is reported; later firings within
   ``episode_gap_minutes`` of the previous one extend it silently; a new episode cannot open during
   ``cooldown_minutes`` after the last firing. Missing buckets (gaps) are simply unobserved: they
   neither update the baseline nor count as zeros.

Quality (``tests/benchmarks/bench_spikes.py``, alert episodes vs labelled bursts; parameters chosen
on the tune set only): held-out set of 20 series, precision 0.92, recall 0.88, F1 0.90; on the
demo month (infra/demo) one episode, on its crisis day, at 15- and 60-minute buckets.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scipy.special import betainc

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class SpikeParams:
    """Tunable knobs (defaults tuned on tests/benchmarks/spike_series/tune, see bench_spikes.py)."""

    level_half_life_h: float = 48.0
    daily_half_life_d: float = 7.0
    weekly_half_life_d: float = 28.0
    daily_prior: float = 8.0  # pseudo-counts pulling an hour-of-day factor towards 1
    weekly_prior: float = 30.0
    dispersion: float = 0.08  # prior negative-binomial alpha of hourly sums: var = mu + alpha * mu²
    dispersion_floor: float = 0.02
    dispersion_prior_weight: float = 50.0
    dispersion_half_life_d: float = 14.0
    windows_minutes: tuple[int, ...] = (30, 60, 120, 240)
    # Significance per test = this / (tests a day): scanning 1-minute buckets makes 60× more tests
    # than hourly ones, so each must be 60× stricter for the same false-alarm rate (Bonferroni).
    false_alarms_per_day: float = 0.1
    min_ratio: float = 2.2
    min_excess: float = 6.0
    warmup_hours: float = 24.0
    episode_gap_minutes: float = 60.0
    cooldown_minutes: float = 120.0
    clip_sigmas: float = 3.0


@dataclass
class Decision:
    """What the detector concluded at one bucket."""

    timestamp: datetime
    value: float
    expected: float
    firing: bool = False  # the evidence of a burst holds at this bucket
    alert: bool = False  # ...and it opens a new episode (what gets reported)
    in_episode: bool = False
    ratio: float = 0.0  # observed / expected over the most significant window
    p_value: float = 1.0
    window_minutes: int = 0
    severity: str | None = None


def nb_sf(observed: float, mean: float, alpha: float) -> float:
    """P(Y >= observed) for a negative binomial with this mean and var = mean + alpha·mean²."""
    if observed <= 0:
        return 1.0
    mean = max(mean, 1e-9)
    r = 1.0 / max(alpha, 1e-9)
    p = r / (r + mean)  # success probability
    k = math.ceil(observed) - 1  # P(Y > k)
    # P(Y > k) = I_{1-p}(k+1, r) (regularised incomplete beta)
    return float(betainc(k + 1, r, 1.0 - p))


def severity_of(ratio: float) -> str:
    if ratio >= 6:
        return "critical"
    if ratio >= 3.5:
        return "high"
    return "warning"


@dataclass
class _Bucket:
    t: datetime
    x: float
    mu: float


@dataclass
class SpikeDetector:
    """Online, causal detector. Feed buckets in time order with ``update``; read ``Decision``s."""

    bucket_minutes: int
    params: SpikeParams = field(default_factory=SpikeParams)

    def __post_init__(self) -> None:
        if not 1 <= self.bucket_minutes <= 24 * 60:
            raise ValueError(f"bucket_minutes must be between 1 and 1440, got {self.bucket_minutes}")
        p = self.params
        bm = self.bucket_minutes
        self._a_level = 1 - 0.5 ** (bm / (p.level_half_life_h * 60))
        self._a_daily = 1 - 0.5 ** (bm / (p.daily_half_life_d * 60))  # each hour slot: 60/bm updates a day
        self._a_weekly = 1 - 0.5 ** (bm / (p.weekly_half_life_d * 24 * 60))
        self._p_threshold = p.false_alarms_per_day / (24 * 60 / bm * len(p.windows_minutes))
        self.level: float | None = None
        self._level_obs = 0.0
        self._level_exp = 0.0
        self._seen = 0
        self._first: datetime | None = None
        self._last: datetime | None = None
        # Exponentially weighted observed / expected sums per hour-of-day and weekday.
        self._d_obs = [0.0] * 24
        self._d_exp = [0.0] * 24
        self._w_obs = [0.0] * 7
        self._w_exp = [0.0] * 7
        self._history: deque[_Bucket] = deque()
        # Over-dispersion is learnt on hourly sums, so it also covers the clustering of comments in
        # threads (neighbouring buckets are not independent) which bucket-level noise would miss.
        self._hour: datetime | None = None
        self._hour_obs = 0.0
        self._hour_exp = 0.0
        self._disp_num = 0.0
        self._disp_den = 0.0
        self._a_disp = 1 - 0.5 ** (1 / (p.dispersion_half_life_d * 24))
        self._last_fire: datetime | None = None
        self._episode_start: datetime | None = None

    # -- baseline ------------------------------------------------------------------------------
    def _daily(self, hour: int) -> float:
        prior = self.params.daily_prior
        return (self._d_obs[hour] + prior) / (self._d_exp[hour] + prior)

    def _weekly(self, day: int) -> float:
        prior = self.params.weekly_prior
        return (self._w_obs[day] + prior) / (self._w_exp[day] + prior)

    def _factors(self, t: datetime) -> tuple[float, float]:
        daily = [self._daily(h) for h in range(24)]
        weekly = [self._weekly(d) for d in range(7)]
        # Normalise so the level stays the mean rate.
        return daily[t.hour] / (sum(daily) / 24), weekly[t.weekday()] / (sum(weekly) / 7)

    def expected(self, t: datetime) -> float:
        """Expected count of the bucket starting at ``t`` (0 before any data)."""
        if self.level is None:
            return 0.0
        daily, weekly = self._factors(t)
        return max(self.level * daily * weekly * self.bucket_minutes, 1e-6)

    @property
    def dispersion(self) -> float:
        """Current alpha of hourly sums (prior ``dispersion`` until data outweighs it)."""
        p = self.params
        weight = p.dispersion_prior_weight
        estimate = (self._disp_num + p.dispersion * weight) / (self._disp_den + weight)
        return max(p.dispersion_floor, estimate)

    def _learn_dispersion(self, t: datetime, x_c: float, mu: float) -> None:
        hour = t.replace(minute=0, second=0, microsecond=0)
        if self._hour is not None and hour != self._hour and self._hour_exp > 0:
            keep = 1 - self._a_disp
            m = self._hour_exp
            self._disp_num = keep * self._disp_num + (self._hour_obs - m) ** 2 - m
            self._disp_den = keep * self._disp_den + m * m
            self._hour_obs = self._hour_exp = 0.0
        self._hour = hour
        self._hour_obs += x_c
        self._hour_exp += mu

    def _learn(self, t: datetime, x: float, mu: float, in_episode: bool) -> None:
        p = self.params
        sd = math.sqrt(mu + self.dispersion * mu * mu)
        # Clip only what would look alarming, so a wrong early baseline cannot lock itself in.
        cap = mu + sd if in_episode else max(mu * p.min_ratio, mu + p.clip_sigmas * sd) + 2.0
        warm = self._first is not None and t - self._first >= timedelta(hours=p.warmup_hours)
        x_c = min(x, cap) if warm else x
        if warm:
            self._learn_dispersion(t, x_c, mu)
        daily, weekly = self._factors(t)
        # Ratio estimator (observed sum / seasonal-weight sum): unbiased at low counts, unlike an
        # average of count / factor, which noisy small factors would skew.
        keep = 1 - self._a_level
        self._level_obs = keep * self._level_obs + x_c
        self._level_exp = keep * self._level_exp + daily * weekly * self.bucket_minutes
        self.level = self._level_obs / self._level_exp
        base = max(self.level, 1e-9) * self.bucket_minutes
        h, d = t.hour, t.weekday()
        # Profiles are learnt against a settled level only: during a cold start the level is still
        # moving, and the first day's error would pass for a weekday effect for weeks.
        age = t - self._first if self._first else timedelta(0)
        if age >= timedelta(hours=12):
            self._d_obs[h] = (1 - self._a_daily) * self._d_obs[h] + x_c / weekly
            self._d_exp[h] = (1 - self._a_daily) * self._d_exp[h] + base
        if age >= timedelta(days=3):
            self._w_obs[d] = (1 - self._a_weekly) * self._w_obs[d] + x_c / daily
            self._w_exp[d] = (1 - self._a_weekly) * self._w_exp[d] + base
        self._seen += 1

    # -- decision ------------------------------------------------------------------------------
    def _evidence(self, now: datetime) -> tuple[bool, float, float, int]:
        p = self.params
        best = (False, 0.0, 1.0, 0)
        newest = self._history[-1]
        if newest.x <= newest.mu:
            return best  # the burst must still be going on at t
        windows = sorted(p.windows_minutes)
        starts = [now - timedelta(minutes=w - self.bucket_minutes) for w in windows]
        obs = exp = 0.0
        n = 0
        worst: _Bucket | None = None
        w_index = 0
        # Walk back from the newest bucket, evaluating each (nested) window when its start is passed.
        for bucket in reversed(self._history):
            while w_index < len(windows) and bucket.t < starts[w_index]:
                best = self._test(best, windows[w_index], obs, exp, n, worst)
                w_index += 1
            if w_index == len(windows):
                break
            obs += bucket.x
            exp += bucket.mu
            n += 1
            if worst is None or bucket.x - bucket.mu > worst.x - worst.mu:
                worst = bucket
        while w_index < len(windows):
            best = self._test(best, windows[w_index], obs, exp, n, worst)
            w_index += 1
        return best

    def _test(
        self,
        best: tuple[bool, float, float, int],
        window: int,
        obs_all: float,
        exp_all: float,
        n: int,
        worst: _Bucket | None,
    ) -> tuple[bool, float, float, int]:
        p = self.params
        if n < 2 or worst is None:
            return best
        # Leave out the most surprising bucket: one outlier alone must not fire.
        obs = obs_all - worst.x
        exp = exp_all - worst.mu
        if exp <= 0 or obs / exp < p.min_ratio or obs - exp < p.min_excess:
            return best
        # var(sum) = exp + alpha_hour · Σ(hourly expected)²  ≈ exp + alpha_hour · exp² / hours
        alpha = self.dispersion / max(1.0, (window - self.bucket_minutes) / 60)
        pv = nb_sf(obs, exp, alpha)
        if pv < self._p_threshold and (not best[0] or pv < best[2]):
            return (True, obs_all / max(exp_all, 1e-9), pv, window)
        return best

    def update(self, timestamp: datetime, value: float) -> Decision:
        """Feed the bucket starting at ``timestamp`` (strictly after the previous one)."""
        if self._last is not None and timestamp <= self._last:
            raise ValueError(f"bucket {timestamp} is not after the previous one ({self._last})")
        if value < 0 or math.isnan(value):
            raise ValueError(f"bucket {timestamp}: count must be >= 0, got {value}")
        p = self.params
        self._first = self._first or timestamp
        self._last = timestamp
        mu = self.expected(timestamp)
        decision = Decision(timestamp, value, mu)
        self._history.append(_Bucket(timestamp, value, mu))
        horizon = timestamp - timedelta(minutes=max(p.windows_minutes))
        while self._history and self._history[0].t <= horizon:
            self._history.popleft()

        warm = self.level is not None and timestamp - self._first >= timedelta(hours=p.warmup_hours)
        if warm:
            firing, ratio, pv, window = self._evidence(timestamp)
            decision.firing, decision.ratio, decision.p_value, decision.window_minutes = firing, ratio, pv, window
        if decision.firing:
            gap = timedelta(minutes=p.episode_gap_minutes)
            cooldown = timedelta(minutes=p.cooldown_minutes)
            continuing = self._last_fire is not None and timestamp - self._last_fire <= gap
            cooling = self._last_fire is not None and timestamp - self._last_fire <= cooldown
            if not continuing and not cooling:
                decision.alert = True
                self._episode_start = timestamp
            self._last_fire = timestamp
            decision.severity = severity_of(decision.ratio)
        in_episode = self._last_fire is not None and timestamp - self._last_fire <= timedelta(
            minutes=p.episode_gap_minutes
        )
        decision.in_episode = in_episode
        self._learn(timestamp, value, mu, in_episode)
        return decision

    @property
    def episode_start(self) -> datetime | None:
        return self._episode_start


def run_detector(
    timestamps: Sequence[datetime], values: Sequence[float], bucket_minutes: int, params: SpikeParams | None = None
) -> list[Decision]:
    """Every bucket's decision, in order."""
    detector = SpikeDetector(bucket_minutes, params or SpikeParams())
    return [detector.update(t, float(v)) for t, v in zip(timestamps, values, strict=True)]


def detect_alerts(
    timestamps: Sequence[datetime], values: Sequence[float], bucket_minutes: int, params: SpikeParams | None = None
) -> list[datetime]:
    """Timestamps of the buckets at which an alert fires (one per episode). Causal."""
    return [d.timestamp for d in run_detector(timestamps, values, bucket_minutes, params) if d.alert]


# -- CSV input (``ecoute spikes detect FILE.csv``) ---------------------------------------------------
class SeriesFormatError(ValueError):
    """A CSV series that cannot be read; the message names the line."""


def read_series_csv(lines: Iterable[str], name: str = "input") -> tuple[list[datetime], list[float], int]:
    """Parse ``timestamp,value`` rows; return timestamps, values and the bucket size in minutes."""
    timestamps: list[datetime] = []
    values: list[float] = []
    header_seen = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if not header_seen:
            columns = [c.strip().lower() for c in line.split(",")]
            if columns != ["timestamp", "value"]:
                raise SeriesFormatError(f"{name}:{number}: expected the header 'timestamp,value', got {line[:80]!r}")
            header_seen = True
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2:
            raise SeriesFormatError(f"{name}:{number}: expected 2 fields 'timestamp,value', got {len(parts)}: {line[:80]!r}")
        try:
            stamp = datetime.strptime(parts[0], TIMESTAMP_FORMAT)
        except ValueError:
            raise SeriesFormatError(
                f"{name}:{number}: bad timestamp {parts[0][:40]!r} (expected YYYY-MM-DD HH:MM:SS)"
            ) from None
        try:
            value = float(parts[1])
        except ValueError:
            raise SeriesFormatError(f"{name}:{number}: bad value {parts[1][:40]!r} (expected a count >= 0)") from None
        if math.isnan(value) or math.isinf(value) or value < 0:
            raise SeriesFormatError(f"{name}:{number}: bad value {parts[1][:40]!r} (expected a count >= 0)")
        if timestamps and stamp <= timestamps[-1]:
            what = "duplicate" if stamp == timestamps[-1] else "out-of-order"
            raise SeriesFormatError(f"{name}:{number}: {what} timestamp {parts[0]} (rows must be in increasing time order)")
        timestamps.append(stamp)
        values.append(value)
        _check_step(timestamps, name, number)
    if not header_seen:
        raise SeriesFormatError(f"{name}: empty file (expected the header 'timestamp,value')")
    return timestamps, values, infer_bucket_minutes(timestamps)


def _check_step(timestamps: list[datetime], name: str, number: int) -> None:
    if len(timestamps) < 2:
        return
    step = (timestamps[-1] - timestamps[-2]).total_seconds()
    if step % 60:
        raise SeriesFormatError(f"{name}:{number}: timestamp {timestamps[-1]} is not on a whole-minute bucket grid")


def infer_bucket_minutes(timestamps: Sequence[datetime]) -> int:
    """The bucket size: the greatest common divisor of the steps (gaps are multiples of it)."""
    if len(timestamps) < 2:
        return 60
    step = 0
    for a, b in itertools.pairwise(timestamps):
        step = math.gcd(step, int((b - a).total_seconds() // 60))
    if not 1 <= step <= 60:
        raise SeriesFormatError(f"buckets of {step} minutes: expected regular buckets of 1 to 60 minutes")
    return step
