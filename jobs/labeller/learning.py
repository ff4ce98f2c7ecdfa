"""Active learning: which mentions are worth the community manager's time to label.

The heads say how sure they are of each text; the texts they are least sure of teach them most —
as long as they are not twenty copies of one comment. ``choose`` picks, among the most uncertain
texts, a diverse set: greedy, each pick the most uncertain text not too similar (cosine of centred
e5 embeddings) to the ones already picked, near-duplicates never twice.

Used by `ecoute feedback suggest --pool FILE --n N` and by the inbox's "Aidez Écoute à apprendre"
page (inbox/learning.py); measured by tests/benchmarks/bench_active_learning.py. Numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# How much each judgment's doubt counts in the choice. Sentiment is labelled on every mention; on
# real tweets (tests/benchmarks/bench_active_learning.py, a language without shipped tweets, 300
# labels) ranking by sentiment's doubt alone gave 64.4 / 62.6 macro-F1 (held-out / other corpus),
# with criticism's and toxicity's doubt added at 2:1:1 63.8 / 60.8, random draws 63.5 / 59.6.
# Their doubts are still computed (Doubt.per_judgment) for whoever wants to weigh them.
WEIGHTS = {"sentiment": 1.0, "criticism": 0.0, "toxic": 0.0}
CANDIDATES_PER_PICK = 8  # the pick is made among the n × 8 most uncertain texts
SIMILARITY_PENALTY = 0.5  # uncertainty lost per unit of cosine similarity to the nearest pick
NEAR_DUPLICATE = 0.92  # centred-embedding cosine from which two texts say the same thing


@dataclass
class Doubt:
    """Per text: how unsure the heads are (0 sure … 1 coin toss) and its centred embedding."""

    uncertainty: np.ndarray  # (n,)
    vectors: np.ndarray  # (n, d), unit length; zero rows for texts without words
    per_judgment: dict[str, np.ndarray]


def doubt(labeller: Any, texts: Sequence[str]) -> Doubt:
    """How unsure `labeller`'s heads are of each text (texts without words: 0, never asked).

    The same features as the labels (jobs.labeller.decide): e5 query embedding centred on the
    labeller's means — read, never fed — and the rule features; toxicity from its own stage."""
    from jobs.labeller.encoder import DIM, embed, encoder_input
    from jobs.labeller.features import rule_matrix
    from jobs.labeller.heads import SENT_CLASSES, apply_toxic_heads, centre, prior_mean

    n = len(texts)
    rp = labeller._rule_pass(list(texts), None, None)
    docs, langs = rp.docs, rp.langs
    idx = [i for i, d in enumerate(docs) if d.n_letters >= 2]
    per = {task: np.zeros(n, dtype=np.float32) for task in WEIGHTS}
    vectors = np.zeros((n, DIM), dtype=np.float32)
    if not idx or labeller.model is None:
        return Doubt(np.zeros(n, dtype=np.float32), vectors, per)
    model = labeller.model
    raw = np.zeros((n, DIM), dtype=np.float32)
    raw[idx] = embed([encoder_input(docs[i].raw) for i in idx], query=True)
    sub_langs = [langs[i] for i in idx]
    centring = getattr(labeller, "_centring", None)
    centred = (
        centring.centre(raw[idx], sub_langs)
        if centring is not None
        else centre(raw[idx], sub_langs, prior_mean(model.means))
    )
    vectors[idx] = centred
    x = np.hstack([centred, rule_matrix([docs[i] for i in idx], [rp.rules[i] for i in idx])]).astype(np.float32)
    for lang in set(sub_langs):
        rows = np.array([k for k, lg in enumerate(sub_langs) if lg == lang])
        at = np.array(idx)[rows]
        head = model.head("sentiment", lang)
        p = head.proba(x[rows])[:, [head.classes.index(c) for c in SENT_CLASSES]]
        top = np.sort(p, axis=1)
        per["sentiment"][at] = 1.0 - (top[:, -1] - top[:, -2])  # margin between the two likeliest
        per["criticism"][at] = 1.0 - np.abs(2 * model.head("criticism", lang).proba(x[rows]) - 1)
    scores, categories = labeller._toxic.label_many(docs, langs, embeddings=raw)
    apply_toxic_heads(model, raw, langs, scores, categories, rp.brand)
    tox = np.array(scores, dtype=np.float32)
    per["toxic"][idx] = 1.0 - np.abs(2 * tox[idx] - 1)
    total = sum(WEIGHTS.values()) or 1.0
    uncertainty = np.asarray(sum(WEIGHTS[t] * per[t] for t in WEIGHTS) / total, dtype=np.float32)
    return Doubt(uncertainty, vectors, per)


def choose(d: Doubt, n: int, texts: Sequence[str] | None = None) -> list[int]:
    """Indices of `n` texts to ask about, most useful first: uncertain and diverse (see module doc)."""
    if n <= 0:
        return []
    askable = np.flatnonzero(np.abs(d.vectors).sum(axis=1) > 0)
    if texts is not None:  # the same words twice (case, spaces aside) are one question
        seen: set[str] = set()
        keep = []
        for i in askable:
            key = " ".join(str(texts[int(i)]).lower().split())
            if key not in seen:
                seen.add(key)
                keep.append(i)
        askable = np.array(keep, dtype=int)
    order = askable[np.argsort(-d.uncertainty[askable], kind="stable")]
    pool = order[: max(n * CANDIDATES_PER_PICK, n)]
    if len(pool) == 0:
        return []
    vec = d.vectors[pool]
    gain = d.uncertainty[pool].astype(np.float64)
    nearest = np.full(len(pool), -1.0)  # cosine to the nearest pick so far
    picked: list[int] = []
    alive = np.ones(len(pool), dtype=bool)
    while len(picked) < n and alive.any():
        score = np.where(alive, gain - SIMILARITY_PENALTY * np.maximum(nearest, 0.0), -np.inf)
        best = int(np.argmax(score))
        picked.append(int(pool[best]))
        alive[best] = False
        sims = vec @ vec[best]
        nearest = np.maximum(nearest, sims)
        alive &= sims < NEAR_DUPLICATE
    return picked


def suggest(labeller: Any, texts: Sequence[str], n: int) -> list[int]:
    """The `n` texts (indices) the labeller's heads would learn most from, diverse."""
    return choose(doubt(labeller, texts), n, texts)
