"""Rule features beside the embedding: what the hand-written rules know, as inputs the heads weigh."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jobs.labeller.text import Prepared

# Rule features are few beside 384 embedding dimensions: scaled so the L2 penalty does not drown them.
FEATURE_SCALE = 2.0
N_RULE_FEATURES = 8


def rule_matrix(docs: Sequence[Prepared], rules: Sequence[Any] | None = None) -> np.ndarray:
    """(n, 8): lexicon compound, positive and negative evidence, question, complaint pattern, brand
    addressed, length, emoji (see jobs.labeller.models.rule_features)."""
    from jobs.labeller.models import rule_features

    if not docs:
        return np.zeros((0, N_RULE_FEATURES), dtype=np.float32)
    return FEATURE_SCALE * rule_features(docs, rules)
