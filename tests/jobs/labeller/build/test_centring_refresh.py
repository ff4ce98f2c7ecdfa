"""The published centring built from stored mentions (``ecoute models centring``), against noida-db."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from jobs.labeller.build.centring import centring_inputs, refresh_centring
from jobs.labeller.centring import newest_centring
from jobs.labeller.encoder import embed, encoder_input
from jobs.labeller.text import prepare
from tests.jobs.alerts.data import index_mentions, mention

NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)


def _mentions() -> list[dict]:
    texts = [
        ("Livraison en retard, encore une fois", "fr"),
        ("Merci pour la réponse rapide", "fr"),
        ("Merci pour la réponse rapide", "fr"),  # a copy-pasted comment is one voice
        ("Great service, thanks a lot", "en"),
        ("😍😍", "fr"),  # no words: never encoded
        ("??", "und"),
        ("Commande jamais livrée, service client injoignable", "fr"),
    ]
    docs = [mention(n, NOW - timedelta(hours=n + 1), text=t, lang=lang) for n, (t, lang) in enumerate(texts)]
    docs.append(mention(50, NOW - timedelta(days=40), text="Un commentaire d'il y a longtemps", lang="fr"))
    docs.append(mention(51, NOW - timedelta(hours=1), text="Nouvelle collection disponible", lang="fr", is_brand=True))
    return docs


def test_the_centring_is_built_from_the_distinct_stored_texts_of_the_window(settings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"labeller_dir": tmp_path / "labeller"})
    index_mentions(settings, _mentions())
    stats = refresh_centring(settings, days=30, now=NOW)
    assert stats is not None
    # fr: four distinct worded texts of the window (the brand's post is the page's too); the duplicate,
    # the emoji-only text, the undetermined language and the 40-day-old comment do not count.
    assert stats.counts == {"fr": 4.0, "en": 1.0} and stats.meta["texts"] == {"fr": 4, "en": 1}
    fr = [
        "Livraison en retard, encore une fois",
        "Merci pour la réponse rapide",
        "Commande jamais livrée, service client injoignable",
        "Nouvelle collection disponible",
    ]
    expected = embed([encoder_input(prepare(t).raw) for t in fr], query=True).astype(np.float64).sum(axis=0)
    assert np.allclose(stats.sums["fr"], expected, atol=1e-5)
    published = newest_centring(tmp_path / "labeller" / "centring")
    assert published is not None and published.version == stats.version
    assert stats.meta["encoder"] == "e5-small-q4-query" and stats.meta["mentions_read"] == 8

    # Built again from the same mentions: the same contents (the version differs only by its time).
    again = refresh_centring(settings, days=30, now=NOW)
    assert again is not None and again.version.split("-")[-1] == stats.version.split("-")[-1]
    # Nothing in the window: nothing published, the last version stays.
    assert refresh_centring(settings, days=1, now=NOW + timedelta(days=60)) is None


def test_each_language_keeps_its_newest_texts_up_to_the_cap() -> None:
    newest_first = [(f"Commentaire numéro {i} sur la livraison", "fr") for i in range(10)] + [("Hello there", "en")]
    inputs = centring_inputs(newest_first, max_per_lang=3)
    assert inputs == {"en": ["Hello there"], "fr": sorted(t for t, _ in newest_first[:3])}


def test_models_centring_command(settings, tmp_path: Path) -> None:
    import os

    index_mentions(settings, _mentions())
    env = {
        **os.environ,
        "ECOUTE_ES__URL": settings.es.url,
        "ECOUTE_INDICES__MENTIONS": settings.indices.mentions,
        "ECOUTE_LABELLER_DIR": str(tmp_path / "lab"),
    }
    ecoute = str(Path(sys.executable).with_name("ecoute"))
    proc = subprocess.run(
        [ecoute, "models", "centring", "--days", "36500"], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = " ".join((proc.stdout + proc.stderr).split())
    assert "published (fr 5, en 1)" in said  # with the 40-day-old comment
    assert len(list((tmp_path / "lab" / "centring").glob("centring-*.npz"))) == 1
    down = {**env, "ECOUTE_ES__URL": "http://127.0.0.1:1", "ECOUTE_ES__REQUEST_TIMEOUT_S": "2"}
    proc = subprocess.run([ecoute, "models", "centring"], capture_output=True, text=True, timeout=300, env=down)
    assert proc.returncode == 1 and "cannot build the centring" in " ".join((proc.stdout + proc.stderr).split())
