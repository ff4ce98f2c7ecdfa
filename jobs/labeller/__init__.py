"""The one labeller of Écoute: used identically by the Spark job, the `ecoute label` command and tests.

    from jobs.labeller import get_labeller
    lab = get_labeller()                      # cached per process: models load once
    cols = lab.label_columns(texts, kinds=None, is_brand=None)   # columnar, for Spark batches
    rows = lab.label_records(records)         # row-wise, for the CLI

Labels and their definitions: docs/labels.md. Quality and speed: tests/benchmarks/bench_labels.py.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LABELLER_VERSION = "2026.12-4"

COLUMNS = (
    "lang",
    "lang_confidence",
    "sentiment",
    "sentiment_score",
    "topics",
    "topic_scores",
    "toxic",
    "toxic_score",
    "toxic_categories",
    "criticism",
    "constructive",
    "question",
)

# Toxicity categories whose texts are never criticism (see Labeller.label_columns).
NOT_CRITICISM = frozenset({"hate", "threat"})

_lock = threading.Lock()
_instance: Labeller | None = None


class RuleStages:
    """What every labeller shares: the rule stages (language, lexicon, toxicity, patterns, topics),
    the batch's first steps and the row-wise wrapper. Subclasses add their decider."""

    def __init__(self, taxonomy_path: str | None = None) -> None:
        from jobs.labeller import criticism, question, sentiment, topics
        from jobs.labeller.lang import LanguageDetector
        from jobs.labeller.toxic import ToxicityScorer

        self.taxonomy = topics.load_taxonomy(taxonomy_path)
        self._lang = LanguageDetector()
        sentiment.load_lexicon()
        self._toxic = ToxicityScorer()
        # Every rule pattern is compiled here (Spark's worker warm-up), not during the first batch.
        sentiment.phrase_patterns()
        criticism.rule_patterns()
        criticism.constructive_patterns()
        question.rule_patterns()
        topics.keyword_patterns(self.taxonomy)

    def label_columns(
        self,
        texts: Sequence[Any],
        kinds: Sequence[str | None] | None = None,
        is_brand: Sequence[bool | None] | None = None,
    ) -> dict[str, list]:
        raise NotImplementedError

    def _rule_pass(
        self,
        texts: Sequence[Any],
        kinds: Sequence[str | None] | None,
        is_brand: Sequence[bool | None] | None,
        clock: Any = None,
    ) -> _RulePass:
        """Checks the batch, prepares the texts, detects languages, runs the rules and keyword topics."""
        from jobs.labeller.sentiment import label_from_compound, score_rules
        from jobs.labeller.text import prepare
        from jobs.labeller.topics import keyword_scores

        n = len(texts)
        if kinds is not None and len(kinds) != n:
            raise ValueError(f"kinds has {len(kinds)} items, texts has {n}")
        if is_brand is not None and len(is_brand) != n:
            raise ValueError(f"is_brand has {len(is_brand)} items, texts has {n}")
        brand = [_flag(b) for b in is_brand] if is_brand is not None else [False] * n
        docs = [prepare(t) for t in texts]
        if clock is not None:
            clock("prepare")
        langs, lang_conf = self._lang.detect_many(docs)
        if clock is not None:
            clock("lang")
        rules = [score_rules(d) for d in docs]
        sentiments: list[str] = []
        sent_scores: list[float] = []
        for r in rules:  # what the rules say: kept only where no model decides
            label, conf = label_from_compound(r.compound, r.question)
            sentiments.append(label)
            sent_scores.append(conf)
        kw = keyword_scores(self.taxonomy, [d.folded for d in docs])
        if clock is not None:
            clock("rules")
        return _RulePass(brand, docs, langs, lang_conf, rules, sentiments, sent_scores, kw)

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


@dataclass
class _RulePass:
    brand: list[bool]
    docs: list[Any]
    langs: list[str]
    lang_conf: list[float]
    rules: list[Any]
    sentiments: list[str]
    sent_scores: list[float]
    kw: list[dict[str, float]]


class Labeller(RuleStages):
    """Holds the loaded models; safe to reuse across batches (only the centring means evolve)."""

    version = LABELLER_VERSION

    def __init__(
        self,
        taxonomy_path: str | None = None,
        use_models: bool = True,
        model_path: str | None = None,
        shared_centring: bool = True,
    ) -> None:
        """``shared_centring``: centre on (and feed) the stream's running means kept in the state folder,
        as the enrichment job does; False centres on the artefact's prior plus the texts this instance
        labels, in memory (a file labelled on its own, which must not move the page's means)."""
        super().__init__(taxonomy_path)
        self.stage_seconds: dict[str, float] = {}  # CPU time per stage, summed over calls (bench_labels)
        self.model = None
        self._centring = None
        self._topic_embedder = None
        if use_models:
            from pathlib import Path

            from jobs.labeller.encoder import embed
            from jobs.labeller.heads import Centring, LabelModel, centring_state_path, newest_model
            from jobs.labeller.topics import TopicEmbedder

            self.model = LabelModel.load(Path(model_path)) if model_path else newest_model()
            state = _centring_path(centring_state_path, self.model) if shared_centring else None
            self._centring = Centring(self.model, state)
            # the descriptions in the texts' own form: one encoding per text, compared like with like
            self._topic_embedder = TopicEmbedder(self.taxonomy, lambda sentences: embed(sentences, query=True))

    @property
    def model_version(self) -> str:
        return self.model.version if self.model is not None else "rules"

    def label_columns(
        self,
        texts: Sequence[Any],
        kinds: Sequence[str | None] | None = None,
        is_brand: Sequence[bool | None] | None = None,
    ) -> dict[str, list]:
        """Label a batch; returns one list per label, each as long as `texts`, in order."""
        from jobs.labeller.criticism import constructive_many, criticism_many
        from jobs.labeller.question import question_many
        from jobs.labeller.topics import decide
        from jobs.labeller.toxic import THRESHOLD

        clock = _StageClock(self.stage_seconds)
        n = len(texts)
        rp = self._rule_pass(texts, kinds, is_brand, clock)
        brand, docs, langs, lang_conf, rules = rp.brand, rp.docs, rp.langs, rp.lang_conf, rp.rules
        sentiments, sent_scores, kw = rp.sentiments, rp.sent_scores, rp.kw
        emb = None
        crit: list[bool] = [False] * n
        cons: list[bool] = [False] * n
        if self.model is not None:
            from jobs.labeller.decide import decide_batch

            emb, decided = decide_batch(self.model, self._centring, docs, langs, rules, brand, clock)
            for i, (label, score, is_crit, is_cons) in decided.items():
                sentiments[i], sent_scores[i], crit[i], cons[i] = label, score, is_crit, is_cons
            if self._topic_embedder is not None and decided:
                rows = sorted(decided)
                for i, emb_scores in zip(rows, self._topic_embedder.scores(emb[rows]), strict=True):
                    for tid, topic_score in emb_scores.items():
                        if topic_score > kw[i].get(tid, 0.0):
                            kw[i][tid] = topic_score
        topic_lists = [decide(self.taxonomy, s) for s in kw]
        topic_scores = [{t: round(float(v), 4) for t, v in s.items()} for s in kw]
        clock("topics")

        # The batch's e5 embeddings (rows of zeros where a text was not encoded) feed the toxicity head too.
        tox_scores, tox_categories = self._toxic.label_many(docs, langs, embeddings=emb)
        tox_scores = [0.0 if b else s for s, b in zip(tox_scores, brand, strict=True)]
        tox_categories = [[] if b else c for c, b in zip(tox_categories, brand, strict=True)]
        toxic = [s >= THRESHOLD for s in tox_scores]
        clock("toxic")

        if self.model is None:  # rules only (use_models=False): the pattern-based criticism
            crit, cons = criticism_many(docs, sentiments, sent_scores, topic_lists, toxic, brand)
        else:
            # Constructive is a rule judgment over the heads' criticism (suggestion or cause: see
            # jobs.labeller.criticism); the learned constructive head, trained on "a concrete problem"
            # as the definition, flagged plain complaints (precision 0.16 on the demo month).
            cons = constructive_many(docs, crit, sentiments, brand)
            crit = [c or k for c, k in zip(crit, cons, strict=True)]
        # Hate and threats are not criticism of the brand, constructive or not: they go to
        # moderation, never to the answer queue (a narrow override over the heads' answer).
        for i, cats in enumerate(tox_categories):
            if toxic[i] and NOT_CRITICISM.intersection(cats):
                crit[i] = cons[i] = False
        questions = question_many(docs, crit, toxic, brand)
        clock("judgments")
        return {
            "lang": langs,
            "lang_confidence": [float(c) for c in lang_conf],
            "sentiment": sentiments,
            "sentiment_score": [float(s) for s in sent_scores],
            "topics": topic_lists,
            "topic_scores": topic_scores,
            "toxic": toxic,
            "toxic_score": [float(s) for s in tox_scores],
            "toxic_categories": tox_categories,
            "criticism": crit,
            "constructive": cons,
            "question": questions,
        }


class _StageClock:
    """Adds the process CPU time since the previous call to the named stage."""

    def __init__(self, totals: dict[str, float]) -> None:
        import time

        self._now = time.process_time
        self._totals = totals
        self._last = self._now()

    def __call__(self, stage: str) -> None:
        now = self._now()
        self._totals[stage] = self._totals.get(stage, 0.0) + now - self._last
        self._last = now


def _centring_path(state_path: Any, model: Any) -> Any:
    """The shared centring state file, or None (in memory only) when its folder cannot be known."""
    try:
        return state_path(model)
    except Exception:  # settings unreadable in this process: centring still works, per process
        return None


def _flag(value: Any) -> bool:
    """True only for a real true value: None and NaN (pandas' missing) are False."""
    if value is None or (isinstance(value, float) and value != value):
        return False
    return bool(value)


def _is_brand(record: dict) -> bool:
    author = record.get("author")
    if isinstance(author, dict) and author.get("is_brand") is not None:
        return _flag(author.get("is_brand"))
    return _flag(record.get("is_brand", False))


def get_labeller() -> Labeller:
    """The process-wide labeller (built once, thread-safe)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = Labeller()
    return _instance


__all__ = ["COLUMNS", "LABELLER_VERSION", "Labeller", "RuleStages", "get_labeller"]
