"""The cascade: each stage decides what it is sure of and passes the rest on.

1. rules (every text, ~0.2 ms): strong one-sided lexicon evidence, or a plain question → done.
2. lite stage (~0.07 ms): a bag of USE's multilingual sub-word embeddings + rule features, with
   logistic-regression heads → done when its top probability ≥ LITE_CONFIDENT.
3. full USE encoder (~1 ms): the rest (about one text in six on a realistic stream).
Thresholds chosen on jobs/labeller/build/eval/*_dev.tsv; throughput measured by bench_labels.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jobs.labeller.text import Prepared
from tests.benchmarks.legacy_labeller.models import EMBED_DIM, SENT_CLASSES, Heads, features

RULE_CONFIDENT = 0.45  # |compound| at or above which one-sided rule evidence is trusted
LITE_CONFIDENT = 0.55  # lite-stage probability at or above which the full encoder is skipped
ENCODED_LANGS = {"fr", "en", "es", "de", "it", "pt", "nl"}


def needs_model(doc: Prepared, lang: str, rule: Any) -> bool:
    if lang not in ENCODED_LANGS or doc.n_letters < 3:
        return False
    if rule.hits == 0:
        # nothing the rules know: a plain question is neutral, anything else needs a model
        return not rule.question
    conflicting = rule.pos > 0 and rule.neg > 0
    return conflicting or abs(rule.compound) < RULE_CONFIDENT


def _dedupe(docs: Sequence[Prepared], idx: list[int]) -> tuple[list[int], list[int]]:
    """(one representative index per distinct text, row of each idx entry): identical texts
    (very common: "Merci", "Top") are computed once."""
    unique: dict[str, int] = {}
    reps: list[int] = []
    rows: list[int] = []
    for i in idx:
        key = docs[i].clean
        row = unique.get(key)
        if row is None:
            row = unique[key] = len(reps)
            reps.append(i)
        rows.append(row)
    return reps, rows


def refine(
    heads: tuple[Heads, Heads],
    docs: Sequence[Prepared],
    langs: Sequence[str],
    rules: Sequence[Any],
    sentiments: list[str],
    sent_scores: list[float],
) -> tuple[dict[int, float], list[int], np.ndarray]:
    """Overwrite sentiment for texts the rules are unsure of, in place.

    Returns (criticism probability by index, the indices that went through the full encoder,
    their sentence embeddings — reused for embedding topics).
    """
    full_heads, lite_heads = heads
    idx = [i for i, (d, lang, r) in enumerate(zip(docs, langs, rules, strict=True)) if needs_model(d, lang, r)]
    if not idx:
        return {}, [], np.zeros((0, EMBED_DIM), dtype=np.float32)
    reps, rows = _dedupe(docs, idx)
    x_lite = features([docs[i] for i in reps], [rules[i] for i in reps], lite=True)
    p_sent, p_crit = lite_heads.predict(x_lite)
    unsure = [k for k in range(len(reps)) if p_sent[k].max() < LITE_CONFIDENT]
    emb = np.zeros((0, EMBED_DIM), dtype=np.float32)
    if unsure:
        x_full = features([docs[reps[k]] for k in unsure], [rules[reps[k]] for k in unsure])
        full_sent, full_crit = full_heads.predict(x_full)
        p_sent[unsure] = full_sent
        p_crit[unsure] = full_crit
        emb = x_full[:, :EMBED_DIM]
    out: dict[int, float] = {}
    for i, row in zip(idx, rows, strict=True):
        k = int(p_sent[row].argmax())
        sentiments[i] = SENT_CLASSES[k]
        sent_scores[i] = round(float(p_sent[row, k]), 4)
        out[i] = float(p_crit[row])
    encoded_row = {k: n for n, k in enumerate(unsure)}
    encoded = [i for i, row in zip(idx, rows, strict=True) if row in encoded_row]
    enc_emb = (
        emb[[encoded_row[row] for i, row in zip(idx, rows, strict=True) if row in encoded_row]] if encoded else emb
    )
    return out, encoded, enc_emb
