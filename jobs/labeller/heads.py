"""The labeller's decider: calibrated linear heads over e5 sentence embeddings (numpy only at run time).

Features of a text: its multilingual-e5-small embedding, **centred on its language's mean** and
re-normalised (without the centring, heads trained on English tweets put nearly every French text
in "neutral": the language itself is the largest direction in the embedding space), followed by the
rule features of `jobs.labeller.features.rule_matrix` (lexicon valence, complaint and brand-target
patterns, question, emoji…), scaled.

The artefact (`.npz`, written by `ecoute models build`, read here without sklearn or scipy) holds:
- per language, the prior mean embedding and how many texts it summarises (unlabelled text);
- heads per task (`sentiment` 3-class softmax; `criticism`, `constructive` binary) and per
  language, `*` being the head every language falls back to;
- a JSON `meta` block: version, creation time, training counts, quality figures.

The means a text is centred on at run time are the prior blended with the page's own texts: a
published, versioned input (jobs.labeller.centring), never state the labeller writes.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PACKAGED_ARTEFACT = HERE / "artefacts" / "e5-heads.npz"
ARTEFACT_GLOB = "e5-heads-*.npz"
ANY_LANG = "*"
SENT_CLASSES = ("negative", "neutral", "positive")


@dataclass
class LinearHead:
    classes: tuple[str, ...]
    coef: np.ndarray  # (k, d): k = 1 for a binary head
    intercept: np.ndarray  # (k,)

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Binary head: P(true) of shape (n,). Multi-class: (n, k) in `classes` order."""
        logits = x @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:
            return 1.0 / (1.0 + np.exp(-logits[:, 0]))
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)


@dataclass
class LabelModel:
    """A loaded artefact: prior means, heads and their metadata."""

    meta: dict[str, Any]
    means: dict[str, np.ndarray]
    mean_counts: dict[str, float]
    heads: dict[tuple[str, str], LinearHead]
    path: Path | None = None

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unknown"))

    @property
    def thresholds(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.meta.get("thresholds", {}).items()}

    def head(self, task: str, lang: str) -> LinearHead:
        return self.heads.get((task, lang)) or self.heads[(task, ANY_LANG)]

    def head_langs(self, task: str) -> set[str]:
        return {lang for t, lang in self.heads if t == task}

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(self.meta, sort_keys=True))}
        for lang, mean in self.means.items():
            arrays[f"mean/{lang}"] = mean.astype(np.float32)
            arrays[f"mean_n/{lang}"] = np.array(self.mean_counts.get(lang, 0.0))
        for (task, lang), head in self.heads.items():
            arrays[f"head/{task}/{lang}/classes"] = np.array(head.classes)
            arrays[f"head/{task}/{lang}/coef"] = head.coef.astype(np.float32)
            arrays[f"head/{task}/{lang}/intercept"] = head.intercept.astype(np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        # written beside, then renamed: a reader (another worker) never sees half an artefact
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        os.close(fd)
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, allow_pickle=False, **arrays)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> LabelModel:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            means: dict[str, np.ndarray] = {}
            counts: dict[str, float] = {}
            parts: dict[tuple[str, str], dict[str, np.ndarray]] = {}
            for key in z.files:
                kind, _, rest = key.partition("/")
                if kind == "mean":
                    means[rest] = z[key].astype(np.float32)
                elif kind == "mean_n":
                    counts[rest] = float(z[key])
                elif kind == "head":
                    task, lang, what = rest.split("/")
                    parts.setdefault((task, lang), {})[what] = z[key]
        heads = {
            key: LinearHead(tuple(str(c) for c in p["classes"]), p["coef"].astype(np.float32), p["intercept"])
            for key, p in parts.items()
        }
        for task in ("sentiment", "criticism", "constructive"):
            if (task, ANY_LANG) not in heads:
                raise ValueError(f"{path}: no {task!r} head for every language")
        if ANY_LANG not in means:
            raise ValueError(f"{path}: no fallback mean embedding")
        return cls(meta, means, counts, heads, path)


# ------------------------------------------------------------------------------------------------
# toxicity learnt from moderation: per-language heads over [e5 embedding ‖ the toxicity stage's score]
# ------------------------------------------------------------------------------------------------

TOXIC_TASK = "toxic"


def toxic_matrix(emb: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The toxic heads' features: the raw e5 embedding and the rules-and-head score of jobs/labeller/toxic.py."""
    return np.hstack([emb, np.asarray(scores, dtype=np.float32)[:, None]]).astype(np.float32)


def apply_toxic_heads(
    model: LabelModel,
    emb: np.ndarray,
    langs: Sequence[str],
    scores: list[float],
    categories: list[list[str]],
    skip: Sequence[bool],
) -> None:
    """In place: where the model has a toxic head for a text's language (learnt from the page's
    moderation), its probability becomes the text's toxic score. Categories stay, except when the head
    overrules a toxic decision of the rules (the text is no longer shown as an insult or a threat)."""
    langs_with_head = {lang for task, lang in model.heads if task == TOXIC_TASK}
    if not langs_with_head:
        return
    encoded = np.abs(emb).sum(axis=1) > 0
    for lang in langs_with_head:
        rows = [i for i, lg in enumerate(langs) if lg == lang and encoded[i] and not skip[i]]
        if not rows:
            continue
        p = model.heads[(TOXIC_TASK, lang)].proba(toxic_matrix(emb[rows], np.array([scores[i] for i in rows])))
        for i, prob in zip(rows, p, strict=True):
            if prob < 0.5 <= scores[i]:
                categories[i] = []
            scores[i] = round(float(prob), 4)


# ------------------------------------------------------------------------------------------------
# which artefact: the packaged one, or a newer one built from feedback in the user's model dir
# ------------------------------------------------------------------------------------------------


def user_model_dir(state_dir: Path | None = None) -> Path:
    """Models built from feedback: ``<labeller dir>/models`` (default: the settings' labeller dir)."""
    if state_dir is None:
        from jobs.labeller.config import default_config

        return default_config().model_dir
    return state_dir / "models"


def artefact_candidates(state_dir: Path | None = None) -> list[Path]:
    found = [PACKAGED_ARTEFACT] if PACKAGED_ARTEFACT.exists() else []
    directory = user_model_dir(state_dir)
    if directory.is_dir():
        found += sorted(directory.glob(ARTEFACT_GLOB))
    return found


def newest_model(state_dir: Path | None = None) -> LabelModel:
    """The model in use: the last version of the model history of ``state_dir`` (`jobs.labeller.history`:
    builds and rollbacks) whose artefact is readable, else the newest valid artefact by its `created_at`;
    an unreadable one is skipped with a warning."""
    from jobs.labeller import history

    chosen = history.active(state_dir=state_dir)
    if chosen is not None:
        try:
            return LabelModel.load(chosen.path)
        except Exception as exc:  # its metadata read but its arrays did not: fall back to the newest
            log.warning("labeller artefact %s is not usable (%s): skipped", chosen.path, exc)
    best: LabelModel | None = None
    for path in artefact_candidates(state_dir):
        try:
            model = LabelModel.load(path)
        except Exception as exc:  # a damaged file must not stop the labeller: the others remain
            log.warning("labeller artefact %s is not usable (%s): skipped", path, exc)
            continue
        if best is None or str(model.meta.get("created_at", "")) > str(best.meta.get("created_at", "")):
            best = model
    if best is None:
        raise FileNotFoundError(f"no labeller artefact: expected {PACKAGED_ARTEFACT} (run `ecoute models build`)")
    return best


# ------------------------------------------------------------------------------------------------
# centring
# ------------------------------------------------------------------------------------------------


def centre(emb: np.ndarray, langs: Sequence[str], mean: Callable[[str], np.ndarray]) -> np.ndarray:
    """Each embedding minus its language's mean, unit length again (the heads' input)."""
    out = np.empty_like(emb)
    for lang in set(langs):
        rows = np.fromiter((lg == lang for lg in langs), dtype=bool, count=len(langs))
        out[rows] = emb[rows] - mean(lang)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-6)


def prior_mean(means: dict[str, np.ndarray]) -> Callable[[str], np.ndarray]:
    """A language's mean from an artefact's means, the all-language mean for a language it lacks."""
    return lambda lang: means.get(lang, means[ANY_LANG])


__all__ = [
    "ANY_LANG",
    "PACKAGED_ARTEFACT",
    "SENT_CLASSES",
    "LabelModel",
    "LinearHead",
    "artefact_candidates",
    "centre",
    "newest_model",
    "prior_mean",
    "user_model_dir",
]
