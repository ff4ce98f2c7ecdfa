"""The learned heads: artefact selection, the published (read-only) and own centrings, no scikit-learn at run time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jobs.labeller.centring import PRIOR_WEIGHT, Centring, CentringStats, newest_centring
from jobs.labeller.heads import ANY_LANG, PACKAGED_ARTEFACT, LabelModel, LinearHead, newest_model

ROOT = Path(__file__).resolve().parents[3]


def tiny_model(created_at: str, version: str) -> LabelModel:
    rng = np.random.default_rng(0)
    heads = {
        ("sentiment", ANY_LANG): LinearHead(("negative", "neutral", "positive"), rng.normal(size=(3, 4)), np.zeros(3)),
        ("criticism", ANY_LANG): LinearHead(("true",), rng.normal(size=(1, 4)), np.zeros(1)),
        ("constructive", ANY_LANG): LinearHead(("true",), rng.normal(size=(1, 4)), np.zeros(1)),
    }
    means = {ANY_LANG: np.zeros(4, dtype=np.float32), "fr": np.full(4, 0.5, dtype=np.float32)}
    meta = {"version": version, "created_at": created_at, "encoder": "e5-test"}
    return LabelModel(meta, means, {"fr": 10.0, ANY_LANG: 10.0}, heads)


def test_packaged_artefact_loads_and_is_small() -> None:
    model = LabelModel.load(PACKAGED_ARTEFACT)
    assert PACKAGED_ARTEFACT.stat().st_size < 3_000_000
    assert {"fr", "en", ANY_LANG} <= set(model.means)
    x = np.zeros((2, model.head("sentiment", "fr").coef.shape[1]), dtype=np.float32)
    p = model.head("sentiment", "xx").proba(x)
    assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1.0)
    assert model.head("criticism", "fr").proba(x).shape == (2,)


def test_newest_valid_artefact_wins_damaged_ones_are_skipped(tmp_path: Path) -> None:
    packaged = LabelModel.load(PACKAGED_ARTEFACT)
    assert newest_model(tmp_path).version == packaged.version
    models = tmp_path / "models"
    tiny_model("2999-01-01T00:00:00+00:00", "newer").save(models / "e5-heads-newer.npz")
    tiny_model("2000-01-01T00:00:00+00:00", "older").save(models / "e5-heads-older.npz")
    (models / "e5-heads-zzz-damaged.npz").write_bytes(b"not a zip")
    assert newest_model(tmp_path).version == "newer"
    round_trip = LabelModel.load(models / "e5-heads-newer.npz")
    assert round_trip.meta["version"] == "newer" and round_trip.mean_counts["fr"] == 10.0


def _stats(created_at: str, fr_sum: float = 1000.0, fr_n: float = 1000.0, encoder: str = "e5-test") -> CentringStats:
    meta = {"created_at": created_at, "encoder": encoder}
    return CentringStats.build({"fr": np.full(4, fr_sum)}, {"fr": fr_n}, meta)


def test_a_published_centring_blends_the_prior_and_never_changes() -> None:
    model = tiny_model("2026-01-01T00:00:00+00:00", "t")
    centring = Centring.published(model, _stats("2026-12-01T00:00:00+00:00"))
    expected = (PRIOR_WEIGHT * 0.5 + 1000) / (PRIOR_WEIGHT + 1000)
    assert np.allclose(centring.mean("fr"), expected) and np.allclose(centring.mean("de"), 0.0)  # unknown → fallback
    assert centring.version == _stats("2026-12-01T00:00:00+00:00").version
    with pytest.raises(RuntimeError, match="read-only"):
        centring.observe(np.ones((3, 4), dtype=np.float32), ["fr"] * 3)
    assert np.allclose(centring.mean("fr"), expected)
    centred = centring.centre(np.ones((3, 4), dtype=np.float32), ["fr", "de", "fr"])
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0)
    # Nothing published yet: the model's prior alone. Another encoder's space: the prior, not its sums.
    assert np.allclose(Centring.published(model, None).mean("fr"), 0.5)
    assert np.allclose(Centring.published(model, _stats("2026-12-01T00:00:00+00:00", encoder="other")).mean("fr"), 0.5)


def test_an_own_centring_learns_the_texts_it_labels_in_memory() -> None:
    centring = Centring(tiny_model("2026-01-01T00:00:00+00:00", "t"), learning=True)
    batch = np.ones((1000, 4), dtype=np.float32)
    centring.observe(batch, ["fr"] * 500 + ["und"] * 500, weights=np.r_[np.zeros(250), np.ones(750)].astype(np.float32))
    assert centring.counts == {"fr": 250}  # und never counts; weight 0 (duplicates) never counts
    assert np.allclose(centring.mean("fr"), (PRIOR_WEIGHT * 0.5 + 250) / (PRIOR_WEIGHT + 250))
    assert centring.version is None


def test_published_centrings_are_versioned_and_the_newest_readable_one_is_used(tmp_path: Path) -> None:
    older, newer = _stats("2026-11-01T00:00:00+00:00"), _stats("2026-12-01T00:00:00+00:00", fr_sum=10.0)
    assert older.version != newer.version and older.version.startswith("20261101T000000")
    assert _stats("2026-11-01T00:00:00+00:00").version == older.version  # same contents, same version
    assert newest_centring(tmp_path / "none") is None
    older.save(tmp_path)
    newer.save(tmp_path)
    (tmp_path / "centring-zzz-damaged.npz").write_bytes(b"garbage")
    found = newest_centring(tmp_path)
    assert found is not None and found.version == newer.version and found.counts == {"fr": 1000.0}
    assert np.array_equal(found.sums["fr"], newer.sums["fr"])
    assert not list(tmp_path.glob("*.tmp")), "a published artefact is renamed into place"


def test_no_scikit_learn_or_scipy_in_the_decision_path() -> None:
    code = (
        "import sys, jobs.labeller.decide, jobs.labeller.heads, jobs.labeller.encoder, jobs.labeller.features;"
        "bad = sorted(m for m in ('sklearn', 'scipy') if m in sys.modules); print(json.dumps(bad))"
    )
    out = subprocess.run([sys.executable, "-c", "import json;" + code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_feedback_in_one_language_moves_only_that_language() -> None:
    """French corrections give French its own heads; the shared heads (English, every language
    without feedback) are fitted on the shipped rows alone, so they are exactly as before."""
    from jobs.labeller.build.corpora import Row
    from jobs.labeller.build.training import fit_heads, langs_with_feedback
    from jobs.labeller.features import N_RULE_FEATURES

    rng = np.random.default_rng(1)
    classes = ("negative", "neutral", "positive")

    def rows(n: int, lang: str, source: str) -> list[Row]:
        return [
            Row(
                f"{source}{i}",
                lang,
                {"sentiment": classes[i % 3], "criticism": i % 2 == 0, "constructive": i % 4 == 0},
                1.0,
                source,
            )
            for i in range(n)
        ]

    shipped = rows(90, "en", "shipped")
    french = [
        Row(
            r.text,
            "fr",
            {**r.labels, "sentiment": classes[(classes.index(r.labels["sentiment"]) + 1) % 3]},
            4.0,
            "feedback",
        )
        for r in rows(60, "fr", "feedback")
    ]
    dim = 6 + N_RULE_FEATURES
    x_shipped = rng.normal(size=(len(shipped), dim))
    x_french = rng.normal(size=(len(french), dim))
    before = fit_heads(shipped, x_shipped)
    after = fit_heads([*shipped, *french], np.vstack([x_shipped, x_french]), langs_with_feedback(french))
    assert ("sentiment", "fr") in after and ("criticism", "fr") in after and ("sentiment", "fr") not in before
    for key, head in before.items():  # '*' (English) and the embedding-only heads of es/de/it/pt
        assert np.array_equal(head.coef, after[key].coef) and np.array_equal(head.intercept, after[key].intercept)
    probe = x_french[:10]
    assert not np.allclose(after[("sentiment", "fr")].proba(probe), after[("sentiment", ANY_LANG)].proba(probe))
