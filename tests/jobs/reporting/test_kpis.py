"""The figures defined once (jobs/reporting/kpis.py): what the rollups, the digest and the report print."""

from __future__ import annotations

import pytest

from jobs.reporting.kpis import mood_index, share


def test_mood_index_runs_from_all_negative_to_all_positive() -> None:
    assert mood_index(4, 0, 4) == 1.0
    assert mood_index(0, 4, 4) == -1.0
    assert mood_index(3, 1, 8) == pytest.approx(0.25)  # neutral items dilute the mood
    assert mood_index(0, 0, 0) is None  # no volume, no mood (not a neutral 0)


def test_share_of_nothing_is_unknown() -> None:
    assert share(1, 4) == 0.25
    assert share(0, 0) is None
