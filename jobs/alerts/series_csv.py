"""Series files for ``ecoute spikes detect FILE.csv`` and the benchmarks: ``timestamp,value`` rows
in time order on a regular bucket grid; bad input gets an error naming the line."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from datetime import datetime

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


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
            raise SeriesFormatError(
                f"{name}:{number}: expected 2 fields 'timestamp,value', got {len(parts)}: {line[:80]!r}"
            )
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
            raise SeriesFormatError(
                f"{name}:{number}: {what} timestamp {parts[0]} (rows must be in increasing time order)"
            )
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
