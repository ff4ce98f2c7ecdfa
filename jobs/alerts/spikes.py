"""Criticism spike detector: is this rise bigger than anything the page does on an ordinary day?

Small API (used by the spike-watch DAG, by ``ecoute spikes detect`` and by the benchmark)::

    detect_alerts(timestamps, values, bucket_minutes) -> list[timestamp]   # one per alert episode
    SpikeDetector(bucket_minutes, params).update(timestamp, value) -> Decision
    SpikeDetector.judge(Verdict(episode_start, "useful" | "not_useful"))   # a manager's verdict

Real social series burst all the time (retweet cascades, bots, giveaways): an hour at 3× its usual
level happens most days. So the detector does not ask "is this unlikely under a Poisson?" but
"is this bigger than the ordinary bursts this page had in the last ``history_days``?". At bucket t
(every decision uses only buckets up to t, so it is causal and a prefix gives the same alerts):

1. **Seasonal baseline**: the counts of the last ``short`` and ``long`` windows (1 h and 2 h by
   default) are compared with the median of the same windows at the same local clock time on each
   of the previous ``baseline_days`` days (a median ignores one day's burst; "same clock time"
   follows the page's time zone, DST included). The ratio ``(observed + c) / (baseline + c)``
   carries a pseudo-count ``c`` (``pseudo_count_per_hour``): three comments instead of one are
   not a crisis.
2. **Persistence**: the score is the smaller of the two window ratios, so a short burst (only the
   short window is high) never opens an email; it is flagged ``short_burst`` for the digest.
   A second, **sustained** score reads duration: the smallest ratio of the long window's half
   hours (each against the median of the same half hour on the previous days), so a 25-minute
   cascade at ×40 scores little and a rise that lasts the whole window scores its level. It has
   its own threshold, calibrated the same way on the page's past sustained rises; a decision
   fires when either score beats its threshold (``fired_on`` says which).
3. **The page's level**: a rise is measured beyond the page's level of the day before the window
   (its last 24 h against the same 24 h on the previous days, when higher): a page whose whole
   volume moved to a new level alerts when it moves, not on every day until the median catches up.
4. **Calibration on the page's own burstiness**: each complete day keeps its largest score; the
   threshold is the k-th largest of those daily maxima over the last ``history_days`` days, times
   ``margin``, and at least ``min_ratio``. If days were exchangeable, a new day beats the k-th
   largest of n previous ones with probability k / (n + 1): ``k`` is the largest rank within the
   alert budget ``false_alerts_per_14d`` (``k = floor(budget × (n + 1) / 14)``, at least 1), not
   a nominal p-value. Alert days stay in the calibration (a page that alerts often learns that
   such rises are ordinary for it) unless a manager judged the episode useful (a true event must
   not hide the next one). **Budget floor**: when the page's episodes of the last
   ``history_days`` not judged useful already used the budget, a rise must beat the one that used
   it up. An episode judged **not useful** is an ordinary burst of this page: for
   ``verdict_days`` a rise must beat ``margin`` × its peak (``judge``, ``Verdict``).
5. **Episodes**: the first firing bucket opens an episode and is reported; later firings extend
   it silently; a new episode cannot open within ``cooldown_hours`` of the last alert. Inside an
   episode, ``escalated`` marks the bucket where the score grew by ``severity_step`` × since the
   alert (worth a second email). Missing buckets are unobserved, not zeros.

Each decision carries its explanation: observed and baseline counts of the deciding window, the
ratio, the same window yesterday and last week, and the threshold the page's past bursts set.
Parameters were chosen on real tweet-volume series (docs/alerts.md gives the figures and the
leave-one-series-out check); simulated series are only unit tests.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable, Sequence
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
    # The page's level: rises are measured against the level of the day before the window (the
    # 24 h before it, against the same 24 h on the previous days), so a page whose whole volume
    # moved to a new level alerts once, when it moves, and not on every day until the median
    # baseline catches up. 0: off.
    level_hours: int = 24
    level_tolerance: float = 1.25  # a day this much above its usual volume is noise, not a new level
    verdict_days: int = 90  # a "not useful" episode stays one of the page's ordinary peaks this long

    def rank_for(self, days: int) -> int:
        """k for ``days`` known days: a new day beats the k-th largest of n previous ones with
        probability k / (n + 1) if days are exchangeable; the largest k within the budget (at least 1)."""
        return max(1, math.floor(self.false_alerts_per_14d * (days + 1) / 14 + 1e-9))

    @property
    def rank(self) -> int:
        """k for a full history (``history_days`` known days)."""
        return self.rank_for(self.history_days)


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
    level: float = 1.0  # the page's level the day before (rises are measured beyond it, >= 1)


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
class _Day:
    day: date
    burst: float  # the day's largest score
    sustained: float  # ...and largest sustained ratio


@dataclass
class _Episode:
    start: datetime
    days: set[date]
    peak: float = 0.0  # the largest scores while it lasted (what a "not useful" verdict remembers)
    peak_sustained: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """A manager's verdict on the alert episode that opened at ``start``: ``useful`` (a true
    event: its days leave the calibration) or ``not_useful`` (an ordinary burst of this page: for
    ``verdict_days`` a rise must beat ``margin`` × its peak). ``score``/``sustained``: the
    episode's peak scores as stored with the alert, used when the detector did not see the
    episode itself (older than the series it was given)."""

    start: datetime
    verdict: str
    score: float | None = None
    sustained: float | None = None


VERDICT_MATCH = timedelta(hours=3)  # a verdict judges the detector's episode opened this close to it


@dataclass
class SpikeDetector:
    """Online, causal detector. Feed buckets in time order with ``update``; read ``Decision``s.
    ``judge`` tells it a manager's verdict on one of its alerts (before or during the run)."""

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
        self._level = _Window(max(p.level_hours * 60, self.bucket_minutes)) if p.level_hours else None
        self._tz = None if p.timezone in ("UTC", "Z", "") else ZoneInfo(p.timezone)
        self._sums: dict[int, tuple[float, float, float, float]] = {}  # slot -> (short, long, part, level sums)
        self._slots: deque[int] = deque()
        self._last: datetime | None = None
        self._day: date | None = None
        self._day_max = self._day_sustained_max = 0.0
        self._daily: deque[_Day] = deque()
        self._episodes: list[_Episode] = []
        self._verdicts: list[Verdict] = []
        self._calibration: tuple[list[float], list[float], int, tuple[float, float]] | None = (
            None  # cached samples, days, floor
        )
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

    # -- verdicts -------------------------------------------------------------------------------
    def judge(self, verdict: Verdict) -> None:
        """A manager's verdict on an alert episode; it counts once the run has reached its start."""
        if verdict.verdict not in ("useful", "not_useful"):
            raise ValueError(f"verdict must be 'useful' or 'not_useful', got {verdict.verdict!r}")
        self._verdicts = [v for v in self._verdicts if abs(v.start - verdict.start) > VERDICT_MATCH] + [verdict]
        self._calibration = None

    def _episode_at(self, start: datetime) -> _Episode | None:
        return next((e for e in reversed(self._episodes) if abs(e.start - start) <= VERDICT_MATCH), None)

    # -- baseline and threshold -----------------------------------------------------------------
    def _past(self, t: datetime, days: int) -> tuple[float, float, float, float] | None:
        return self._sums.get(self._slot(self._days_before(t, days)))

    def _samples(self) -> tuple[list[float], list[float], int, tuple[float, float]]:
        """The page's ordinary daily peaks (burst, sustained), largest first; how many days of
        the history they come from; and the floor the "not useful" verdicts set. Every known day
        counts, alert days included (a page that alerts often learns that its rises are
        ordinary), except the days of episodes judged useful (a true event must not hide the
        next one). An episode judged not useful says "a rise this big is not worth an email on
        this page": for ``verdict_days`` a rise must beat its peak."""
        if self._calibration is not None:
            return self._calibration
        p = self.params
        now = self._last or datetime.min
        true_days: set[date] = set()
        floor = (0.0, 0.0)
        for v in self._verdicts:
            if v.start > now:
                continue
            episode = self._episode_at(v.start)
            day = self._local(v.start).date()
            if v.verdict == "useful":
                true_days |= (episode.days if episode else set()) | {day}
            elif self._day is not None and (self._day - day).days <= p.verdict_days:
                # Its peaks: the detector's own episode when it saw it, else those stored with the alert.
                score = episode.peak if episode else v.score
                score_sustained = episode.peak_sustained if episode else v.sustained
                floor = (max(floor[0], score or 0.0), max(floor[1], score_sustained or 0.0))
        days = [d for d in self._daily if d.day not in true_days]
        bursts = sorted((d.burst for d in days), reverse=True)
        sustained = sorted((d.sustained for d in days), reverse=True)
        self._calibration = (bursts, sustained, len(days), floor)
        return self._calibration

    def usual_peak(self, sustained: bool = False) -> float | None:
        """The k-th largest daily peak score (or sustained ratio) of the page's ordinary days
        (None: too few), k following the alert budget and the number of days known."""
        bursts, sustaineds, days, _ = self._samples()
        if days < self.params.min_history_days:
            return None
        sample = sustaineds if sustained else bursts
        return sample[min(self.params.rank_for(days), len(sample)) - 1]

    def budget_floor(self, sustained: bool = False) -> float:
        """When the page's episodes of the last ``history_days`` (not judged useful) already used
        the alert budget, the score that none of the last ``allowed`` would have beaten."""
        p = self.params
        if self._day is None:
            return 0.0
        allowed = max(1, round(p.false_alerts_per_14d * p.history_days / 14))
        useful = [v.start for v in self._verdicts if v.verdict == "useful" and self._last and v.start <= self._last]
        peaks = sorted(
            (
                e.peak_sustained if sustained else e.peak
                for e in self._episodes
                if (self._day - self._local(e.start).date()).days < p.history_days
                and not any(abs(e.start - u) <= VERDICT_MATCH for u in useful)
            ),
            reverse=True,
        )
        budget = peaks[allowed - 1] if len(peaks) >= allowed else 0.0
        judged = self._samples()[3][1 if sustained else 0] * (p.sustained_margin if sustained else p.margin)
        return max(budget, judged)

    def sustained_threshold(self) -> float:
        peak = self.usual_peak(sustained=True)
        p = self.params
        return (
            math.inf if peak is None else max(p.sustained_margin * peak, p.min_sustained_ratio, self.budget_floor(True))
        )

    def threshold(self) -> float:
        """The score a rise must beat now (inf while fewer than ``min_history_days`` are known)."""
        peak = self.usual_peak()
        return math.inf if peak is None else max(self.params.margin * peak, self.params.min_ratio, self.budget_floor())

    def _close_day(self, day: date) -> None:
        p = self.params
        if self._day is not None and self._day != day:
            if self._day_max > 0:  # a day with no baseline yet (warm-up) says nothing about bursts
                self._daily.append(_Day(self._day, self._day_max, self._day_sustained_max))
            while self._daily and (day - self._daily[0].day).days > p.history_days:
                self._daily.popleft()
            horizon = max(p.history_days, p.verdict_days) + 1
            self._episodes = [e for e in self._episodes if (day - self._local(e.start).date()).days <= horizon]
            self._day_max = self._day_sustained_max = 0.0
            self._calibration = None
        self._day = day

    def _level_factor(self, timestamp: datetime) -> float:
        """How far the page's volume of the day before the window is above its usual level (at
        least 1): rises are measured beyond it."""
        if self._level is None:
            return 1.0
        back = timedelta(minutes=self.long_minutes)
        now = self._sums.get(self._slot(timestamp - back))
        past = [
            s
            for s in (self._past(timestamp - back, k) for k in range(1, self.params.baseline_days + 1))
            if s is not None
        ]
        if now is None or len(past) < self.params.min_baseline_days:
            return 1.0
        c = self.params.pseudo_count_per_hour * self.params.level_hours
        level = (now[3] + c) / (statistics.median(s[3] for s in past) + c)
        return max(1.0, level / self.params.level_tolerance)

    # -- decision -------------------------------------------------------------------------------
    def update(self, timestamp: datetime, value: float) -> Decision:
        """Feed the bucket starting at ``timestamp`` (strictly after the previous one)."""
        if self._last is not None and timestamp <= self._last:
            raise ValueError(f"bucket {timestamp} is not after the previous one ({self._last})")
        if value < 0 or math.isnan(value):
            raise ValueError(f"bucket {timestamp}: count must be >= 0, got {value}")
        p = self.params
        if any(self._last is not None and self._last < v.start <= timestamp for v in self._verdicts):
            self._calibration = None  # a verdict starts to count
        self._last = timestamp
        today = self._local(timestamp).date()
        self._close_day(today)
        short_sum, long_sum = self._short.add(timestamp, value), self._long.add(timestamp, value)
        part_sum = self._part.add(timestamp, value)
        level_sum = self._level.add(timestamp, value) if self._level is not None else 0.0
        slot = self._slot(timestamp)
        self._sums[slot] = (short_sum, long_sum, part_sum, level_sum)
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
        level = self._level_factor(timestamp)
        c_part = p.pseudo_count_per_hour * self._part_minutes / 60
        self._part_ratios[slot] = (part_sum + c_part) / (base_part + c_part)
        # Every part of the long window (each ending ``part`` minutes before the next) must be high:
        # a 25-minute cascade lifts one or two parts, a crisis that lasts lifts all of them.
        step = self._part_minutes // self.bucket_minutes
        parts = [self._part_ratios.get(slot - j * step) for j in range(self._parts)]
        decision.sustained_ratio = min(r for r in parts if r is not None) / level if None not in parts else 0.0
        c_short = p.pseudo_count_per_hour * self.short_minutes / 60
        c_long = p.pseudo_count_per_hour * self.long_minutes / 60
        decision.level = level
        decision.short_ratio = (short_sum + c_short) / (base_short + c_short) / level
        decision.long_ratio = (long_sum + c_long) / (base_long + c_long) / level
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
                self._episodes.append(_Episode(timestamp, set()))
            elif decision.ratio >= p.severity_step * self._alert_score:
                decision.escalated = True
                self._alert_score = decision.ratio
            self._last_fire = timestamp
            decision.severity = severity_of(decision.raw_ratio)
        decision.in_episode = self._last_fire is not None and timestamp - self._last_fire <= gap
        if decision.in_episode and self._episodes:
            episode = self._episodes[-1]
            episode.days.add(today)
            episode.peak = max(episode.peak, decision.ratio)
            episode.peak_sustained = max(episode.peak_sustained, decision.sustained_ratio)
        return decision

    @property
    def episode_start(self) -> datetime | None:
        return self._episode_start


def run_detector(
    timestamps: Sequence[datetime],
    values: Sequence[float],
    bucket_minutes: int,
    params: SpikeParams | None = None,
    verdicts: Iterable[Verdict] = (),
) -> list[Decision]:
    """Every bucket's decision, in order (``verdicts``: the managers' verdicts known now; each
    counts from its episode's start)."""
    detector = SpikeDetector(bucket_minutes, params or SpikeParams())
    for verdict in verdicts:
        detector.judge(verdict)
    return [detector.update(t, float(v)) for t, v in zip(timestamps, values, strict=True)]


def detect_alerts(
    timestamps: Sequence[datetime], values: Sequence[float], bucket_minutes: int, params: SpikeParams | None = None
) -> list[datetime]:
    """Timestamps of the buckets at which an alert fires (one per episode). Causal."""
    return [d.timestamp for d in run_detector(timestamps, values, bucket_minutes, params) if d.alert]
