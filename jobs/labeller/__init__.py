"""The one labeller of Écoute: used identically by the Spark job, the `ecoute label` command and tests.

    from jobs.labeller import get_labeller
    lab = get_labeller(config)                # cached per process and config: models load once
    cols = lab.label_columns(texts, kinds=None, is_brand=None)   # columnar, for Spark batches
    rows = lab.label_records(records)         # row-wise, for the CLI

``config`` (jobs.labeller.config.LabellerConfig, default: from the settings) says where its state,
caches and centring come from; the labeller reads nothing else.

Labels and their definitions: docs/labels.md. Quality and speed: tests/benchmarks/bench_labels.py.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.labeller.config import LabellerConfig

LABELLER_VERSION = "2026.12-5"

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
    "toxic_evidence",
    "criticism",
    "constructive",
    "question",
    "model_version",  # the heads' artefact that gave these labels (jobs.labeller.history)
)

# Toxicity categories whose texts are never criticism (see Labeller.label_columns).
NOT_CRITICISM = frozenset({"hate", "threat"})

_lock = threading.Lock()
_instances: dict[Any, Labeller] = {}
MAX_LABELLERS = 2  # per process: the current config and the one before


class RuleStages:
    """What every labeller shares: the rule stages (language, lexicon, toxicity, patterns, topics),
    the batch's first steps and the row-wise wrapper. Subclasses add their decider."""

    def __init__(self, taxonomy_path: str | None = None, config: LabellerConfig | None = None) -> None:
        from jobs.labeller import criticism, patterns, question, sentiment, topics
        from jobs.labeller.config import default_config
        from jobs.labeller.lang import LanguageDetector
        from jobs.labeller.toxic import ToxicityScorer

        self.config = config or default_config()
        patterns.use_cache_dir(self.config.cache_dir)  # before any pattern set is compiled
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
    """Holds the loaded models; safe to reuse across batches (only an own centring's means evolve)."""

    version = LABELLER_VERSION

    def __init__(
        self,
        taxonomy_path: str | None = None,
        use_models: bool = True,
        model_path: str | None = None,
        config: LabellerConfig | None = None,
    ) -> None:
        """``config`` (default: from the settings, with the newest published centring read now) says
        where state and caches are and how texts are centred: on the published centring, read-only
        (the enrichment job), or on the texts this instance labels, in memory (``centring="own"``:
        a file labelled on its own, which must not move the page's means)."""
        if config is None:
            from ecoute.settings import get_settings
            from jobs.labeller.config import LabellerConfig

            config = LabellerConfig.from_settings(get_settings())
        super().__init__(taxonomy_path, config)
        self.stage_seconds: dict[str, float] = {}  # CPU time per stage, summed over calls (bench_labels)
        self.model = None
        self._centring = None
        self._topic_embedder = None
        self._config = config
        self._follows_history = use_models and not model_path
        self._history_token: Any = None
        if use_models:
            from pathlib import Path

            from jobs.labeller import encoder
            from jobs.labeller.heads import LabelModel, newest_model
            from jobs.labeller.topics import TopicEmbedder

            encoder.use_engine(config.encoder_engine)
            encoder.use_disk_cache(config.embed_cache)
            if not model_path:
                from jobs.labeller import history

                self._history_token = history.token(config.state_dir)
            self.model = LabelModel.load(Path(model_path)) if model_path else newest_model(config.state_dir)
            self._centring = self._new_centring(self.model)
            # the descriptions in the texts' own form: one encoding per text, compared like with like
            self._topic_embedder = TopicEmbedder(self.taxonomy, lambda sentences: encoder.embed(sentences, query=True))

    @property
    def centring_version(self) -> str | None:
        """The published centring this labeller centres on (None: own texts, or the model's prior)."""
        return self._centring.version if self._centring is not None else None

    @property
    def model_version(self) -> str:
        return self.model.version if self.model is not None else "rules"

    def _new_centring(self, model: Any) -> Any:
        from jobs.labeller.centring import Centring

        if self._config.centring == "own":
            return Centring(model, learning=True)
        return Centring.published(model, self._config.published)

    def refresh_model(self) -> bool:
        """Load the model in use when a build or a rollback changed it since the last call (one stat
        and one directory listing when nothing changed); True when the heads were replaced. The
        enrichment job calls it before each micro-batch: no restart needed for a new model."""
        if self.model is None or not self._follows_history:
            return False
        from jobs.labeller import history
        from jobs.labeller.heads import newest_model

        now = history.token(self._config.state_dir)
        if now == self._history_token:
            return False
        self._history_token = now
        model = newest_model(self._config.state_dir)
        if model.version == self.model.version:
            return False
        centring = self._new_centring(model)
        if centring.learning and self._centring is not None:  # an in-memory stream keeps its texts
            centring.sums, centring.counts = self._centring.sums, self._centring.counts
        self.model, self._centring = model, centring
        return True

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
        judged = self._toxic.judge_many(docs, langs, embeddings=emb)
        tox_scores = [0.0 if b else j.score for j, b in zip(judged, brand, strict=True)]
        tox_categories = [[] if b else j.categories for j, b in zip(judged, brand, strict=True)]
        tox_evidence = [[] if b else j.evidence for j, b in zip(judged, brand, strict=True)]
        if self.model is not None and emb is not None:  # the page's own moderation, where it taught a head
            from jobs.labeller.heads import apply_toxic_heads

            apply_toxic_heads(self.model, emb, langs, tox_scores, tox_categories, brand)
            # where a head overruled the rules, their evidence went with their categories
            tox_evidence = [e if c else [] for e, c in zip(tox_evidence, tox_categories, strict=True)]
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
            "toxic_evidence": tox_evidence,
            "criticism": crit,
            "constructive": cons,
            "question": questions,
            "model_version": [self.model_version] * n,
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


def get_labeller(config: LabellerConfig | None = None) -> Labeller:
    """The process-wide labeller of ``config`` (built once per config, thread-safe); without one,
    the settings' labeller, its published centring read when it is first built."""
    key = config.key() if config is not None else None
    labeller = _instances.get(key)
    if labeller is None:
        with _lock:
            labeller = _instances.get(key)
            if labeller is None:
                labeller = _instances[key] = Labeller(config=config)
                while len(_instances) > MAX_LABELLERS:  # a long-lived worker across centring versions
                    _instances.pop(next(iter(_instances)))
    return labeller


__all__ = ["COLUMNS", "LABELLER_VERSION", "Labeller", "RuleStages", "get_labeller"]
