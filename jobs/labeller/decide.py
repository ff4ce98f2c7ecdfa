"""The learned decision for one batch: e5 query embeddings (once per batch) → centring → heads.

Every text with at least two letters goes through the encoder once (identical texts once, see
jobs.labeller.encoder); texts without words (emoji only, a tag, a link) keep the rules' answer.
The same raw embeddings then feed topics and the toxicity head (Labeller.label_columns).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jobs.labeller.centring import Centring
from jobs.labeller.encoder import DIM, embed, encoder_input
from jobs.labeller.features import rule_matrix
from jobs.labeller.heads import SENT_CLASSES, LabelModel, centre, prior_mean
from jobs.labeller.text import Prepared

# Decision thresholds of the binary heads when the artefact does not set its own.
DEFAULT_THRESHOLDS = {"criticism": 0.5, "constructive": 0.5}


def decide_batch(
    model: LabelModel,
    centring: Centring | None,
    docs: Sequence[Prepared],
    langs: Sequence[str],
    rules: Sequence[Any],
    brand: Sequence[bool],
    clock: Callable[[str], None] | None = None,
) -> tuple[np.ndarray, dict[int, tuple[str, float, bool, bool]]]:
    """(raw query-form embeddings (n, 384), before centring, zero rows for texts not encoded;
    index → (sentiment, its probability, criticism, constructive) for the texts the heads decided)."""
    n = len(docs)
    emb = np.zeros((n, DIM), dtype=np.float32)
    idx = [i for i, d in enumerate(docs) if d.n_letters >= 2]
    if not idx:
        return emb, {}
    inputs = [encoder_input(docs[i].raw) for i in idx]
    # one encoding per text, e5's query form (a classifier's features): heads, topics and toxicity
    sub = embed(inputs, query=True)
    emb[idx] = sub
    if clock is not None:
        clock("encoder")
    sub_langs = [langs[i] for i in idx]
    if centring is not None:
        if centring.learning:
            # each distinct text counts once in the own means (a copy-pasted comment is one voice)
            first = np.zeros(len(idx), dtype=np.float32)
            seen: set[str] = set()
            for k, text in enumerate(inputs):
                if text not in seen:
                    seen.add(text)
                    first[k] = 1.0
            centring.observe(sub, sub_langs, first)
        centred = centring.centre(sub, sub_langs)
    else:
        centred = centre(sub, sub_langs, prior_mean(model.means))
    x = np.hstack([centred, rule_matrix([docs[i] for i in idx], [rules[i] for i in idx])]).astype(np.float32)
    thresholds = {**DEFAULT_THRESHOLDS, **model.thresholds}
    sent_p = np.zeros((len(idx), 3), dtype=np.float32)
    crit_p = np.zeros(len(idx), dtype=np.float32)
    cons_p = np.zeros(len(idx), dtype=np.float32)
    for lang in set(sub_langs):
        rows = np.array([k for k, lg in enumerate(sub_langs) if lg == lang])
        head = model.head("sentiment", lang)
        p = head.proba(x[rows])
        sent_p[rows] = p[:, [head.classes.index(c) for c in SENT_CLASSES]]
        crit_p[rows] = model.head("criticism", lang).proba(x[rows])
        cons_p[rows] = model.head("constructive", lang).proba(x[rows])
    out: dict[int, tuple[str, float, bool, bool]] = {}
    for k, i in enumerate(idx):
        best = int(sent_p[k].argmax())
        is_crit = not brand[i] and bool(crit_p[k] >= thresholds["criticism"])
        is_cons = is_crit and bool(cons_p[k] >= thresholds["constructive"])
        out[i] = (SENT_CLASSES[best], round(float(sent_p[k, best]), 4), is_crit, is_cons)
    if clock is not None:
        clock("heads")
    return emb, out
