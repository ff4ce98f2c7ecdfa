"""Peers and data loaders of tests/benchmarks/bench_labels.py (kept beside it: the benchmark reads as its sections)."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT.parent / "shared" / "eval" / "sentiment-dev"
LANGS = ("fr", "en", "es", "de", "it", "pt")
DEMO = ROOT / "infra" / "demo"
POSITIVE_INTENTS = {"praise", "contest", "praise_reply", "followup_settled", "community_answer"}
NEGATIVE_INTENTS = {
    "complaint",
    "constructive",
    "sarcasm",
    "crisis_complaint",
    "crisis_constructive",
    "agree",
    "toxic",
    "threat",
    "toxic_user",
}


# ------------------------------------------------------------------------------------------------
# peers
# ------------------------------------------------------------------------------------------------


def vader_peer() -> Callable[[Sequence[str]], list[str]]:
    """VADER (vaderSentiment; vadersentiment-fr for texts our language detector calls French)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from jobs.labeller.lang import LanguageDetector
    from jobs.labeller.text import prepare

    en = SentimentIntensityAnalyzer()
    try:
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer as FrAnalyzer

        fr = FrAnalyzer()
    except Exception:  # the French port is optional for this peer
        fr = en
    detector = LanguageDetector()

    def run(texts: Sequence[str]) -> list[str]:
        langs, _ = detector.detect_many([prepare(t) for t in texts])
        out = []
        for text, lang in zip(texts, langs, strict=True):
            c = (fr if lang == "fr" else en).polarity_scores(text)["compound"]
            out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
        return out

    return run


def uncentred_peer() -> Callable[[Sequence[str]], list[str]]:
    """The same e5 embeddings and rule features, heads trained on the same shipped rows, no centring."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from jobs.labeller.build.corpora import TRAIN_EMBEDDINGS, embed_rows, shipped_rows
    from jobs.labeller.encoder import embed, encoder_input
    from jobs.labeller.features import rule_matrix
    from jobs.labeller.text import prepare

    rows = [r for r in shipped_rows() if "sentiment" in r.labels]
    emb = embed_rows([encoder_input(r.text) for r in rows], [TRAIN_EMBEDDINGS], None, print)
    x = np.hstack([emb, rule_matrix([prepare(r.text) for r in rows])])
    head = LogisticRegression(C=1.0, max_iter=3000).fit(
        x, [r.labels["sentiment"] for r in rows], sample_weight=[r.weight for r in rows]
    )

    def run(texts: Sequence[str]) -> list[str]:
        docs = [prepare(t) for t in texts]
        xs = np.hstack([embed([encoder_input(d.raw) for d in docs], query=True), rule_matrix(docs)])
        return [str(c) for c in head.predict(xs)]

    return run


def labeller_peer(lab: Any) -> Callable[[Sequence[str]], list[str]]:
    return lambda texts: lab.label_columns(list(texts))["sentiment"]


def peers(lab: Any) -> dict[str, Callable[[Sequence[str]], list[str]]]:
    from jobs.labeller import LABELLER_VERSION
    from tests.benchmarks.legacy_labeller import LegacyLabeller

    out: dict[str, Callable[[Sequence[str]], list[str]]] = {
        f"labeller {LABELLER_VERSION} ({lab.model_version})": labeller_peer(lab)
    }
    out["e5 + LR, no centring"] = uncentred_peer()
    out["previous labeller 2026.11-1"] = labeller_peer(LegacyLabeller())
    out["VADER"] = vader_peer()
    return out


def load_real() -> dict[str, list[dict]]:
    return {lang: [json.loads(line) for line in (EVAL / f"{lang}.jsonl").open(encoding="utf-8")] for lang in LANGS}


def fmt_prf(d: dict) -> str:
    return f"P {d['precision']:.3f}  R {d['recall']:.3f}  F1 {d['f1']:.3f}  (n+ = {d['support']})"


def demo_pairs() -> list[tuple[dict, dict]]:
    with gzip.open(DEMO / "ecoute-demo-2026-10.jsonl.gz") as fh:
        events = {(e["source"], e["native_id"]): e for e in map(json.loads, fh)}
    with gzip.open(DEMO / "ground_truth_labels.jsonl.gz") as fh:
        truth = [json.loads(line) for line in fh]
    return [(t, events[(t["source"], t["native_id"])]) for t in truth if (t["source"], t["native_id"]) in events]


def demo_texts(n: int, seed: int) -> list[str]:
    """A sample of the demo month's texts: a realistic brand-page stream (FR-heavy, short and long)."""
    with gzip.open(DEMO / "ecoute-demo-2026-10.jsonl.gz") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    return random.Random(seed).sample(texts, min(n, len(texts)))
