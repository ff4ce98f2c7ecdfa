"""The previous labeller (2026.11-1), kept as a peer for tests/benchmarks/bench_labels.py only.

Rules decide where their evidence is strong, the USE-based heads of `artefacts/heads.npz` the rest,
criticism from patterns + negative sentiment. Nothing in the pipeline uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs.labeller import _flag, _is_brand


class LegacyLabeller:
    """Labeller 2026.11-1: rules → lite USE stage → full USE encoder (a peer in bench_labels)."""

    version = "2026.11-1"

    def __init__(self, taxonomy_path: str | None = None, use_models: bool = True) -> None:
        from jobs.labeller import criticism, sentiment, topics
        from jobs.labeller.lang import LanguageDetector
        from jobs.labeller.toxic import ToxicityScorer

        self.taxonomy = topics.load_taxonomy(taxonomy_path)
        self._lang = LanguageDetector()
        sentiment.load_lexicon()
        self._toxic = ToxicityScorer()
        # Every rule pattern is compiled here (Spark's worker warm-up), not during the first batch.
        sentiment.phrase_patterns()
        criticism.rule_patterns()
        topics.keyword_patterns(self.taxonomy)
        self._heads = None
        self._topic_embedder = None
        if use_models:
            from jobs.labeller.models import encode, load_heads
            from jobs.labeller.topics import TopicEmbedder

            self._heads = load_heads()
            self._topic_embedder = TopicEmbedder(self.taxonomy, encode)

    def label_columns(
        self,
        texts: Sequence[Any],
        kinds: Sequence[str | None] | None = None,
        is_brand: Sequence[bool | None] | None = None,
    ) -> dict[str, list]:
        """Label a batch; returns one list per label, each as long as `texts`, in order."""
        from jobs.labeller.criticism import criticism_many
        from jobs.labeller.sentiment import label_from_compound, score_rules
        from jobs.labeller.text import prepare
        from jobs.labeller.topics import decide, keyword_scores
        from jobs.labeller.toxic import THRESHOLD

        n = len(texts)
        if kinds is not None and len(kinds) != n:
            raise ValueError(f"kinds has {len(kinds)} items, texts has {n}")
        if is_brand is not None and len(is_brand) != n:
            raise ValueError(f"is_brand has {len(is_brand)} items, texts has {n}")
        brand = [_flag(b) for b in is_brand] if is_brand is not None else [False] * n
        docs = [prepare(t) for t in texts]
        langs, lang_conf = self._lang.detect_many(docs)

        rules = [score_rules(d) for d in docs]
        sentiments: list[str] = []
        sent_scores: list[float] = []
        for r in rules:
            label, conf = label_from_compound(r.compound, r.question)
            sentiments.append(label)
            sent_scores.append(conf)
        kw = keyword_scores(self.taxonomy, [d.folded for d in docs])
        crit_prob: dict[int, float] = {}
        if self._heads is not None:
            from jobs.labeller.cascade import refine

            crit_prob, encoded, emb = refine(self._heads, docs, langs, rules, sentiments, sent_scores)
            if self._topic_embedder is not None and encoded:
                # texts that went through the encoder also get embedding topics, for free
                for i, emb_scores in zip(encoded, self._topic_embedder.scores(emb), strict=True):
                    for tid, score in emb_scores.items():
                        if score > kw[i].get(tid, 0.0):
                            kw[i][tid] = score
        topic_lists = [decide(self.taxonomy, s) for s in kw]
        topic_scores = [{t: round(float(v), 4) for t, v in s.items()} for s in kw]

        tox_scores = self._toxic.score_many(docs, langs)
        tox_scores = [0.0 if b else s for s, b in zip(tox_scores, brand, strict=True)]
        toxic = [s >= THRESHOLD for s in tox_scores]

        crit, cons = criticism_many(docs, sentiments, sent_scores, topic_lists, toxic, brand, crit_prob)
        return {
            "lang": langs,
            "lang_confidence": [float(c) for c in lang_conf],
            "sentiment": sentiments,
            "sentiment_score": [float(s) for s in sent_scores],
            "topics": topic_lists,
            "topic_scores": topic_scores,
            "toxic": toxic,
            "toxic_score": [float(s) for s in tox_scores],
            "criticism": crit,
            "constructive": cons,
        }

    def label_records(self, records: Sequence[dict]) -> list[dict]:
        """Row-wise convenience: each record needs `text` (and usually `id`); returns id + labels."""
        texts = [r.get("text") for r in records]
        kinds = [r.get("kind") for r in records]
        brand = [_is_brand(r) for r in records]
        cols = self.label_columns(texts, kinds=kinds, is_brand=brand)
        rows = []
        for i, record in enumerate(records):
            row: dict[str, Any] = {"id": record.get("id")}
            for key in cols:
                row[key] = cols[key][i]
            rows.append(row)
        return rows
