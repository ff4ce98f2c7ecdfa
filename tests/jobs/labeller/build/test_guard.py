"""The guard's arithmetic: paired comparisons with their noise, and when a new head ships."""

from __future__ import annotations

import random

from jobs.labeller.build.guard import FLOOR_TOLERANCE, PAGE_TOLERANCE, Verdict, paired
from jobs.labeller.build.training import binary_f1, macro_f1


def test_paired_scores_match_the_plain_scores_and_identical_systems_have_no_noise() -> None:
    rng = random.Random(3)
    gold = [rng.choice(("negative", "neutral", "positive")) for _ in range(300)]
    new = [g if rng.random() < 0.7 else rng.choice(("negative", "neutral", "positive")) for g in gold]
    old = [g if rng.random() < 0.5 else rng.choice(("negative", "neutral", "positive")) for g in gold]
    cur, nw, noise = paired("sentiment", gold, new, old)
    assert abs(cur - macro_f1(gold, old)) < 1e-9 and abs(nw - macro_f1(gold, new)) < 1e-9
    assert 0.01 < noise < 0.15  # 300 texts: a few points
    assert paired("sentiment", gold, new, new)[2] == 0.0
    flags = [rng.random() < 0.3 for _ in range(200)]
    guess = [f if rng.random() < 0.8 else not f for f in flags]
    cur, nw, _ = paired("criticism", flags, guess, [False] * 200)
    assert abs(nw - binary_f1(flags, guess)) < 1e-9 and cur == 0.0


def test_noise_shrinks_with_more_corrections() -> None:
    rng = random.Random(5)

    def noise(n: int) -> float:
        gold = [rng.random() < 0.5 for _ in range(n)]
        a = [g if rng.random() < 0.8 else not g for g in gold]
        b = [g if rng.random() < 0.7 else not g for g in gold]
        return paired("toxic", gold, a, b)[2]

    assert noise(2000) < noise(100) / 2


def test_the_page_decides_and_the_floor_only_stops_a_collapse() -> None:
    assert Verdict("sentiment", "en", 500, 0.60, 0.64, 0.02).passes
    assert Verdict("sentiment", "en", 500, 0.60, 0.60 - PAGE_TOLERANCE / 2, 0.02).passes  # a tie ships
    assert not Verdict("sentiment", "en", 500, 0.60, 0.58, 0.02).passes
    # the old guard refused English heads 2 points below on the crowd tweets; the floor is wide
    assert Verdict("sentiment", "en", 600, 0.707, 0.665, 0.026, on="floor", reference="packaged").passes
    assert not Verdict("sentiment", "en", 600, 0.707, 0.707 - FLOOR_TOLERANCE - 0.01, 0.04, on="floor").passes
    line = Verdict("criticism", "fr", 1839, 0.570, 0.686, 0.021).line()
    assert line.startswith("criticism    fr: current 57.0 → new 68.6 (+11.6 ± 2.1, k-fold on 1,839") and line.endswith(
        "ok"
    )
