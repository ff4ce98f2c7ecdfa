"""The labeller's configuration: built from the settings, picklable, the only thing the labeller reads."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from ecoute.settings import Settings
from jobs.labeller.centring import CentringStats
from jobs.labeller.config import LabellerConfig, embed_cache_file
from jobs.labeller.heads import PACKAGED_ARTEFACT, LabelModel

TEXTS = ["Livraison en retard, encore une fois.", "Super équipe, merci pour votre aide !", "Le site est en panne"]


def _publish(directory: Path, created_at: str, scale: float = 0.2) -> CentringStats:
    """A centring in the packaged model's space, far enough from its prior to move the labels' scores."""
    model = LabelModel.load(PACKAGED_ARTEFACT)
    far = model.means["fr"] + np.random.default_rng(5).normal(scale=scale, size=model.means["fr"].shape)
    stats = CentringStats.build(
        {"fr": far * 4000.0}, {"fr": 4000.0}, {"created_at": created_at, "encoder": model.meta["encoder"]}
    )
    stats.save(directory)
    return stats


def test_the_config_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOUTE_LABELLER_DIR", str(tmp_path / "lab"))
    monkeypatch.setenv("ECOUTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOUTE_EMBED_CACHE", "off")
    config = LabellerConfig.from_settings(Settings())
    assert (config.state_dir, config.cache_dir, config.embed_cache) == (tmp_path / "lab", tmp_path / "cache", None)
    assert config.model_dir == tmp_path / "lab" / "models" and config.centring_dir == tmp_path / "lab" / "centring"
    monkeypatch.setenv("ECOUTE_EMBED_CACHE", str(tmp_path / "e.sqlite"))
    assert LabellerConfig.from_settings(Settings()).embed_cache == tmp_path / "e.sqlite"
    monkeypatch.delenv("ECOUTE_EMBED_CACHE")
    monkeypatch.delenv("ECOUTE_LABELLER_DIR")
    config = LabellerConfig.from_settings(Settings(state_dir=tmp_path / "state"))
    assert config.state_dir == tmp_path / "state" / "labeller"
    assert config.embed_cache == tmp_path / "cache" / embed_cache_file("onnx")


def test_the_published_centring_is_a_snapshot_shipped_with_the_config(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, labeller_dir=tmp_path / "lab")
    assert LabellerConfig.from_settings(settings).published is None  # nothing published: the prior
    first = _publish(tmp_path / "lab" / "centring", "2026-11-01T00:00:00+00:00")
    config = LabellerConfig.from_settings(settings)
    assert config.centring_version == first.version
    assert LabellerConfig.from_settings(settings, centring="own").published is None
    # What an executor receives: the same stats, without reading any file.
    shipped = pickle.loads(pickle.dumps(config))
    assert shipped.key() == config.key() and np.array_equal(shipped.published.sums["fr"], first.sums["fr"])
    _publish(tmp_path / "lab" / "centring", "2026-12-01T00:00:00+00:00", scale=0.3)
    assert config.centring_version == first.version  # a config made before keeps its snapshot
    assert LabellerConfig.from_settings(settings).centring_version != first.version  # the next run's


@pytest.fixture
def process_caches():
    """The process-wide caches a labeller's config points at, put back after the test."""
    from jobs.labeller import encoder, patterns

    saved = patterns._cache_dir, encoder._disk_path, encoder._disk
    yield
    patterns._cache_dir, encoder._disk_path, encoder._disk = saved


def test_a_labeller_reads_only_its_config_and_labels_the_same_whatever_came_before(
    tmp_path: Path, process_caches
) -> None:
    """Two executors of one run (or a replay) give a text the same labels, whatever each labelled before:
    the published centring never moves while labelling (it used to be a running mean shared by file)."""
    from jobs.labeller import Labeller, encoder, patterns

    _publish(tmp_path / "lab" / "centring", "2026-11-01T00:00:00+00:00")
    settings = Settings(state_dir=tmp_path, labeller_dir=tmp_path / "lab", cache_dir=tmp_path / "cache")
    config = LabellerConfig.from_settings(settings)
    fresh, busy = Labeller(config=config), Labeller(config=config)
    assert patterns.cache_dir() == tmp_path / "cache" and encoder._disk_path == tmp_path / "cache" / embed_cache_file(
        "onnx"
    )
    assert busy.centring_version == config.centring_version is not None
    busy.label_columns([f"Encore un colis perdu, numéro {i}, c'est inadmissible" for i in range(300)])
    assert busy.label_columns(TEXTS) == fresh.label_columns(TEXTS)
    assert sorted(p.name for p in (tmp_path / "lab").rglob("*.npz")) == [f"centring-{config.centring_version}.npz"]
    # An own centring learns the texts it labels: what came before changes it.
    own = LabellerConfig.from_settings(settings, centring="own")
    learner = Labeller(config=own)
    learner.label_columns([f"Encore un colis perdu, numéro {i}, c'est inadmissible" for i in range(300)])
    assert (
        learner.label_columns(TEXTS)["sentiment_score"] != Labeller(config=own).label_columns(TEXTS)["sentiment_score"]
    )
