"""Moderation a community manager can rely on (issue 25): the bypasses, threats, counter-speech, evidence.

Hand-written regression cases, not a measure of quality (tests/benchmarks/bench_labels.py prints
that on real data; the lead measures on held-out public suites). Each bypass here was missed by
labeller 2026.12-3.
"""

from __future__ import annotations

import pytest

from jobs.labeller import get_labeller
from jobs.labeller.normalise import normalise
from jobs.labeller.text import prepare

DEMO_THREAT = (
    "Si j' suis pas remboursé d'ici lundi je viens à la boutike de Metz et je vous jure que la vendeuse va le "
    "regretter, je sais où elle se gare."
)
HARMLESS = (
    "J'ai commandé la veste en lin le mois dernier, la coupe est parfaite et la couleur correspond aux photos. "
    "La livraison a pris quatre jours, le colis était bien emballé. "
)


@pytest.fixture(scope="module")
def judge():
    lab = get_labeller()

    def run(*texts: str) -> list[dict]:
        cols = lab.label_columns(list(texts))
        keys = ("toxic", "toxic_score", "toxic_categories", "toxic_evidence", "lang", "criticism", "constructive")
        return [{k: cols[k][i] for k in keys} for i in range(len(texts))]

    return run


ZW = "\u200b"
BYPASSES = {
    "zero-width padding": ZW * 4000 + "je sais où tu habites",
    "blank padding": " " * 3000 + "\n" * 1000 + "\t" * 500 + "je vais te défoncer",
    "long harmless comment ending in a threat": HARMLESS * 60 + "Et toi le livreur, je sais où tu habites.",
    "very long comment with a threat in the middle": HARMLESS * 300 + "on va venir te chercher. " + HARMLESS * 300,
    "dotted letters": "m.u.s.l.i.m.s are v.e.r.m.i.n",
    "spaced letters, double spaces between words": "m u s l i m s  a r e  v e r m i n",
    "zero-width inside words": f"je sais où tu h{ZW}ab{ZW}ites, sale c{ZW}o{ZW}nnard",
    "Cyrillic look-alikes in French": "Vous êtes des соnnаrds, je sаis оù tu hаbitеs",  # а, о, е are Cyrillic
    "right-to-left override around reversed text": "\u202esetibah ut uo sias ej\u202c",
    "fullwidth letters": "ｊｅ ｓａｉｓ ｏù ｔｕ ｈａｂｉｔｅｓ",
}


@pytest.mark.parametrize("name", list(BYPASSES))
def test_every_listed_bypass_is_flagged(judge, name: str) -> None:
    [got] = judge(BYPASSES[name])
    assert got["toxic"], (name, got)
    assert got["toxic_evidence"], name


def test_cyrillic_look_alikes_do_not_move_french_to_ukrainian(judge) -> None:
    [got] = judge("Bonjоur, jе vоudrаis sаvоir si vоus livrеz еn Bеlgiquе ?")  # Cyrillic о, е, а
    assert got["lang"] == "fr" and not got["toxic"]


def test_real_cyrillic_and_greek_are_left_alone() -> None:
    for text in ("Привет, как дела? Всё хорошо", "Καλημέρα, πότε ανοίγει το κατάστημα;"):
        assert normalise(text) == text


def test_normalise_keeps_ordinary_text() -> None:
    for text in ("il y a à manger", "Super, merci !", "c'est-à-dire", "version 1.2.3", "a. b. c.", "e.g. this"):
        assert prepare(text).clean == text


def test_slut_typo_of_salut_is_not_an_insult(judge) -> None:
    [typo, real] = judge("slut vous recrutez… ?", "you stupid slut")
    assert not typo["toxic"] and typo["toxic_categories"] == []
    assert real["toxic"]


THREATS_FR = [
    "je sais où tu habites",
    "tu vas le regretter",
    "fais attention à toi",
    "on va venir te chercher",
    "je sais où elle se gare",
    "si je te croise dans le magasin t'es mort",
    "je vais lui casser la gueule à la caissière",
    "je vais foutre le feu à votre magasin",
    "tes jours sont comptés",
]
THREATS_EN = [
    "I know where you live",
    "you'll regret this",
    "watch your back",
    "we're coming for you",
    "if I see you again you're dead",
    "I'm going to break your legs",
    "someone should shoot her",
    "I know where your kids go to school",
]


@pytest.mark.parametrize("text", THREATS_FR + THREATS_EN)
def test_threats_are_toxic_with_category_threat_first(judge, text: str) -> None:
    [got] = judge(text)
    assert got["toxic"] and got["toxic_categories"][0] == "threat", got
    assert got["toxic_evidence"][0]["category"] == "threat"
    assert not got["criticism"] and not got["constructive"]


@pytest.mark.parametrize(
    "text",
    [
        "je ne vais pas te frapper, calme-toi",
        "vous allez le regretter, je vais changer d'opérateur",
        "fais attention à toi sur la route, bisous",
        "je sais où se trouve le magasin de Lyon",
        "je suis mort de rire",
        "I'm not going to hurt you",
        "you're dead wrong about the prices",
        "you'll regret losing me as a customer",
        "take care and watch your back on the ice, love you",
    ],
)
def test_what_only_looks_like_a_threat_is_not_flagged(judge, text: str) -> None:
    [got] = judge(text)
    assert not got["toxic"], got
    assert "threat" not in got["toxic_categories"]


def test_quoted_threat_is_counter_speech_for_review(judge) -> None:
    [got] = judge("Il m'a écrit « je sais où tu habites », c'est inadmissible, j'ai signalé son compte")
    assert not got["toxic"] and "threat" in got["toxic_categories"]
    assert got["toxic_evidence"][0]["rule"].startswith("counter-speech")


def test_demo_month_threat_is_a_threat_and_not_criticism(judge) -> None:
    [got] = judge(DEMO_THREAT)
    assert got["toxic"] and got["toxic_categories"][0] == "threat"
    assert not got["criticism"] and not got["constructive"]
    [evidence] = [e for e in got["toxic_evidence"] if e["category"] == "threat"][:1]
    assert evidence["span"] in ("je sais ou elle se gare", "la vendeuse va le regretter")


def test_every_flag_carries_its_evidence_and_clean_texts_none(judge) -> None:
    rows = judge("Espèce de connard", "Je déteste les femmes.", "Merci pour la réponse rapide !")
    insult, hate, clean = rows
    assert insult["toxic_evidence"][0] == {
        "category": "insult",
        "score": 0.92,
        "rule": "rules",
        "span": "espece de connard",
    }
    assert hate["toxic_evidence"][0]["category"] == "hate" and hate["toxic_evidence"][0]["rule"] == "hate:emotion"
    assert clean["toxic_evidence"] == [] and clean["toxic_categories"] == []
    for row in rows:
        for entry in row["toxic_evidence"]:
            assert set(entry) == {"category", "score", "rule", "span"} and 0 <= entry["score"] <= 1


def test_a_long_text_costs_a_bounded_number_of_windows() -> None:
    from jobs.labeller.toxicity.windows import MAX_WINDOWS, windows

    doc = prepare(("la veste est belle. " * 5000)[:100_000])
    assert len(doc.raw) <= 4000 and len(windows(doc)) <= MAX_WINDOWS
    assert windows(prepare("court")) == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Why are all women so stupid?", "en"),
        ("Gay people? They are disgusting.", "en"),
        ("I have met many Muslims and I despise every single one of them.", "en"),
        ("Black lives do not matter.", "en"),
        ("I don't respect women at all.", "en"),
        ("Disabled people should not be allowed to have kids.", "en"),
        ("I think that all Muslims should be deported.", "en"),
        ("Ihatewomen", "en"),
        ("I hate wmoen", "en"),
        ("Muslims are disgsuting", "en"),
        ("Pourquoi les femmes sont-elles si stupides ?", "fr"),
        ("Les immigrés ? Ce sont des parasites.", "fr"),
        ("Les vies des noirs ne comptent pas.", "fr"),
        ("Je ne respecte pas les femmes.", "fr"),
        ("Il faut se débarrasser des musulmans une bonne fois pour toutes.", "fr"),
        ("Je déteste les fmemes", "fr"),
    ],
)
def test_hate_in_questions_references_negated_praise_and_misspellings(text: str, lang: str) -> None:
    from jobs.labeller.toxicity.hate import find_hate

    assert find_hate(prepare(text).folded, lang).score >= 0.5, text


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I don't hate immigrants at all.", "en"),
        ("I love women, they are amazing.", "en"),
        ("a single mum of two, and proud", "en"),  # "single" is not "singe" (a doubled letter only)
        ("You have no right to call Muslims vermin.", "en"),
        ('Statements like "women are weak" are just wrong.', "en"),
        ("Tu n'as pas le droit de traiter les musulmans de vermine.", "fr"),
        ("Je ne déteste pas les immigrés.", "fr"),
        ("J'adore les femmes, elles sont formidables.", "fr"),
    ],
)
def test_negated_hate_counter_speech_and_ordinary_words_are_not_flagged(judge, text: str, lang: str) -> None:
    [got] = judge(text)
    assert not got["toxic"], (text, got)


def test_corrections_never_turn_ordinary_words_into_lexicon_words() -> None:
    from jobs.labeller.toxicity.hate import corrector

    fix = corrector(("fr", "en"))
    assert [fix.correct(w) for w in ("single", "casser", "deported", "travel")] == [
        "single",
        "casser",
        "deported",
        "travel",
    ]
    assert [fix.correct(w) for w in ("wmoen", "imigrants", "noiirs")] == ["women", "immigrants", "noirs"]
    assert fix.segment("ihatewomen") == ["i", "hate", "women"] and fix.segment("bonjourmerci") is None
