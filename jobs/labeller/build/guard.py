"""The guard of `ecoute models build`: does a new head ship? The page decides; public data is a floor.

For every judgment (sentiment, criticism, constructive, toxic) and language with its own corrections:
1. **the page's own corrections decide**: the new recipe's predictions out of fold (k-fold: each
   correction predicted by heads that never saw it) against the current model's predictions on the
   same corrections (those it was not trained on). The comparison is *paired* — the same texts,
   both systems — and its noise is a paired bootstrap over those corrections (the 95 % half-width of
   the difference). A new head ships when it is not worse than the current one on them
   (difference ≥ −PAGE_TOLERANCE: a tie ships, the page's newest reading wins).
2. **the generic shipped set is only a safety floor** (English sentiment: the held-out crowd tweets
   of the shipped corpus, never trained on): a new English head is refused only when it loses more
   than FLOOR_TOLERANCE against the *packaged* model there — a page whose English differs from
   crowd tweets may move away from them; a broken set of corrections (e.g. every label inverted)
   may not. The floor is measured against the packaged model, not the current one, so that a
   series of builds cannot drift below it step by step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jobs.labeller.heads import SENT_CLASSES

PAGE_TOLERANCE = 0.005  # half a point: a tie ships
# Measured on the 600 held-out tweets (paired 95 % noise ±2.6–4 points): 800 English comments of the
# demo month, another domain labelled consistently, cost the packaged model's English −4.2 ± 2.6 and
# ship; 60 corrections whose labels are all inverted cost −13.0 ± 4.0 and must not. Halfway: 8 points.
FLOOR_TOLERANCE = 0.08
BOOTSTRAP = 1000
BOOTSTRAP_SEED = 20261207


@dataclass
class Verdict:
    task: str
    lang: str
    n: int
    current: float
    new: float
    noise: float  # 95 % half-width of the paired difference (bootstrap)
    on: str = "page"  # "page": the page's corrections (k-fold); "floor": the generic shipped set
    reference: str = "current"  # what `current` is: the current model, or the packaged one (floor)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def delta(self) -> float:
        return self.new - self.current

    @property
    def passes(self) -> bool:
        if self.on == "floor":
            return self.delta >= -FLOOR_TOLERANCE
        return self.delta >= -PAGE_TOLERANCE

    def line(self) -> str:
        where = (
            f"k-fold on {self.n:,} of the page's corrections"
            if self.on == "page"
            else f"floor: {self.n:,} held-out shipped tweets, {self.reference} model, may lose {100 * FLOOR_TOLERANCE:.0f}"
        )
        mark = "ok" if self.passes else ("worse" if self.on == "page" else "below the floor")
        return (
            f"{self.task:<12} {self.lang}: {self.reference} {100 * self.current:.1f} → new {100 * self.new:.1f} "
            f"({100 * self.delta:+.1f} ± {100 * self.noise:.1f}, {where}) {mark}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "lang": self.lang,
            "n": self.n,
            "current": round(self.current, 4),
            "new": round(self.new, 4),
            "noise": round(self.noise, 4),
            "on": self.on,
            "reference": self.reference,
            "passes": self.passes,
        }


def _codes(task: str, values: Sequence[Any]) -> np.ndarray:
    if task == "sentiment":
        return np.array([SENT_CLASSES.index(v) for v in values], dtype=np.int64)
    return np.array([1 if v else 0 for v in values], dtype=np.int64)


def _scores(task: str, gold: np.ndarray, pred: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """The task's score (macro-F1 for sentiment, F1 of the true class otherwise) of each resample."""
    k = 3 if task == "sentiment" else 2
    b = samples.shape[0]
    cells = (gold[samples] * k + pred[samples]) + (np.arange(b)[:, None] * k * k)
    confusion = np.bincount(cells.ravel(), minlength=b * k * k).reshape(b, k, k).astype(np.float64)
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    fp = confusion.sum(axis=1) - tp
    fn = confusion.sum(axis=2) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return f1.mean(axis=1) if task == "sentiment" else f1[:, 1]


def paired(task: str, gold: Sequence[Any], new: Sequence[Any], current: Sequence[Any]) -> tuple[float, float, float]:
    """(current score, new score, 95 % half-width of new − current by paired bootstrap)."""
    g, a, c = _codes(task, gold), _codes(task, new), _codes(task, current)
    whole = np.arange(len(g))[None, :]
    cur, nw = float(_scores(task, g, c, whole)[0]), float(_scores(task, g, a, whole)[0])
    if len(g) < 2:
        return cur, nw, 1.0
    samples = np.random.default_rng(BOOTSTRAP_SEED).integers(0, len(g), size=(BOOTSTRAP, len(g)))
    diff = _scores(task, g, a, samples) - _scores(task, g, c, samples)
    low, high = np.percentile(diff, [2.5, 97.5])
    return cur, nw, float((high - low) / 2)
