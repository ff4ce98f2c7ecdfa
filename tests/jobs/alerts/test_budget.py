"""The per-page alert budget (jobs/alerts/spikes.py): alert days stay in the calibration, a page whose
volume moves to a new level alerts once per move, and managers' verdicts (useful: a true event
that must not hide the next one; not useful: an ordinary burst of this page). Simulated series:
regression tests only; the figures on real series come from tests/benchmarks/bench_spike_budget.py."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest

from jobs.alerts.spikes import SpikeDetector, Verdict, detect_alerts, run_detector
from tests.jobs.alerts.test_spikes import calm_series


def _rises(values: list[float], times: list[datetime], days: list[int], extra: float, hours: int = 3) -> list[float]:
    """``values`` with ``extra`` voices per 15-minute bucket for ``hours`` from 14:00 on each of ``days``."""
    out = list(values)
    for day in days:
        start = times.index(datetime(2026, 10, 1, 14) + timedelta(days=day))
        for i in range(start, start + hours * 4):
            out[i] += extra
    return out


def test_a_page_that_rises_alike_every_few_days_learns_its_rises_are_ordinary() -> None:
    """The same ×4 rise every third day: before, alert days left the calibration, so each one
    alerted again (ten emails in a month); now they are the page's ordinary bursts."""
    times, values = calm_series(days=42, seed=3)
    rises = list(range(9, 42, 3))
    alerts = detect_alerts(times, _rises(values, times, rises, 9.0), 15)
    assert 1 <= len(alerts) <= 3, alerts
    assert alerts[0].date() == (datetime(2026, 10, 1) + timedelta(days=9)).date()


def test_a_page_whose_volume_swings_keeps_its_budget() -> None:
    """The whole volume moves to a new level (× 1/4 to × 4) every 2 to 5 days: a move is a rise
    for a day, then the page's level. Over 8 weeks the alerts stay within the budget
    (1 per 14 days: 4); before, with alert days out of the calibration, this page got 15."""
    rng = random.Random(11)
    times, values = calm_series(days=56, seed=5)
    level, change, swung = 1.0, times[0] + timedelta(days=3), []
    for t, v in zip(times, values, strict=True):
        if t >= change:
            level, change = math.exp(rng.uniform(math.log(0.25), math.log(4))), t + timedelta(days=rng.uniform(2, 5))
        swung.append(float(round(v * level)))
    assert len(detect_alerts(times, swung, 15)) <= 4


@pytest.mark.parametrize("factor", [3, 6])
def test_a_page_that_moves_to_a_new_level_alerts_once(factor: int) -> None:
    """Before: one alert a day for four days, until the 7-day median caught up."""
    times, values = calm_series(days=42, seed=5)
    moved = [v * (factor if t >= datetime(2026, 10, 15, 9) else 1) for t, v in zip(times, values, strict=True)]
    [alert] = detect_alerts(times, moved, 15)
    assert datetime(2026, 10, 15, 9) < alert < datetime(2026, 10, 15, 12)


def _judged(times, values, verdict_of) -> list[datetime]:
    """Alerts when every alert gets ``verdict_of(alert time)`` a day later."""
    detector, pending, alerts = SpikeDetector(15), [], []
    for t, v in zip(times, values, strict=True):
        while pending and pending[0].start + timedelta(days=1) <= t:
            detector.judge(pending.pop(0))
        if detector.update(t, v).alert:
            alerts.append(t)
            pending.append(Verdict(t, verdict_of(t)))
    return alerts


def test_a_useful_verdict_keeps_a_true_event_from_hiding_the_next() -> None:
    times, values = calm_series(days=40, seed=8)
    crises = _rises(values, times, [15, 24], 14.0)
    unjudged = detect_alerts(times, crises, 15)
    assert [a.day for a in unjudged] == [16]  # the first crisis is now the page's largest day
    assert [a.day for a in _judged(times, crises, lambda t: "useful")] == [16, 25]


def test_a_not_useful_verdict_raises_the_pages_threshold_beyond_the_history() -> None:
    """Rises alike 30 days apart: unjudged, the first has left the 28-day history and the second
    alerts again; judged not useful, a rise must beat margin × its peak for 90 days."""
    times, values = calm_series(days=50, seed=9)
    rises = _rises(values, times, [10, 41], 9.0)
    assert len(detect_alerts(times, rises, 15)) == 2
    assert len(_judged(times, rises, lambda t: "not_useful")) == 1


def test_verdicts_count_from_their_episode_and_are_checked() -> None:
    times, values = calm_series(days=30, seed=8)
    crises = _rises(values, times, [15, 24], 14.0)
    [first] = detect_alerts(times, crises, 15)
    # Known before the run (the watch passes the stored verdicts): same decisions up to the episode.
    judged = run_detector(times, crises, 15, verdicts=[Verdict(first, "useful")])
    plain = run_detector(times, crises, 15)
    before = [i for i, t in enumerate(times) if t <= first]
    assert [judged[i].threshold for i in before] == [plain[i].threshold for i in before]
    assert [d.timestamp.day for d in judged if d.alert] == [16, 25]
    with pytest.raises(ValueError, match="verdict"):
        SpikeDetector(15).judge(Verdict(first, "maybe"))
