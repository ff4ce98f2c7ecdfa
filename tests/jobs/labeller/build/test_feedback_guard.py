"""`models build`'s guard works head by head: a language whose corrections make its head worse keeps
the current head, and the other languages' improvements still ship. The page's own corrections decide;
the shipped held-out tweets are only a floor, which corrections with every label inverted fall through."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jobs.labeller.build.evaluation import load_labelled
from jobs.labeller.build.feedback import build_with_feedback, keep_current
from jobs.labeller.build.guard import FLOOR_TOLERANCE
from jobs.labeller.heads import ANY_LANG, PACKAGED_ARTEFACT, LabelModel, LinearHead

FLIP = {"positive": "negative", "negative": "positive"}


def _head(seed: int) -> LinearHead:
    return LinearHead(("true",), np.random.default_rng(seed).normal(size=(1, 4)), np.zeros(1))


def test_rejected_heads_are_the_current_models_and_a_fully_rejected_language_keeps_its_mean() -> None:
    current = LabelModel(
        {"version": "current"},
        {ANY_LANG: np.zeros(4, np.float32), "en": np.ones(4, np.float32)},
        {ANY_LANG: 5.0, "en": 7.0},
        {("criticism", ANY_LANG): _head(0), ("criticism", "en"): _head(1)},
    )
    new = {
        ("criticism", ANY_LANG): _head(0),
        ("criticism", "en"): _head(2),
        ("criticism", "de"): _head(3),
        ("criticism", "fr"): _head(4),
    }
    means = {
        ANY_LANG: np.zeros(4, np.float32),
        "en": np.full(4, 2.0, np.float32),
        "de": np.full(4, 3.0, np.float32),
        "fr": np.full(4, 4.0, np.float32),
    }
    counts = {ANY_LANG: 5.0, "en": 9.0, "de": 40.0, "fr": 50.0}
    rejected = {("criticism", "en"), ("criticism", "de")}
    heads, kept_means, kept_counts = keep_current(
        new, means, counts, current, rejected, {("criticism", "en"), ("criticism", "de"), ("criticism", "fr")}
    )
    assert heads[("criticism", "en")] is current.heads[("criticism", "en")]  # the current per-language head
    assert ("criticism", "de") not in heads  # the current model had none: de uses the shared head again
    assert heads[("criticism", "fr")] is new[("criticism", "fr")]  # fr passed: its new head ships
    assert np.array_equal(kept_means["en"], current.means["en"]) and kept_counts["en"] == 7.0
    assert "de" not in kept_means and np.array_equal(kept_means["fr"], means["fr"])


def test_flipped_english_corrections_are_held_back_while_french_ones_ship(tmp_path: Path, monkeypatch) -> None:
    """English corrections that invert every shipped English label fall through the floor although
    the page's own k-fold says they are followed; the French ones (no floor) make a new French head."""
    monkeypatch.setenv("ECOUTE_LABELLER_DIR", str(tmp_path / "state"))
    items = {
        lang: [it for it in load_labelled(f"{lang}_test.tsv") if it.sentiment in FLIP][:60] for lang in ("fr", "en")
    }
    corrections = [
        {
            "mention_id": f"{lang}{i}",
            "text": it.text,
            "lang": lang,
            "labels": {"sentiment": FLIP[it.sentiment]},
            "corrected_at": "2026-12-01T10:00:00Z",
        }
        for lang, its in items.items()
        for i, it in enumerate(its)
    ]
    current = LabelModel.load(PACKAGED_ARTEFACT)
    shipped, messages, table = build_with_feedback(corrections, current, tmp_path, log=lambda _: None)
    text = "\n".join(messages)
    assert shipped, text
    page = {(v["task"], v["lang"]): v for v in table if v["on"] == "page"}
    assert page[("sentiment", "en")]["passes"] and page[("sentiment", "fr")]["passes"]  # the page follows itself
    assert page[("sentiment", "en")]["noise"] > 0
    floor = next(v for v in table if v["on"] == "floor")
    assert floor["reference"] == "packaged" and floor["new"] < floor["current"] - FLOOR_TOLERANCE, floor
    assert "kept the current model's head for sentiment en" in text, text
    (path,) = tmp_path.glob("e5-heads-*.npz")
    built = LabelModel.load(path)
    assert built.meta["per_language_heads"] == ["sentiment:fr"]
    assert ("sentiment", "fr") in built.heads and ("sentiment", "en") not in built.heads
    assert np.array_equal(built.means["en"], current.means["en"])
    assert len(built.meta["feedback_keys"]) == len(items["fr"])  # it learnt from the French texts only
    from jobs.labeller import history

    assert history.events()[-1]["version"] == built.version  # the new model is the one in use
