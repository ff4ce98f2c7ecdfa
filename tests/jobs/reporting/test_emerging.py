"""Emerging topics on a realistic crisis day (the report's "what are people complaining about")."""

from __future__ import annotations

from jobs.reporting.emerging import emerging_topics

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
