"""The spike detector (jobs/alerts/spikes.py) and `ecoute spikes detect`: causal decisions, outliers vs
bursts, gaps, and clear errors (exit code 2) on bad CSV input."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoute.cli import app
from jobs.alerts.series_csv import SeriesFormatError, read_series_csv
from jobs.alerts.spikes import detect_alerts
from tests.jobs.alerts.data import poisson

SERIES = Path(__file__).resolve().parents[2] / "benchmarks" / "spike_series"
FMT = "%Y-%m-%d %H:%M:%S"


def calm_series(days: int = 14, bucket: int = 15, per_hour: float = 12.0, seed: int = 1):
    """Poisson counts with a day/night rhythm."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1)
    times, values = [], []
    for i in range(days * 24 * 60 // bucket):
        t = start + timedelta(minutes=bucket * i)
        rate = per_hour * bucket / 60 * (0.3 if t.hour < 7 else 1.4 if 18 <= t.hour < 22 else 1.0)
        times.append(t)
        values.append(poisson(rng, rate))
    return times, values


def test_calm_series_raises_no_alert() -> None:
    times, values = calm_series()
    assert detect_alerts(times, values, 15) == []


def test_single_outlier_is_not_an_alert_but_a_sustained_burst_is() -> None:
    times, values = calm_series()
    spike_at = times.index(datetime(2026, 10, 10, 15, 0))
    outlier = list(values)
    outlier[spike_at] += 40  # one spammer, one bucket
    assert detect_alerts(times, outlier, 15) == []
    burst = list(values)
    for i in range(spike_at, spike_at + 12):  # three hours at ~5x
        burst[i] += 12
    alerts = detect_alerts(times, burst, 15)
    assert len(alerts) == 1
    # Nine days known: the threshold is the largest daily peak (k = 1 within the budget), so the
    # 2-hour window needs a little more than an hour of the burst.
    assert datetime(2026, 10, 10, 15, 0) <= alerts[0] <= datetime(2026, 10, 10, 16, 30)


def test_decisions_are_causal_on_every_prefix() -> None:
    with open(SERIES / "holdout" / "real_217_15min.csv") as handle:
        times, values, bucket = read_series_csv(handle)
    full = detect_alerts(times, values, bucket)
    assert full, "this series has labelled crises"
    for cut in (len(times) // 3, len(times) // 2, times.index(full[0]) + 1, len(times) - 5):
        prefix = detect_alerts(times[:cut], values[:cut], bucket)
        assert prefix == [t for t in full if t < times[cut]], cut


def test_gaps_are_not_zeros() -> None:
    times, values = calm_series()
    # A six-hour outage (missing rows) must not make the next normal hours look like a spike.
    kept = [
        (t, v)
        for t, v in zip(times, values, strict=True)
        if not datetime(2026, 10, 8, 6) <= t < datetime(2026, 10, 8, 12)
    ]
    assert detect_alerts([t for t, _ in kept], [v for _, v in kept], 15) == []


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "series.csv"
    path.write_text(text)
    return path


def test_cli_prints_one_line_per_alert(tmp_path: Path) -> None:
    times, values = calm_series()
    start = times.index(datetime(2026, 10, 10, 15, 0))
    for i in range(start, start + 12):
        values[i] += 12
    path = _csv(
        tmp_path, "timestamp,value\n" + "".join(f"{t.strftime(FMT)},{v}\n" for t, v in zip(times, values, strict=True))
    )
    result = CliRunner().invoke(app, ["spikes", "detect", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert datetime.strptime(lines[0], FMT) >= datetime(2026, 10, 10, 15, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("time,count\n2026-10-01 00:00:00,1\n", ":1: expected the header"),
        ("timestamp,value\n2026-10-01 00:00:00,1\n2026-10-01 01:00,2\n", ":3: bad timestamp"),
        ("timestamp,value\n2026-10-01 00:00:00,1\n2026-10-01 01:00:00,-2\n", ":3: bad value"),
        ("timestamp,value\n2026-10-01 00:00:00,1\n2026-10-01 01:00:00,abc\n", ":3: bad value"),
        ("timestamp,value\n2026-10-01 01:00:00,1\n2026-10-01 00:00:00,2\n", ":3: out-of-order"),
        ("timestamp,value\n2026-10-01 00:00:00,1\n2026-10-01 00:00:00,2\n", ":3: duplicate"),
        ("timestamp,value\n2026-10-01 00:00:00,1,7\n", ":2: expected 2 fields"),
        ("timestamp,value\n2026-10-01 00:00:00,1\n2026-10-01 02:00:00,1\n2026-10-01 04:00:00,1\n", "1 to 60 minutes"),
    ],
)
def test_cli_rejects_bad_csv_with_exit_code_2(tmp_path: Path, text: str, message: str) -> None:
    result = CliRunner().invoke(app, ["spikes", "detect", str(_csv(tmp_path, text))])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()), result.output


def test_reader_accepts_bom_crlf_and_gaps() -> None:
    times, values, bucket = read_series_csv(
        [
            "\ufefftimestamp,value\r\n",
            "2026-10-01 00:00:00,1\r\n",
            "2026-10-01 00:05:00,2\r\n",
            "2026-10-01 00:20:00,0\r\n",
        ]
    )
    assert bucket == 5 and values == [1, 2, 0] and len(times) == 3
    with pytest.raises(SeriesFormatError):
        read_series_csv(["timestamp,value", "2026-10-01 00:00:30,1", "2026-10-01 00:01:00,1"])


def _with_daily_bursts(days: int = 21, bucket: int = 15, size: float = 12.0):
    """The calm series plus an ordinary burst every day at 20:00 for 45 min (a scheduled poster)."""
    times, values = calm_series(days=days, bucket=bucket)
    for i, t in enumerate(times):
        if t.hour == 20 and t.minute < 45:
            values[i] += size
    return times, values


def test_a_rise_the_page_makes_every_day_is_not_an_alert_but_a_bigger_one_is() -> None:
    times, values = _with_daily_bursts()
    assert detect_alerts(times, values, 15) == []  # every day's 20:00 burst is ordinary for this page
    crisis = list(values)
    start = times.index(datetime(2026, 10, 18, 10, 0))
    for i in range(start, start + 12):  # three hours at ~6x the usual level, at an unusual time
        crisis[i] += 15
    assert [t.date() for t in detect_alerts(times, crisis, 15)] == [datetime(2026, 10, 18).date()]


def test_a_short_burst_goes_to_the_digest_not_to_an_email() -> None:
    from jobs.alerts.spikes import run_detector

    times, values = calm_series(days=14)
    start = times.index(datetime(2026, 10, 11, 15, 0))
    values[start] += 25  # 15 minutes at ~8x: the 1-hour window sees it, the 2-hour one does not agree
    decisions = run_detector(times, values, 15)
    assert not any(d.alert for d in decisions)
    assert any(d.short_burst for d in decisions if d.timestamp.date() == datetime(2026, 10, 11).date())


def test_each_decision_explains_itself() -> None:
    from jobs.alerts.spikes import run_detector

    times, values = calm_series(days=14)
    start = times.index(datetime(2026, 10, 11, 15, 0))
    for i in range(start, start + 16):
        values[i] += 15
    [alert] = [d for d in run_detector(times, values, 15) if d.alert]
    assert alert.window_minutes == 120 and alert.observed > 2 * alert.baseline > 0
    assert alert.yesterday is not None and alert.last_week is not None
    assert alert.ratio > alert.threshold >= 2.0 and alert.usual_peak is not None
    assert alert.severity in ("warning", "high", "critical")


def test_cooldown_merges_a_second_wave_and_escalates_when_it_doubles() -> None:
    from jobs.alerts.spikes import run_detector

    times, values = calm_series(days=14)
    first = times.index(datetime(2026, 10, 11, 15, 0))
    for i in range(first, first + 8):
        values[i] += 10
    second = times.index(datetime(2026, 10, 11, 21, 0))  # six hours later, much bigger: same event
    for i in range(second, second + 8):
        values[i] += 60
    decisions = run_detector(times, values, 15)
    assert sum(d.alert for d in decisions) == 1
    assert any(d.escalated for d in decisions if d.timestamp >= datetime(2026, 10, 11, 21, 0))


def test_budget_sets_the_rank_of_the_threshold() -> None:
    from jobs.alerts.spikes import SpikeParams

    assert SpikeParams().rank == 2  # one false email per 14 days over 28 days of history
    assert SpikeParams(false_alerts_per_14d=0.5).rank == 1
    assert SpikeParams(false_alerts_per_14d=3.0).rank == 6
    # Fewer days known: the largest rank whose k / (n + 1) stays within the budget (at least 1).
    assert [SpikeParams().rank_for(n) for n in (3, 13, 26, 27, 28)] == [1, 1, 1, 2, 2]


def test_same_clock_time_yesterday_follows_the_page_timezone_across_dst() -> None:
    from jobs.alerts.spikes import SpikeDetector, SpikeParams

    paris = SpikeDetector(60, SpikeParams(timezone="Europe/Paris"))
    # 2026-10-25 is the end of summer time in Paris: 12:00 local is 11:00 UTC, the day before 10:00 UTC.
    assert paris._days_before(datetime(2026, 10, 25, 11, 0), 1) == datetime(2026, 10, 24, 10, 0)
    assert SpikeDetector(60)._days_before(datetime(2026, 10, 25, 11, 0), 1) == datetime(2026, 10, 24, 11, 0)


def test_a_rise_that_lasts_is_caught_below_the_pages_burst_peaks() -> None:
    """A page with a 30-minute cascade at ~10x every day at a random hour: a rise to ~4x is smaller
    than those bursts on the 1 h / 2 h windows, but it lifts every half hour of the 2 h window,
    which no cascade does. It fires on the sustained evidence, and the cascades never do."""
    from jobs.alerts.spikes import run_detector

    rng = random.Random(7)
    times, values = calm_series(days=21)
    for day in range(21):
        start = times.index(datetime(2026, 10, 1, rng.randrange(8, 22)) + timedelta(days=day))
        for i in range(start, start + 2):
            values[i] += 30
    assert detect_alerts(times, values, 15) == []
    crisis = list(values)
    start = times.index(datetime(2026, 10, 18, 10, 0))
    for i in range(start, start + 12):  # three hours at ~4x the usual level
        crisis[i] += 9
    [alert] = [d for d in run_detector(times, crisis, 15) if d.alert]
    assert alert.timestamp.date() == datetime(2026, 10, 18).date()
    assert alert.fired_on == "sustained" and alert.ratio < alert.threshold
    assert alert.sustained_ratio > alert.sustained_threshold >= 2.0
