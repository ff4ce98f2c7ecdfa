"""The model history: the model in use follows builds and rollbacks, and a running labeller picks the
change up at its next batch (what the enrichment job does per micro-batch) — its labels change back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ecoute.settings import get_settings
from jobs.labeller import Labeller, history
from jobs.labeller.config import default_config
from jobs.labeller.heads import ANY_LANG, PACKAGED_ARTEFACT, LabelModel, LinearHead, newest_model

TEXTS = [
    "Merci beaucoup, service impeccable !",
    "Colis jamais reçu, trois semaines d'attente",
    "Vous ouvrez à quelle heure ?",
]


def _copy(tmp: Path, version: str, created: str, *, invert: bool = False) -> LabelModel:
    """The packaged model under another version; `invert` makes its sentiment head say the opposite."""
    model = LabelModel.load(PACKAGED_ARTEFACT)
    model.meta = {**model.meta, "version": version, "created_at": created, "kind": "feedback"}
    if invert:
        for (task, lang), head in list(model.heads.items()):
            if task == "sentiment":
                model.heads[(task, lang)] = LinearHead(head.classes, -head.coef, -head.intercept)
    model.save(tmp / f"e5-heads-{version}.npz")
    return model


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ECOUTE_LABELLER_DIR", str(tmp_path))
    get_settings.cache_clear()  # the settings (and the labeller config made from them) are read once
    default_config.cache_clear()
    yield tmp_path / "models"
    get_settings.cache_clear()
    default_config.cache_clear()


def test_without_a_history_the_newest_artefact_is_used_then_the_log_decides(model_dir: Path) -> None:
    base = LabelModel.load(PACKAGED_ARTEFACT).version
    assert newest_model().version == base and history.active().packaged
    _copy(model_dir, "20261201T000000Z", "2026-12-01T00:00:00+00:00")
    _copy(model_dir, "20261202T000000Z", "2026-12-02T00:00:00+00:00")
    assert newest_model().version == "20261202T000000Z"  # models built before the log: newest first
    history.record("20261201T000000Z", "build", "claire")
    assert newest_model().version == "20261201T000000Z"
    assert [e.version for e, _ in history.iter_versions()] == [base, "20261201T000000Z", "20261202T000000Z"]
    before, now = history.rollback("base", "claire")
    assert before.version == "20261201T000000Z" and now.version == base == newest_model().version
    _, back = history.rollback(None, "claire")  # no version: the one in use before
    assert back.version == "20261201T000000Z"
    with pytest.raises(history.UnknownVersion, match="no model 'nope'"):
        history.rollback("nope", "claire")
    (model_dir / "e5-heads-20261201T000000Z.npz").unlink()  # the logged one is gone: the one before it
    assert newest_model().version == base


def test_a_running_labeller_follows_a_build_and_a_rollback_at_its_next_batch(model_dir: Path) -> None:
    labeller = Labeller()
    first = labeller.label_columns(TEXTS)
    assert set(first["model_version"]) == {labeller.model_version}
    assert labeller.refresh_model() is False  # nothing changed: no reload
    _copy(model_dir, "20261203T000000Z", "2026-12-03T00:00:00+00:00", invert=True)
    history.record("20261203T000000Z", "build", "test")
    assert labeller.refresh_model() is True
    flipped = labeller.label_columns(TEXTS)
    assert flipped["model_version"] == ["20261203T000000Z"] * 3
    assert flipped["sentiment"] != first["sentiment"]
    time.sleep(0.01)  # a distinct modification time for the log
    history.rollback(None, "test")
    assert labeller.refresh_model() is True
    again = labeller.label_columns(TEXTS)
    assert again["sentiment"] == first["sentiment"] and again["model_version"] == first["model_version"]


def test_a_model_with_a_toxic_head_decides_toxicity_for_its_language(model_dir: Path) -> None:
    """Toxicity learnt from the page's moderation (heads.apply_toxic_heads): a French toxic head
    overrules the rules for French texts, both ways; other languages keep the rules' decision."""
    model = _copy(model_dir, "20261204T000000Z", "2026-12-04T00:00:00+00:00")
    coef = np.zeros((1, model.means[ANY_LANG].shape[0] + 1), dtype=np.float32)
    coef[0, -1] = -20.0  # "toxic" exactly when the rules said not toxic
    model.heads[("toxic", "fr")] = LinearHead(("true",), coef, np.array([5.0], dtype=np.float32))
    model.save(model_dir / "e5-heads-20261204T000000Z.npz")
    history.record("20261204T000000Z", "build", "test")
    texts = [
        "Bande de connards, vous êtes des ordures",
        "Merci pour la livraison rapide",
        "You are all idiots and morons",
    ]
    cols = Labeller().label_columns(texts, is_brand=[False, False, False])
    assert cols["toxic"] == [False, True, True]
    assert cols["toxic_categories"][0] == []  # overruled: no longer shown as an insult
    assert cols["toxic"][2] and cols["toxic_categories"][2]  # English: the rules, untouched
