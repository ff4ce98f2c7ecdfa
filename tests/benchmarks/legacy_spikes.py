"""The spike detector as it was before the per-page budget (2026-12, jobs/alerts/spikes.py at that
time): kept as the benchmark's "before" peer (tests/benchmarks/bench_spike_budget.py). Alert-episode
days left the calibration, the rank k was rounded from a full history whatever the days known,
and rises were measured against the 7-day median only. Not used by the product."""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SpikeParams:
    """The detector's few knobs (chosen on real series, see docs/alerts.md)."""

    short_window_minutes: int = 60
    long_window_minutes: int = 120
    baseline_days: int = 7  # same clock time on each of these previous days: their median
    min_baseline_days: int = 3  # fewer known days: no baseline yet (warm-up)
    pseudo_count_per_hour: float = 5.0  # added to observed and baseline counts (per hour of window)
    history_days: int = 28  # ordinary days whose largest bursts set the threshold
    min_history_days: int = 3
    false_alerts_per_14d: float = 1.0  # the alert budget: sets the rank k of the threshold
    margin: float = 1.6  # the rise must beat the page's past bursts by this factor
    min_ratio: float = 2.0  # ...and be at least this many times its baseline
    cooldown_hours: float = 24.0  # no new episode this soon after an alert
    episode_gap_minutes: float = 60.0  # an episode ends after this long without firing
    severity_step: float = 2.0  # escalate when the score grew this much since the last email
    # The sustained rise: every ``sustained_part_minutes`` of the long window above its own usual
    # count (the smallest of those ratios), judged against the page's past sustained rises.
    sustained_part_minutes: int = 30
    sustained_margin: float = 1.6
    min_sustained_ratio: float = 2.0
    timezone: str = "UTC"  # the page's clock: what "same time yesterday" and "a day" mean

    @property
    def rank(self) -> int:
        """k: the threshold is the k-th largest daily maximum of the history."""
        return max(1, round(self.false_alerts_per_14d * (self.history_days + 1) / 14))


@dataclass
class Decision:
    """What the detector concluded at one bucket, with what it compared."""

    timestamp: datetime
    value: float
    expected: float  # usual count of one bucket at this time (baseline of the short window, per bucket)
    firing: bool = False  # bigger than the page's ordinary bursts, on both windows
    alert: bool = False  # ...and it opens a new episode (what gets reported)
    in_episode: bool = False
    escalated: bool = False  # the open episode grew by a severity step
    short_burst: bool = False  # only the short window is high: for the digest, not an email
    ratio: float = 0.0  # the score: the smaller of the two windows' ratios (with the pseudo-count)
    raw_ratio: float = 0.0  # observed / baseline over the long window (what the email shows; severity)
    window_minutes: int = 0  # the window the explanation describes (the long one)
    observed: float = 0.0  # count over that window
    baseline: float = 0.0  # median of the same window on the previous days
    yesterday: float | None = None  # the same window, same clock time, yesterday
    last_week: float | None = None  # ...and seven days ago
    short_ratio: float = 0.0
    long_ratio: float = 0.0
    sustained_ratio: float = 0.0  # the smallest ratio of the long window's parts (every part that high)
    sustained_threshold: float = math.inf  # what the page's past sustained rises asked of it
    usual_sustained_peak: float | None = None
    fired_on: str | None = None  # "burst" (both windows beat the page's bursts) or "sustained"
    threshold: float = math.inf  # the score a rise had to beat (from the page's past bursts)
    usual_peak: float | None = None  # the k-th largest daily peak score of the ordinary days
    severity: str | None = None


def severity_of(ratio: float) -> str:
    if ratio >= 6:
        return "critical"
    if ratio >= 3.5:
        return "high"
    return "warning"


class _Window:
    """Running sum of the counts of the last ``minutes``."""

    def __init__(self, minutes: int) -> None:
        self.span = timedelta(minutes=minutes)
        self.items: deque[tuple[datetime, float]] = deque()
        self.total = 0.0

    def add(self, t: datetime, x: float) -> float:
        self.items.append((t, x))
        self.total += x
        while self.items and self.items[0][0] <= t - self.span:
            self.total -= self.items.popleft()[1]
        return max(self.total, 0.0)


@dataclass
class SpikeDetector:
    """Online, causal detector. Feed buckets in time order with ``update``; read ``Decision``s."""

    bucket_minutes: int
    params: SpikeParams = field(default_factory=SpikeParams)

    def __post_init__(self) -> None:
        if not 1 <= self.bucket_minutes <= 24 * 60:
            raise ValueError(f"bucket_minutes must be between 1 and 1440, got {self.bucket_minutes}")
        p = self.params
        # A window is at least one bucket (hourly buckets: the short window is the bucket itself).
        short = max(p.short_window_minutes, self.bucket_minutes)
        long = max(p.long_window_minutes, short)
        self.short_minutes, self.long_minutes = short, long
        self._short, self._long = _Window(short), _Window(long)
        part = min(max(p.sustained_part_minutes, self.bucket_minutes), long)
        self._part_minutes, self._part = part, _Window(part)
        self._parts = max(1, long // part)  # the long window's parts, ending every ``part`` minutes
        self._part_ratios: dict[int, float] = {}  # slot -> ratio of the part ending there
        self._tz = None if p.timezone in ("UTC", "Z", "") else ZoneInfo(p.timezone)
        self._sums: dict[int, tuple[float, float, float]] = {}  # slot -> (short, long, part sums)
        self._slots: deque[int] = deque()
        self._last: datetime | None = None
        self._day: date | None = None
        self._day_max = self._day_sustained_max = 0.0
        self._day_in_episode = False
        # (day, largest score, largest sustained ratio, in an episode)
        self._daily: deque[tuple[date, float, float, bool]] = deque()
        self._last_fire: datetime | None = None
        self._last_alert: datetime | None = None
        self._alert_score = 0.0
        self._episode_start: datetime | None = None

    # -- time -----------------------------------------------------------------------------------
    def _slot(self, t: datetime) -> int:
        return int(t.replace(tzinfo=UTC).timestamp()) // (self.bucket_minutes * 60)

    def _local(self, t: datetime) -> datetime:
        return t if self._tz is None else t.replace(tzinfo=UTC).astimezone(self._tz).replace(tzinfo=None)

    def _days_before(self, t: datetime, days: int) -> datetime:
        """The UTC time of the same local clock time ``days`` days earlier (23 or 25 h across DST)."""
        if self._tz is None:
            return t - timedelta(days=days)
        local = self._local(t) - timedelta(days=days)
        return local.replace(tzinfo=self._tz).astimezone(UTC).replace(tzinfo=None)

    # -- baseline and threshold -----------------------------------------------------------------
    def _past(self, t: datetime, days: int) -> tuple[float, float, float] | None:
        return self._sums.get(self._slot(self._days_before(t, days)))

    def usual_peak(self, sustained: bool = False) -> float | None:
        """The k-th largest daily peak score (or sustained ratio) of the ordinary days of the
        history (None: too few)."""
        p = self.params
        ordinary = sorted((s if sustained else m for _, m, s, episode in self._daily if not episode), reverse=True)
        if len(ordinary) < p.min_history_days:
            return None
        return ordinary[min(p.rank, len(ordinary)) - 1]

    def sustained_threshold(self) -> float:
        peak = self.usual_peak(sustained=True)
        p = self.params
        return math.inf if peak is None else max(p.sustained_margin * peak, p.min_sustained_ratio)

    def threshold(self) -> float:
        """The score a rise must beat now (inf while fewer than ``min_history_days`` are known)."""
        peak = self.usual_peak()
        return math.inf if peak is None else max(self.params.margin * peak, self.params.min_ratio)

    def _close_day(self, day: date) -> None:
        p = self.params
        if self._day is not None and self._day != day:
            if self._day_max > 0:  # a day with no baseline yet (warm-up) says nothing about bursts
                self._daily.append((self._day, self._day_max, self._day_sustained_max, self._day_in_episode))
            while self._daily and (day - self._daily[0][0]).days > p.history_days:
                self._daily.popleft()
            self._day_max = self._day_sustained_max = 0.0
            self._day_in_episode = False
        self._day = day

    # -- decision -------------------------------------------------------------------------------
    def update(self, timestamp: datetime, value: float) -> Decision:
        """Feed the bucket starting at ``timestamp`` (strictly after the previous one)."""
        if self._last is not None and timestamp <= self._last:
            raise ValueError(f"bucket {timestamp} is not after the previous one ({self._last})")
        if value < 0 or math.isnan(value):
            raise ValueError(f"bucket {timestamp}: count must be >= 0, got {value}")
        p = self.params
        self._last = timestamp
        self._close_day(self._local(timestamp).date())
        short_sum, long_sum = self._short.add(timestamp, value), self._long.add(timestamp, value)
        part_sum = self._part.add(timestamp, value)
        slot = self._slot(timestamp)
        self._sums[slot] = (short_sum, long_sum, part_sum)
        self._slots.append(slot)
        keep = (p.baseline_days + 1) * 24 * 60 // self.bucket_minutes + 1
        while len(self._slots) > keep:
            old = self._slots.popleft()
            self._sums.pop(old, None)
            self._part_ratios.pop(old, None)

        decision = Decision(timestamp, value, 0.0, window_minutes=self.long_minutes, observed=long_sum)
        past = [s for s in (self._past(timestamp, k) for k in range(1, p.baseline_days + 1)) if s is not None]
        if len(past) < p.min_baseline_days:
            return decision
        base_short = statistics.median(s[0] for s in past)
        base_long = statistics.median(s[1] for s in past)
        base_part = statistics.median(s[2] for s in past)
        c_part = p.pseudo_count_per_hour * self._part_minutes / 60
        self._part_ratios[slot] = (part_sum + c_part) / (base_part + c_part)
        # Every part of the long window (each ending ``part`` minutes before the next) must be high:
        # a 25-minute cascade lifts one or two parts, a crisis that lasts lifts all of them.
        step = self._part_minutes // self.bucket_minutes
        parts = [self._part_ratios.get(slot - j * step) for j in range(self._parts)]
        decision.sustained_ratio = min(r for r in parts if r is not None) if None not in parts else 0.0
        c_short = p.pseudo_count_per_hour * self.short_minutes / 60
        c_long = p.pseudo_count_per_hour * self.long_minutes / 60
        decision.short_ratio = (short_sum + c_short) / (base_short + c_short)
        decision.long_ratio = (long_sum + c_long) / (base_long + c_long)
        decision.ratio = min(decision.short_ratio, decision.long_ratio)
        decision.expected = base_short * self.bucket_minutes / self.short_minutes
        decision.baseline = base_long
        decision.raw_ratio = long_sum / max(base_long, 1.0)
        yesterday, last_week = self._past(timestamp, 1), self._past(timestamp, 7)
        decision.yesterday = yesterday[1] if yesterday else None
        decision.last_week = last_week[1] if last_week else None
        decision.usual_peak = self.usual_peak()
        decision.threshold = self.threshold()
        decision.usual_sustained_peak = self.usual_peak(sustained=True)
        decision.sustained_threshold = self.sustained_threshold()
        self._day_max = max(self._day_max, decision.ratio)
        self._day_sustained_max = max(self._day_sustained_max, decision.sustained_ratio)

        burst = decision.ratio > decision.threshold
        sustained = decision.sustained_ratio > decision.sustained_threshold
        decision.firing = burst or sustained
        decision.fired_on = "burst" if burst else "sustained" if sustained else None
        decision.short_burst = not decision.firing and decision.short_ratio > decision.threshold
        gap = timedelta(minutes=p.episode_gap_minutes)
        if decision.firing:
            cooling = self._last_alert is not None and timestamp - self._last_alert < timedelta(hours=p.cooldown_hours)
            continuing = self._last_fire is not None and timestamp - self._last_fire <= gap
            if not cooling and not continuing:
                decision.alert = True
                self._episode_start = self._last_alert = timestamp
                self._alert_score = decision.ratio
            elif decision.ratio >= p.severity_step * self._alert_score:
                decision.escalated = True
                self._alert_score = decision.ratio
            self._last_fire = timestamp
            decision.severity = severity_of(decision.raw_ratio)
        decision.in_episode = self._last_fire is not None and timestamp - self._last_fire <= gap
        if decision.in_episode:
            self._day_in_episode = True
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
