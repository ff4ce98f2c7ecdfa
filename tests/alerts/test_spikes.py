"""The spike detector (jobs/spikes.py) and `ecoute spikes detect`: causal decisions, outliers vs
bursts, gaps, and clear errors (exit code 2) on bad CSV input."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoute.cli import app
from jobs.spikes import SeriesFormatError, detect_alerts, read_series_csv

SERIES = Path(__file__).resolve().parents[1] / "benchmarks" / "spike_series"
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
        values.append(_poisson(rng, rate))
    return times, values


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


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
    assert datetime(2026, 10, 10, 15, 0) <= alerts[0] <= datetime(2026, 10, 10, 16, 0)


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
    kept = [(t, v) for t, v in zip(times, values, strict=True) if not datetime(2026, 10, 8, 6) <= t < datetime(2026, 10, 8, 12)]
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
    path = _csv(tmp_path, "timestamp,value\n" + "".join(f"{t.strftime(FMT)},{v}\n" for t, v in zip(times, values, strict=True)))
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
        ["\ufefftimestamp,value\r\n", "2026-10-01 00:00:00,1\r\n", "2026-10-01 00:05:00,2\r\n", "2026-10-01 00:20:00,0\r\n"]
    )
    assert bucket == 5 and values == [1, 2, 0] and len(times) == 3
    with pytest.raises(SeriesFormatError):
        read_series_csv(["timestamp,value", "2026-10-01 00:00:30,1", "2026-10-01 00:01:00,1"])
