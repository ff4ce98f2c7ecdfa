"""The labeller's public API: shape, types, robustness on hostile input, and a few labels that must hold."""

from __future__ import annotations

import pytest

from jobs.labeller import COLUMNS, LABELLER_VERSION, get_labeller

SENTIMENTS = {"negative", "neutral", "positive"}


@pytest.fixture(scope="module")
def lab():
    return get_labeller()


def test_get_labeller_is_cached_and_versioned(lab):
    assert get_labeller() is lab
    assert lab.version == LABELLER_VERSION
    assert isinstance(LABELLER_VERSION, str) and LABELLER_VERSION


def _check_columns(cols: dict, n: int, topic_ids: set[str]) -> None:
    assert set(cols) == set(COLUMNS)
    for key in COLUMNS:
        assert len(cols[key]) == n, key
    for i in range(n):
        assert isinstance(cols["lang"][i], str) and (len(cols["lang"][i]) == 2 or cols["lang"][i] == "und")
        assert 0.0 <= cols["lang_confidence"][i] <= 1.0
        assert cols["sentiment"][i] in SENTIMENTS
        assert 0.0 <= cols["sentiment_score"][i] <= 1.0
        assert cols["topics"][i] and set(cols["topics"][i]) <= topic_ids
        assert all(0.0 <= s <= 1.0 for s in cols["topic_scores"][i].values())
        assert isinstance(cols["toxic"][i], bool) and 0.0 <= cols["toxic_score"][i] <= 1.0
        assert isinstance(cols["criticism"][i], bool) and isinstance(cols["constructive"][i], bool)
        assert not cols["constructive"][i] or cols["criticism"][i]
        assert isinstance(cols["question"][i], bool)
        assert not (cols["question"][i] and cols["criticism"][i]), "a complaint phrased as a question is criticism"


def test_hostile_inputs_do_not_crash(lab):
    texts = [
        "",
        "   ",
        "😂😂😂",
        "🔥",
        "x" * 1_000_000,
        "a\x00b\x00",
        "\ud800 lone surrogate \udfff",
        None,
        42,
        "https://t.co/abc @handle #tag",
        "é" * 100_000,
        "\n\n\t",
    ]
    cols = lab.label_columns(texts)
    _check_columns(cols, len(texts), set(lab.taxonomy.ids))
    for i in (0, 1, 2, 3, 5, 7, 8, 11):
        assert cols["lang"][i] == "und", texts[i]
    assert cols["criticism"][0] is False and cols["toxic"][0] is False


def test_empty_batch(lab):
    cols = lab.label_columns([])
    assert set(cols) == set(COLUMNS) and all(v == [] for v in cols.values())


def test_length_mismatch_is_a_clear_error(lab):
    with pytest.raises(ValueError, match="is_brand"):
        lab.label_columns(["a", "b"], is_brand=[True])


def test_core_labels(lab):
    texts = [
        "Ma commande n'est toujours pas arrivée, ça fait 2 semaines !! 😡",
        "Trooop bien ce produit, je recommande 😍😍",
        "Quel temps pourri aujourd'hui",
        "Bande de connards, rendez-moi mon argent",
        "je suis con d'avoir oublié mon code promo",
        "Your app keeps crashing at checkout, please fix it",
        "I love this brand! Thank you so much",
        "merci",
    ]
    cols = lab.label_columns(texts)
    assert cols["lang"] == ["fr", "fr", "fr", "fr", "fr", "en", "en", "fr"]
    assert cols["sentiment"][0] == "negative" and cols["sentiment"][1] == "positive"
    assert cols["sentiment"][6] == "positive"
    assert "delivery" in cols["topics"][0]
    assert "app_website" in cols["topics"][5]
    # a report of one's own problem is a plain complaint; a suggestion makes criticism constructive
    assert cols["criticism"][0] and not cols["constructive"][0]
    assert cols["constructive"][5]
    assert not cols["criticism"][2], "bad weather is not criticism of the brand"
    assert cols["toxic"][3] and not cols["toxic"][4] and not cols["toxic"][0]
    assert cols["criticism"][5]
    assert not cols["criticism"][1] and not cols["criticism"][6]


def test_brand_texts_are_never_criticism_or_toxic(lab):
    texts = ["Bande de connards, rendez-moi mon argent", "Nous sommes désolés pour ce retard de livraison."]
    cols = lab.label_columns(texts, kinds=["comment", "reply"], is_brand=[True, True])
    assert cols["toxic"] == [False, False] and cols["toxic_score"] == [0.0, 0.0]
    assert cols["criticism"] == [False, False] and cols["constructive"] == [False, False]


def test_label_records_row_wise(lab):
    rows = lab.label_records(
        [
            {"id": "x:1", "text": "Livraison en retard, encore.", "author": {"is_brand": False}},
            {"id": "x:2", "text": "Livraison en retard, encore.", "author": {"is_brand": True}},
        ]
    )
    assert [r["id"] for r in rows] == ["x:1", "x:2"]
    assert set(rows[0]) == {"id", *COLUMNS}
    assert rows[0]["criticism"] and not rows[1]["criticism"]


def test_pandas_inputs_missing_values(lab):
    import pandas as pd

    texts = pd.Series(["Bande de connards", None, float("nan"), "Colis toujours pas reçu"])
    brand = pd.Series([float("nan"), None, True, False])
    cols = lab.label_columns(texts, is_brand=brand)
    assert cols["toxic"][0] is True, "NaN is_brand is not brand-authored"
    assert cols["lang"][1] == "und" and cols["lang"][2] == "und"
    assert cols["criticism"][3] is True


def test_any_unicode_gives_labels_within_the_contract(lab):
    """Property: whatever the text, the labels satisfy schemas/enriched_event.schema.json."""
    import re

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import schemas

    props = schemas.load_json("enriched_event.schema.json")["properties"]
    lang_re = re.compile(props["lang"]["pattern"])

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.text(min_size=0, max_size=300), min_size=1, max_size=8))
    def check(texts):
        cols = lab.label_columns(texts)
        _check_columns(cols, len(texts), set(lab.taxonomy.ids))
        assert all(lang_re.match(code) for code in cols["lang"])
        assert all(len(set(t)) == len(t) for t in cols["topics"])

    check()
