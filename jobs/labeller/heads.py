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

Centring follows the incoming stream (`Centring`): the per-language sums and counts of what was
labelled are kept in a state file shared by every process on the machine (Spark workers, the CLI)
and merged under a file lock, so the means survive restarts and adapt to the page's own audience.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PACKAGED_ARTEFACT = HERE / "artefacts" / "e5-heads.npz"
ARTEFACT_GLOB = "e5-heads-*.npz"
ANY_LANG = "*"
SENT_CLASSES = ("negative", "neutral", "positive")
# How many texts the shipped mean of a language counts for against the stream's own. Small: the
# page's own stream takes over within a few hundred texts — on the real French tweets of
# ../shared/eval, centring on the shipped (demo-month) mean gives macro-F1 ≈ 44, on the tweets' own
# mean ≈ 49.5 (prior weight 300: 45.5) — while a handful of texts cannot swing it.
PRIOR_WEIGHT = 100.0
# Past this many stream texts of a language, old sums are halved: the mean follows a slow drift.
STREAM_CAP = 200_000.0


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
            np.savez_compressed(fh, **arrays)
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
    model: LabelModel, emb: np.ndarray, langs: Sequence[str], scores: list[float], categories: list[list[str]],
    skip: Sequence[bool],
) -> None:  # fmt: skip
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


def state_root() -> Path:
    """Where the labeller keeps what it learns (models built from feedback, centring statistics)."""
    override = os.environ.get("ECOUTE_LABELLER_DIR")
    if override:
        return Path(override)
    from ecoute.settings import get_settings

    return Path(get_settings().state_dir) / "labeller"


def user_model_dir() -> Path:
    return state_root() / "models"


def artefact_candidates() -> list[Path]:
    found = [PACKAGED_ARTEFACT] if PACKAGED_ARTEFACT.exists() else []
    directory = user_model_dir()
    if directory.is_dir():
        found += sorted(directory.glob(ARTEFACT_GLOB))
    return found


def newest_model() -> LabelModel:
    """The model in use: the last version of the model history (`jobs.labeller.history`: builds and
    rollbacks) whose artefact is readable, else the newest valid artefact by its `created_at`; an
    unreadable one is skipped with a warning."""
    from jobs.labeller import history

    chosen = history.active()
    if chosen is not None:
        try:
            return LabelModel.load(chosen.path)
        except Exception as exc:  # its metadata read but its arrays did not: fall back to the newest
            log.warning("labeller artefact %s is not usable (%s): skipped", chosen.path, exc)
    best: LabelModel | None = None
    for path in artefact_candidates():
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


@dataclass
class Centring:
    """Per-language means: the artefact's prior blended with the stream's running sums (shared state)."""

    model: LabelModel
    state_path: Path | None = None
    sums: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    _pending_sums: dict[str, np.ndarray] = field(default_factory=dict)
    _pending_counts: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.state_path is not None:
            try:
                self._sync()
            except OSError as exc:
                log.warning("centring state %s unreadable (%s): using the artefact's means", self.state_path, exc)
                self.state_path = None

    def mean(self, lang: str) -> np.ndarray:
        prior = self.model.means.get(lang)
        if prior is None:
            prior = self.model.means[ANY_LANG]
        n = self.counts.get(lang, 0.0)
        if n <= 0:
            return prior
        return (PRIOR_WEIGHT * prior + self.sums[lang]) / (PRIOR_WEIGHT + n)

    def observe(self, emb: np.ndarray, langs: Sequence[str], weights: np.ndarray | None = None) -> None:
        """Add texts to the running means (weights: 0 for texts that must not count, e.g. duplicates)."""
        with self._lock:
            for lang in set(langs):
                if lang == "und":
                    continue
                rows = np.fromiter((lg == lang for lg in langs), dtype=bool, count=len(langs))
                w = weights[rows] if weights is not None else np.ones(int(rows.sum()), dtype=np.float32)
                if not w.sum():
                    continue
                total = (emb[rows] * w[:, None]).sum(axis=0)
                for sums, counts in ((self.sums, self.counts), (self._pending_sums, self._pending_counts)):
                    sums[lang] = sums.get(lang, np.zeros_like(total)) + total
                    counts[lang] = counts.get(lang, 0.0) + float(w.sum())
            if self.state_path is not None and self._pending_counts:
                try:
                    self._sync()
                except OSError as exc:
                    log.warning("centring state %s not written (%s): kept in memory", self.state_path, exc)

    def centre(self, emb: np.ndarray, langs: Sequence[str]) -> np.ndarray:
        return centre(emb, langs, self.mean)

    def _sync(self) -> None:
        """Merge what this process saw since the last sync into the state file; read everyone's totals."""
        assert self.state_path is not None
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.state_path.with_suffix(".lock")
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            sums: dict[str, np.ndarray] = {}
            counts: dict[str, float] = {}
            if self.state_path.exists():
                try:
                    with np.load(self.state_path, allow_pickle=False) as z:
                        for key in z.files:
                            if key.startswith("sum/"):
                                sums[key[4:]] = z[key].astype(np.float64)
                            elif key.startswith("n/"):
                                counts[key[2:]] = float(z[key])
                except Exception as exc:  # a torn or foreign file: the stream's means start again
                    log.warning("centring state %s damaged (%s): starting it again", self.state_path, exc)
                    sums, counts = {}, {}
            for lang, n in self._pending_counts.items():
                sums[lang] = sums.get(lang, 0.0) + self._pending_sums[lang]
                counts[lang] = counts.get(lang, 0.0) + n
                if counts[lang] > STREAM_CAP:
                    sums[lang] = sums[lang] / 2
                    counts[lang] = counts[lang] / 2
            if self._pending_counts:
                arrays = {f"sum/{k}": v for k, v in sums.items()} | {f"n/{k}": np.array(v) for k, v in counts.items()}
                fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, suffix=".npz.tmp")
                os.close(fd)
                with open(tmp, "wb") as fh:
                    np.savez(fh, **arrays)
                os.replace(tmp, self.state_path)
            self._pending_sums, self._pending_counts = {}, {}
            self.sums = {k: np.asarray(v, dtype=np.float64) for k, v in sums.items()}
            self.counts = counts


def centring_state_path(model: LabelModel) -> Path:
    encoder = str(model.meta.get("encoder", "e5"))
    return state_root() / f"centring-{encoder}.npz"


__all__ = [
    "ANY_LANG",
    "PACKAGED_ARTEFACT",
    "SENT_CLASSES",
    "Centring",
    "LabelModel",
    "LinearHead",
    "artefact_candidates",
    "newest_model",
    "user_model_dir",
]
