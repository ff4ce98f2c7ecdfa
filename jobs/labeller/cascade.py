"""The cascade: rules decide what they are sure of; the encoder heads decide the rest.

A text goes to the encoder (≈ 1 ms) only when the rules are unsure of its sentiment: weak or
conflicting evidence. Confident rule decisions (strong one-sided evidence) are kept as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jobs.labeller.models import EMBED_DIM, SENT_CLASSES, Heads, features
from jobs.labeller.text import Prepared

RULE_CONFIDENT = 0.45  # |compound| at or above which one-sided rule evidence is trusted
ENCODED_LANGS = {"fr", "en", "es", "de", "it", "pt", "nl"}


def needs_model(doc: Prepared, lang: str, rule: Any) -> bool:
    if lang not in ENCODED_LANGS or doc.n_letters < 3:
        return False
    if rule.hits == 0:
        # nothing the rules know: a plain question is neutral, anything else needs the encoder
        return not rule.question
    conflicting = rule.pos > 0 and rule.neg > 0
    return conflicting or abs(rule.compound) < RULE_CONFIDENT


def refine(
    heads: Heads,
    docs: Sequence[Prepared],
    langs: Sequence[str],
    rules: Sequence[Any],
    sentiments: list[str],
    sent_scores: list[float],
) -> tuple[dict[int, float], list[int], np.ndarray]:
    """Overwrite sentiment for uncertain texts in place.

    Returns (criticism probability by index, the indices encoded, their sentence embeddings).
    """
    idx = [i for i, (d, lang, r) in enumerate(zip(docs, langs, rules, strict=True)) if needs_model(d, lang, r)]
    if not idx:
        return {}, [], np.zeros((0, 512), dtype=np.float32)
    # Identical texts (very common: "Merci", "Top") are encoded once.
    unique: dict[str, int] = {}
    for i in idx:
        unique.setdefault(docs[i].clean, len(unique))
    first = {k: next(i for i in idx if docs[i].clean == k) for k in unique} if len(unique) < len(idx) else None
    if first is not None:
        reps = [first[k] for k in unique]
        x = features([docs[i] for i in reps], [rules[i] for i in reps])
    else:
        x = features([docs[i] for i in idx], [rules[i] for i in idx])
    p_sent, p_crit = heads.predict(x)
    out: dict[int, float] = {}
    rows = [unique[docs[i].clean] for i in idx] if first is not None else list(range(len(idx)))
    for i, row in zip(idx, rows, strict=True):
        k = int(p_sent[row].argmax())
        sentiments[i] = SENT_CLASSES[k]
        sent_scores[i] = round(float(p_sent[row, k]), 4)
        out[i] = float(p_crit[row])
    return out, idx, x[rows, :EMBED_DIM]
