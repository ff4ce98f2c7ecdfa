"""The figures people read, defined once: the rollups, the digest, the report and the inbox use these.

- mood index: (positive − negative) / volume, in [−1, 1]; None when there is no volume.
- share: part / whole, None when the whole is empty.
"""

from __future__ import annotations


def mood_index(positive: int, negative: int, volume: int) -> float | None:
    """(positive − negative) / volume: +1 all positive, −1 all negative, 0 balanced or neutral."""
    return (positive - negative) / volume if volume else None


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
