"""Benchmark: the topic matcher's similarity band, per pairing of embedding forms, on the project's own sets.

Run: ``nice -n 10 .venv/bin/python tests/benchmarks/bench_topic_band.py``

There is no real labelled topic data: the band (jobs/labeller/topics.py, SIM_FLOOR / SIM_FULL) is
chosen on the team's tuning sets ``jobs/labeller/build/eval/{fr,en}_dev.tsv``; the ``*_test``
sets are printed beside them, never chosen on. Micro-F1 of keywords + the nearest topic, as the
labeller decides (taxonomy min_score 0.5: a topic needs a similarity ≥ the band's middle).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ECOUTE_EMBED_CACHE", "off")

from jobs.labeller import topics  # noqa: E402
from jobs.labeller.build.evaluation import load_labelled  # noqa: E402
from jobs.labeller.encoder import embed, encoder_input  # noqa: E402
from jobs.labeller.text import prepare  # noqa: E402

SETS = ("fr_dev.tsv", "en_dev.tsv", "fr_test.tsv", "en_test.tsv")
DEV = SETS[:2]
PAIRINGS = (("passage", "passage"), ("query", "query"), ("query", "passage"))  # (texts, taxonomy sentences)
HALF_WIDTH = 0.02  # the band's half width: it sets the scores' spread, not the decision


def micro_f1(gold: list[set[str]], pred: list[set[str]]) -> float:
    tp = sum(len(g & p - {"other"}) for g, p in zip(gold, pred, strict=True))
    n_pred = sum(len(p - {"other"}) for p in pred)
    n_gold = sum(len(g - {"other"}) for g in gold)
    precision, recall = tp / n_pred if n_pred else 0.0, tp / n_gold if n_gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def main() -> None:
    taxonomy = topics.load_taxonomy()
    data = {}
    for name in SETS:
        items = load_labelled(name)
        docs = [prepare(it.text) for it in items]
        rows = [i for i, d in enumerate(docs) if d.n_letters >= 2]  # the texts the labeller encodes
        inputs = [encoder_input(docs[i].raw) for i in rows]
        data[name] = {
            "gold": [set(it.topics) for it in items],
            "keywords": topics.keyword_scores(taxonomy, [d.folded for d in docs]),
            "rows": rows,
            "emb": {form: embed(inputs, query=form == "query") for form in ("passage", "query")},
        }
    matchers = {
        form: topics.TopicEmbedder(taxonomy, lambda s, form=form: embed(s, query=form == "query"))
        for form in ("passage", "query")
    }

    def score(name: str, text_form: str, sentence_form: str, middle: float) -> float:
        d, matcher = data[name], matchers[sentence_form]
        matcher.floor, matcher.full = middle - HALF_WIDTH, middle + HALF_WIDTH
        scores = [dict(s) for s in d["keywords"]]
        for i, found in zip(d["rows"], matcher.scores(d["emb"][text_form]), strict=True):
            for tid, value in found.items():
                scores[i][tid] = max(value, scores[i].get(tid, 0.0))
        return micro_f1(d["gold"], [set(topics.decide(taxonomy, s)) for s in scores])

    keywords = {
        n: micro_f1(data[n]["gold"], [set(topics.decide(taxonomy, s)) for s in data[n]["keywords"]]) for n in SETS
    }
    print("topics micro-F1 on the project's own sets (no real labelled topic data exists)")
    print(f"  {'texts / sentences':<20}{'best':>7}" + "".join(f"{n:>13}" for n in SETS))
    print(f"  {'keywords alone':<20}{'':>7}" + "".join(f"{keywords[n]:>13.3f}" for n in SETS))
    for text_form, sentence_form in PAIRINGS:
        grid = [round(m, 3) for m in np.arange(0.80, 0.95, 0.005)]
        best = max(grid, key=lambda m: sum(score(n, text_form, sentence_form, m) for n in DEV))
        figures = "".join(f"{score(n, text_form, sentence_form, best):>13.3f}" for n in SETS)
        print(f"  {text_form + ' / ' + sentence_form:<20}{best:>7.3f}{figures}")
    shipped = (topics.SIM_FLOOR + topics.SIM_FULL) / 2
    print(f"  shipped band: {topics.SIM_FLOOR} → {topics.SIM_FULL} (middle {shipped:.3f}), query / query")


if __name__ == "__main__":
    main()
