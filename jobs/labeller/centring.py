"""Per-language centring of the embeddings, and the published centring: a versioned input.

The heads read each embedding minus its language's mean (jobs.labeller.heads). A language's mean is
the model's prior (the artefact's means, worth ``PRIOR_WEIGHT`` texts) blended with the sums of
the page's own texts. Where those sums come from decides what a label means, so they are explicit:

- **published** (the enrichment job, ``ecoute models backfill``, ``ecoute label --shared-centring``):
  a ``CentringStats`` artefact built from the stored mentions by ``ecoute models centring`` (the
  ``ecoute_labeller_centring`` DAG, daily) and written under ``<labeller dir>/centring/`` with a
  version. The driver reads the newest once and ships it in the labeller's config, so every
  executor of a run centres on the same means, read-only: a replay labels a text as the first run
  did, and nodes never drift apart. A new version is picked up by the next run of the job.
- **own** (``ecoute label`` on a file): the prior plus the texts this labeller has labelled so far,
  in memory (a file of tweets is centred on itself, and never moves the page's means).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from jobs.labeller.heads import ANY_LANG, centre

if TYPE_CHECKING:
    from jobs.labeller.heads import LabelModel

log = logging.getLogger(__name__)

# How many texts the shipped mean of a language counts for against the page's own. Small: a few
# hundred of the page's texts take over — on the real French tweets of ../shared/eval, centring on
# the shipped (demo-month) mean gives macro-F1 ≈ 44, on the tweets' own mean ≈ 49.5 (prior weight
# 300: 45.5) — while a handful of texts cannot swing it.
PRIOR_WEIGHT = 100.0
ARTEFACT_GLOB = "centring-*.npz"


@dataclass(frozen=True)
class CentringStats:
    """A published centring: per language, the sum and count of the embeddings of distinct texts."""

    sums: dict[str, np.ndarray]  # float64, one (dim,) vector per language
    counts: dict[str, float]
    meta: dict[str, Any]  # version, created_at, encoder, what it was built from

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unknown"))

    @property
    def encoder(self) -> str | None:
        value = self.meta.get("encoder")
        return None if value is None else str(value)

    @classmethod
    def build(cls, sums: dict[str, np.ndarray], counts: dict[str, float], meta: dict[str, Any]) -> CentringStats:
        """Stats with their version: the creation time and a digest of the contents (same input, same digest)."""
        digest = hashlib.sha256()
        for lang in sorted(counts):
            digest.update(lang.encode())
            digest.update(np.asarray(sums[lang], dtype=np.float64).tobytes())
            digest.update(repr(float(counts[lang])).encode())
        created = str(meta["created_at"])
        stamp = created.replace("-", "").replace(":", "").replace("+0000", "Z").split(".")[0]
        version = f"{stamp}-{digest.hexdigest()[:10]}"
        return cls(
            {k: np.asarray(v, dtype=np.float64) for k, v in sums.items()}, dict(counts), {**meta, "version": version}
        )

    def save(self, directory: Path) -> Path:
        """Publish: written beside, then renamed, so a reader never sees half an artefact."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"centring-{self.version}.npz"
        arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(self.meta, sort_keys=True))}
        for lang, total in self.sums.items():
            arrays[f"sum/{lang}"] = total
            arrays[f"n/{lang}"] = np.array(self.counts[lang])
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".npz.tmp")
        os.close(fd)
        with open(tmp, "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: Path) -> CentringStats:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            sums = {key[4:]: z[key].astype(np.float64) for key in z.files if key.startswith("sum/")}
            counts = {key[2:]: float(z[key]) for key in z.files if key.startswith("n/")}
        if set(sums) != set(counts) or "version" not in meta:
            raise ValueError(f"{path}: not a centring artefact")
        return cls(sums, counts, meta)


def newest_centring(directory: Path) -> CentringStats | None:
    """The newest readable published centring in ``directory`` (by creation time), or None."""
    best: CentringStats | None = None
    for path in sorted(directory.glob(ARTEFACT_GLOB)) if directory.is_dir() else []:
        try:
            stats = CentringStats.load(path)
        except Exception as exc:  # a damaged file must not stop the labeller: an older one remains
            log.warning("centring artefact %s is not usable (%s): skipped", path, exc)
            continue
        if best is None or str(stats.meta.get("created_at", "")) > str(best.meta.get("created_at", "")):
            best = stats
    return best


@dataclass
class Centring:
    """Per-language means: the model's prior blended with sums of the page's texts.

    ``learning`` False: the sums are a published ``CentringStats`` (or none: the prior alone), never
    changed. ``learning`` True: they start empty and ``observe`` adds the texts being labelled."""

    model: LabelModel
    learning: bool = False
    sums: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    version: str | None = None  # of the published stats, None for the prior alone or own texts
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def published(cls, model: LabelModel, stats: CentringStats | None) -> Centring:
        """Read-only means from ``stats``; stats of another encoder's space are not used (the prior is)."""
        encoder = model.meta.get("encoder")
        if stats is None:
            return cls(model)
        if stats.encoder != encoder:
            log.warning(
                "centring %s is for encoder %s, the model uses %s: the model's prior is used",
                stats.version,
                stats.encoder,
                encoder,
            )
            return cls(model)
        return cls(model, False, dict(stats.sums), dict(stats.counts), stats.version)

    def mean(self, lang: str) -> np.ndarray:
        prior = self.model.means.get(lang)
        if prior is None:
            prior = self.model.means[ANY_LANG]
        n = self.counts.get(lang, 0.0)
        if n <= 0:
            return prior
        return (PRIOR_WEIGHT * prior + self.sums[lang]) / (PRIOR_WEIGHT + n)

    def observe(self, emb: np.ndarray, langs: Sequence[str], weights: np.ndarray | None = None) -> None:
        """Add texts to the means of a learning centring (weights: 0 for texts that must not count,
        e.g. duplicates); a published centring never changes."""
        if not self.learning:
            raise RuntimeError("a published centring is read-only")
        with self._lock:
            for lang in set(langs):
                if lang == "und":
                    continue
                rows = np.fromiter((lg == lang for lg in langs), dtype=bool, count=len(langs))
                w = weights[rows] if weights is not None else np.ones(int(rows.sum()), dtype=np.float32)
                if not w.sum():
                    continue
                total = (emb[rows] * w[:, None]).sum(axis=0)
                self.sums[lang] = self.sums.get(lang, np.zeros_like(total)) + total
                self.counts[lang] = self.counts.get(lang, 0.0) + float(w.sum())

    def centre(self, emb: np.ndarray, langs: Sequence[str]) -> np.ndarray:
        return centre(emb, langs, self.mean)


__all__ = ["PRIOR_WEIGHT", "Centring", "CentringStats", "newest_centring"]
