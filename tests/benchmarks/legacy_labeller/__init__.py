"""The previous labeller (2026.11-1), kept as a peer for tests/benchmarks/bench_labels.py only.

Rules decide where their evidence is strong, the USE-based heads of `heads.npz` (beside this file) the rest,
criticism from patterns + negative sentiment. Nothing in the pipeline uses it. The rule stages it
shares with today's labeller live once, in `jobs.labeller.RuleStages`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs.labeller import RuleStages


class LegacyLabeller(RuleStages):
    """Labeller 2026.11-1: rules → lite USE stage → full USE encoder (a peer in bench_labels)."""

    version = "2026.11-1"

    def __init__(self, taxonomy_path: str | None = None, use_models: bool = True) -> None:
        super().__init__(taxonomy_path)
        self._heads = None
        self._topic_embedder = None
        if use_models:
            from jobs.labeller.topics import TopicEmbedder
            from tests.benchmarks.legacy_labeller.models import encode, load_heads

            self._heads = load_heads()
            # the similarity band it was measured with (2026.12-2), not today's query-form one
            self._topic_embedder = TopicEmbedder(self.taxonomy, encode, floor=0.89, full=0.93)

    def label_columns(
        self,
        texts: Sequence[Any],
        kinds: Sequence[str | None] | None = None,
        is_brand: Sequence[bool | None] | None = None,
    ) -> dict[str, list]:
        """Label a batch; returns one list per label, each as long as `texts`, in order."""
        from jobs.labeller.criticism import criticism_many
        from jobs.labeller.topics import decide
        from jobs.labeller.toxic import THRESHOLD

        rp = self._rule_pass(texts, kinds, is_brand)
        docs, langs, sentiments, sent_scores, kw = rp.docs, rp.langs, rp.sentiments, rp.sent_scores, rp.kw
        crit_prob: dict[int, float] = {}
        if self._heads is not None:
            from tests.benchmarks.legacy_labeller.cascade import refine

            crit_prob, encoded, emb = refine(self._heads, docs, langs, rp.rules, sentiments, sent_scores)
            if self._topic_embedder is not None and encoded:
                # texts that went through the encoder also get embedding topics, for free
                for i, emb_scores in zip(encoded, self._topic_embedder.scores(emb), strict=True):
                    for tid, score in emb_scores.items():
                        if score > kw[i].get(tid, 0.0):
                            kw[i][tid] = score
        topic_lists = [decide(self.taxonomy, s) for s in kw]
        topic_scores = [{t: round(float(v), 4) for t, v in s.items()} for s in kw]

        tox_scores = self._toxic.score_many(docs, langs)
        tox_scores = [0.0 if b else s for s, b in zip(tox_scores, rp.brand, strict=True)]
        toxic = [s >= THRESHOLD for s in tox_scores]

        crit, cons = criticism_many(docs, sentiments, sent_scores, topic_lists, toxic, rp.brand, crit_prob)
        return {
            "lang": langs,
            "lang_confidence": [float(c) for c in rp.lang_conf],
            "sentiment": sentiments,
            "sentiment_score": [float(s) for s in sent_scores],
            "topics": topic_lists,
            "topic_scores": topic_scores,
            "toxic": toxic,
            "toxic_score": [float(s) for s in tox_scores],
            "criticism": crit,
            "constructive": cons,
        }
