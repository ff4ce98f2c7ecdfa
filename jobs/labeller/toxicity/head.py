"""The learned part of toxicity: a calibrated logistic head on the labeller's e5 embeddings.

It sees what the templates cannot (paraphrased abuse, other languages), but was trained on English
insults only (jobs/labeller/build/toxicity_head.py), so it only decides texts aimed at someone — a second person or an
identity group — that the rules left under the threshold; elsewhere it is capped below the threshold.
Numpy only at run time: the coefficients are ``jobs/labeller/artefacts/toxicity_head.npz``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jobs.labeller.text import Prepared

ARTEFACT = Path(__file__).resolve().parents[1] / "artefacts" / "toxicity_head.npz"
# Words aiming a text at one person. Not "vous/votre": on a brand's page they address the brand, and
# asking the encoder about every complaint would cost more than the rest of the labeller.
SECOND_PERSON_RE = re.compile(r"\b(tu|toi|t'|te|ta|ton|tes|you|your|u|ur|ya|yourself|t'es|t'as)\b")
# The head flags a text it is this sure of (calibrated probability), when the text is aimed. 0.75 on
# the query form keeps the precision of the passage-form head at 0.8 (out-of-fold 0.888) with more
# recall; on the held-out fifth of the insult corpus: P 0.872, R 0.529 (passage form at 0.8: P 0.847,
# R 0.456). docs/labels.md, *Quality*.
HEAD_THRESHOLD = 0.75
UNAIMED_CAP = 0.45
# Rule score from which a "you" text is worth encoding when the batch's embeddings are not given
# (a swear word scores 0.35, a mild insult not aimed 0.3 or more).
SUSPICIOUS = 0.3
# What the stage encodes itself: the head was trained on comments' first 300 characters (build/toxicity_head.py),
# and the encoder's cost grows with length.
HEAD_CHARS = 300


class Head:
    def __init__(self, weights: np.ndarray, bias: float, platt: np.ndarray) -> None:
        self.weights = weights.astype(np.float32)
        self.bias = float(bias)
        self.platt = (float(platt[0]), float(platt[1]))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        margin = vectors @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-(self.platt[0] * margin + self.platt[1])))

    def refine(
        self,
        docs: Sequence[Prepared],
        langs: Sequence[str],
        indices: list[int],
        scores: list[float],
        categories: list[list[str]],
        embeddings: np.ndarray | None,
    ) -> None:
        """Raise the scores of `indices` (texts the rules left undecided) where the head is sure, in place."""
        from jobs.labeller.toxicity.hate import available, lexicon

        given = embeddings is not None and len(embeddings) == len(docs)
        aimed: dict[int, str] = {}
        for i in indices:
            lang = langs[i] if available(langs[i]) else "en"
            text = docs[i].folded
            if lexicon(lang).group_re.search(text):
                aimed[i] = "hate"
            elif SECOND_PERSON_RE.search(text) and (given or scores[i] >= SUSPICIOUS):
                # without the batch's embeddings, encoding costs ~10x the rest of the stage per text:
                # only texts where the rules already saw swearing or a mild insult are worth it
                aimed[i] = "insult"
        if not aimed:
            return
        todo = sorted(aimed)
        probabilities = dict(zip(todo, map(float, self.probabilities(_vectors(docs, todo, embeddings))), strict=True))
        # A long text is read whole: its last HEAD_CHARS too, when it is aimed past the first ones
        # (one more encoding, for these texts only: nearly none of a page's stream).
        ends = {i: end for i in todo if (end := _end_window(docs[i])) is not None}
        if ends:
            from jobs.labeller.encoder import embed

            for i, p_end in zip(ends, self.probabilities(embed(list(ends.values()), query=True)), strict=True):
                probabilities[i] = max(probabilities[i], float(p_end))
        for i in todo:
            p = probabilities[i]
            if p >= HEAD_THRESHOLD:
                scores[i] = max(scores[i], 0.5 + (p - HEAD_THRESHOLD) / (1 - HEAD_THRESHOLD) * 0.3)
                if aimed[i] not in categories[i]:
                    categories[i].append(aimed[i])
            else:
                scores[i] = max(scores[i], min(p * 0.5, UNAIMED_CAP))


def _end_window(doc: Prepared) -> str | None:
    """The last HEAD_CHARS of a long text when they hold a second person the first ones do not."""
    from jobs.labeller.text import fold

    whole = f"{doc.clean} {doc.tail}" if doc.tail else doc.clean
    if len(whole) <= HEAD_CHARS:
        return None
    end = whole[-HEAD_CHARS:]
    return end if SECOND_PERSON_RE.search(fold(end.lower())) else None


def _vectors(docs: Sequence[Prepared], todo: list[int], embeddings: np.ndarray | None) -> np.ndarray:
    """The e5 vectors of `todo`: from the batch's embeddings when given, else computed now."""
    if embeddings is not None and len(embeddings) == len(docs):
        rows = np.asarray(embeddings[todo], dtype=np.float32)
        ok = np.isfinite(rows).all(axis=1) & (np.abs(rows).sum(axis=1) > 0)
        if ok.all():
            return rows
        missing = [todo[k] for k in np.flatnonzero(~ok)]
        from jobs.labeller.encoder import embed

        rows[~ok] = embed([docs[i].clean[:HEAD_CHARS] for i in missing], query=True)
        return rows
    from jobs.labeller.encoder import embed

    return embed([docs[i].clean[:HEAD_CHARS] for i in todo], query=True)


def load_head(path: Path = ARTEFACT) -> Head | None:
    """The trained head, or None when its artefact is absent (the rules still work alone)."""
    if not path.exists():
        return None
    with np.load(path) as data:
        return Head(data["weights"], float(data["bias"]), data["platt"])
