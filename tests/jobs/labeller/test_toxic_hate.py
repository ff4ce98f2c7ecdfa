"""Toxicity (issue 16): hate against groups, negation, counter-speech, categories, de-obfuscation.

Hand-written regression cases, not a measure of quality (tests/benchmarks/bench_labels.py prints
that, and the lead measures on held-out public suites).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from jobs.labeller import get_labeller
from jobs.labeller.text import prepare
from jobs.labeller.toxicity.deobfuscate import Corrector, normalise
from jobs.labeller.toxicity.hate import find_hate


@pytest.fixture(scope="module")
def label():
    lab = get_labeller()

    def run(*texts: str, is_brand: list[bool] | None = None) -> list[tuple[bool, float, list[str]]]:
        cols = lab.label_columns(list(texts), is_brand=is_brand)
        return list(zip(cols["toxic"], cols["toxic_score"], cols["toxic_categories"], strict=True))

    return run


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("Tous les musulmans devraient être tués.", ["threat", "hate"]),
        ("Je déteste les femmes.", ["hate"]),
        ("Black people are vermin.", ["hate"]),
        ("Il faudrait tous les expulser, ces migrants.", ["threat", "hate"]),
        ("Gay people should all be shot.", ["threat", "hate"]),
        ("Les juifs sont tous des voleurs.", ["hate"]),
        ("I can't stand Muslims.", ["hate"]),
        ("Je vais te tuer.", ["threat"]),
        ("T'es vraiment un connard.", ["insult"]),
    ],
)
def test_hate_threats_and_insults_are_flagged_with_their_categories(label, text: str, categories: list[str]) -> None:
    toxic, score, cats = label(text)[0]
    assert toxic and score >= 0.5
    assert set(categories) <= set(cats), cats


@pytest.mark.parametrize(
    "text",
    [
        "Je ne déteste pas les femmes.",
        "Muslims are not terrorists.",
        "Les musulmans célèbrent l'Aïd ce week-end.",
        "Je suis gay et j'adore vos produits.",
        "Women are amazing.",
        "Service de merde.",
        "Putain c'est trop bon !",
        "Je déteste les embouteillages.",
        "Les t-shirts noirs sont nuls.",
        "Vous êtes nuls, encore un retard de livraison.",
        "Encore un retard de livraison, c'est pénible.",
    ],
)
def test_what_must_not_be_flagged(label, text: str) -> None:
    toxic, score, cats = label(text)[0]
    assert not toxic and score < 0.5 and cats == [], (score, cats)


@pytest.mark.parametrize(
    "text",
    [
        "Stop saying immigrants are parasites.",
        "« Les Arabes sont des rats » : ce genre de commentaire est inacceptable.",
        "C'est du racisme de dire que les Noirs sont des singes.",
    ],
)
def test_counter_speech_is_kept_for_review_not_flagged(label, text: str) -> None:
    toxic, score, cats = label(text)[0]
    assert not toxic and 0.3 <= score < 0.5
    assert "hate" in cats  # the moderation queue shows it last, for review


def test_not_racist_but_is_hate_not_counter_speech() -> None:
    found = find_hate(prepare("C'est pas raciste de dire que les immigrés sont des délinquants.").folded, "fr")
    assert found.score >= 0.5 and not found.counter_speech


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Les mu$ulmans sont des terr0ristes.", "fr"),
        ("Je d é t e s t e les juifs.", "fr"),
        ("I h8 muslims.", "en"),
        ("Les noiirs sont des rats.", "fr"),
    ],
)
def test_obfuscated_hate_is_read_through(text: str, lang: str) -> None:
    assert find_hate(prepare(text).folded, lang).score >= 0.5


def test_typo_correction_never_turns_a_known_word_into_a_lexicon_word() -> None:
    fix = Corrector(["pedes", "noirs", "musulmans"], known=["pieds"])
    assert fix.correct("pieds") == "pieds"
    assert fix.correct("musulmmans") == "musulmans"
    assert normalise("3 semaines") == "3 semaines"  # digits alone are not leet


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Odio a los musulmanes.", "es"),
        ("Gli immigrati sono parassiti.", "it"),
        ("Os imigrantes são ratos.", "pt"),
        ("Man sollte alle Juden vergasen.", "de"),
    ],
)
def test_other_languages_have_lexicons(text: str, lang: str) -> None:
    assert find_hate(prepare(text).folded, lang).score >= 0.5
    assert find_hate(prepare(text.replace("Odio", "No odio")).folded, lang).score < 0.5 or "Odio" not in text


def test_brand_texts_are_never_toxic(label) -> None:
    assert label("Je déteste les femmes.", is_brand=[True])[0] == (False, 0.0, [])


def test_score_many_takes_the_batchs_embeddings() -> None:
    lab = get_labeller()
    docs = [prepare(t) for t in ("you are such a waste of space", "Bonjour, vous livrez à Lyon ?")]
    langs = ["en", "fr"]
    from jobs.labeller.encoder import embed

    given = lab._toxic.score_many(docs, langs, embeddings=embed([d.clean[:300] for d in docs]))
    assert given[0] >= 0.5 > given[1]  # the head reads abuse no rule names
    missing = np.zeros((2, 384), dtype=np.float32)  # rows not encoded yet are computed
    assert lab._toxic.score_many(docs, langs, embeddings=missing) == given
    # without the batch's embeddings, only texts the rules found suspicious are worth encoding
    assert lab._toxic.score_many(docs, langs)[0] < 0.5


def test_toxicity_stage_imports_no_sklearn_or_scipy_at_run_time() -> None:
    code = (
        "import sys; from jobs.labeller.toxic import ToxicityScorer; from jobs.labeller.text import prepare; "
        "ToxicityScorer().label_many([prepare(t) for t in ('Je déteste les femmes.', 'you idiot', 'you are all so')], "
        "['fr', 'en', 'en']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy', 'profanity_check')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_ordinary_words_one_edit_from_a_slur_are_not_corrected_into_it() -> None:
    """Seen on the demo month: "plastic" was read as a slur and "Fnigers crossed" as another."""
    from jobs.labeller.text import prepare
    from jobs.labeller.toxicity.hate import find_hate

    for text in (
        'Hi, so much plastic for a "green" brand',
        "Fnigers crossed 🍀",
        "The plastic spring in the pump breaks",
    ):
        assert find_hate(prepare(text).folded, "en").score < 0.5, text
    # obfuscation that keeps the first letter is still undone
    assert find_hate(prepare("Les musluman sont des rats").folded, "fr").score >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Tous les musulmans devraient être tués.",
        "Il faudrait tous les expulser, ces migrants.",
        "Gay people should all be shot.",
        "Les juifs sont tous des voleurs.",
    ],
)
def test_hate_and_threats_are_never_criticism(text: str) -> None:
    """The criticism head read hatred as (constructive) criticism: it goes to moderation instead."""
    cols = get_labeller().label_columns([text])
    assert cols["toxic"][0] and {"hate", "threat"} & set(cols["toxic_categories"][0])
    assert cols["criticism"] == [False] and cols["constructive"] == [False]


def test_a_plain_complaint_stays_criticism_beside_hate() -> None:
    texts = [
        "Tous les musulmans devraient être tués.",
        "Colis perdu depuis trois semaines et le service client ne répond jamais, c'est inadmissible.",
    ]
    cols = get_labeller().label_columns(texts)
    assert cols["criticism"] == [False, True] and not cols["toxic"][1]
