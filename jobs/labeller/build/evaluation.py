"""Quality of the labeller on the project's own evaluation sets (jobs/labeller/build/eval/).

Used by tests/benchmarks/bench_labels.py (prints the figures) and by tests (guards against regressions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVAL_DIR = Path(__file__).resolve().parent / "eval"
SENT_CODES = {"-": "negative", "0": "neutral", "+": "positive"}


@dataclass
class Item:
    text: str
    lang: str
    sentiment: str
    toxic: bool
    criticism: bool
    constructive: bool
    topics: list[str]


def load_labelled(name: str) -> list[Item]:
    """A labelled set: sentiment, toxic, criticism, constructive, topics, lang, text (tab-separated)."""
    items = []
    for lineno, line in enumerate((EVAL_DIR / name).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 7 or parts[0] not in SENT_CODES:
            raise ValueError(f"{name}:{lineno}: expected 7 tab-separated columns, got {line!r}")
        sent, tox, crit, cons, topics, lang, text = parts
        items.append(Item(text, lang, SENT_CODES[sent], tox == "1", crit == "1", cons == "1", topics.split(",")))
    return items


def load_lang(name: str) -> list[tuple[str, str]]:
    out = []
    for line in (EVAL_DIR / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, text = line.split("\t", 1)
        out.append((lang, text))
    return out


def prf(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "support": sum(gold)}


def macro_f1(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str] = tuple(SENT_CODES.values())) -> float:
    scores = [prf([g == c for g in gold], [p == c for p in pred])["f1"] for c in classes if c in gold]
    return round(sum(scores) / len(scores), 3) if scores else 0.0


def evaluate_labelled(labeller: Any, items: Sequence[Item]) -> dict[str, Any]:
    cols = labeller.label_columns([it.text for it in items])
    gold_topics = [set(it.topics) for it in items]
    pred_topics = [set(t) for t in cols["topics"]]
    tp = sum(len(g & p - {"other"}) for g, p in zip(gold_topics, pred_topics, strict=True))
    n_pred = sum(len(p - {"other"}) for p in pred_topics)
    n_gold = sum(len(g - {"other"}) for g in gold_topics)
    tp_p = tp / n_pred if n_pred else 0.0
    tp_r = tp / n_gold if n_gold else 0.0
    by_lang: dict[str, dict[str, Any]] = {}
    for lang in sorted({it.lang for it in items}):
        idx = [i for i, it in enumerate(items) if it.lang == lang]
        by_lang[lang] = {
            "n": len(idx),
            "sentiment_macro_f1": macro_f1([items[i].sentiment for i in idx], [cols["sentiment"][i] for i in idx]),
            "sentiment_accuracy": round(sum(items[i].sentiment == cols["sentiment"][i] for i in idx) / len(idx), 3),
            "lang_accuracy": round(sum(cols["lang"][i] == lang for i in idx) / len(idx), 3),
        }
    return {
        "n": len(items),
        "by_lang": by_lang,
        "sentiment_macro_f1": macro_f1([it.sentiment for it in items], cols["sentiment"]),
        "toxic": prf([it.toxic for it in items], cols["toxic"]),
        "criticism": prf([it.criticism for it in items], cols["criticism"]),
        "constructive": prf([it.constructive for it in items], cols["constructive"]),
        "topics_micro": {
            "precision": round(tp_p, 3),
            "recall": round(tp_r, 3),
            "f1": round(2 * tp_p * tp_r / (tp_p + tp_r), 3) if tp_p + tp_r else 0.0,
        },
        "_cols": cols,
    }


def evaluate_lang(labeller: Any, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    cols = labeller.label_columns([t for _, t in pairs])
    ok = [g == p for (g, _), p in zip(pairs, cols["lang"], strict=True)]
    per: dict[str, list[bool]] = {}
    for (g, _), hit in zip(pairs, ok, strict=True):
        per.setdefault(g, []).append(hit)
    return {
        "n": len(pairs),
        "accuracy": round(sum(ok) / len(ok), 3),
        "by_lang": {k: round(sum(v) / len(v), 3) for k, v in sorted(per.items())},
        "errors": [(g, t, p) for (g, t), p, hit in zip(pairs, cols["lang"], ok, strict=True) if not hit],
    }
