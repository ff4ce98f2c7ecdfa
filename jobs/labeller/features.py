"""Rule features beside the embedding: what the hand-written rules know, as inputs the heads weigh."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from jobs.labeller.text import Prepared

# Rule features are few beside 384 embedding dimensions: scaled so the L2 penalty does not drown them.
FEATURE_SCALE = 2.0
N_RULE_FEATURES = 8


def rule_matrix(docs: Sequence[Prepared], rules: Sequence[Any] | None = None) -> np.ndarray:
    """(n, 8): lexicon compound, positive and negative evidence, question, complaint pattern, brand
    addressed, length, emoji — each scaled by FEATURE_SCALE."""
    if not docs:
        return np.zeros((0, N_RULE_FEATURES), dtype=np.float32)
    return FEATURE_SCALE * rule_features(docs, rules)


def rule_features(docs: Sequence[Prepared], rules: Sequence[Any] | None = None) -> np.ndarray:
    """The unscaled (n, 8) rule features of `rule_matrix`."""
    from jobs.labeller.criticism import complaint_flags, target_flags
    from jobs.labeller.sentiment import score_rules

    if rules is None:
        rules = [score_rules(d) for d in docs]
    complaint = complaint_flags(docs)
    target = target_flags(docs)
    feats = np.zeros((len(docs), N_RULE_FEATURES), dtype=np.float32)
    for i, (d, r) in enumerate(zip(docs, rules, strict=True)):
        feats[i] = (
            r.compound,
            math.tanh(r.pos / 4),
            math.tanh(r.neg / 4),
            1.0 if r.question else 0.0,
            1.0 if complaint[i] else 0.0,
            1.0 if target[i] else 0.0,
            math.log1p(d.n_words) / 4,
            1.0 if d.emoji else 0.0,
        )
    return feats
