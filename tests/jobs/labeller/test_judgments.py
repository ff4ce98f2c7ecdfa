"""The question and constructive judgments on hand-written cases (smoke and regression only: the
figures are measured on the demo month and reported in docs/labels.md)."""

from __future__ import annotations

import pytest

from jobs.labeller import get_labeller
from jobs.labeller.question import asks
from jobs.labeller.text import prepare


@pytest.fixture(scope="module")
def lab():
    return get_labeller()


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, vous livrez en Belgique ?",
        "quelqu'un sait si le baume est vegan",
        "Est-ce que la bougie existe en grand format",
        "Do you ship to the UK?",
        "I was wondering whether the serum suits sensitive skin",
        "¿Tenéis tienda en Madrid?",
        "Liefert ihr nach Deutschland?",
        "Spedite in Italia?",
        "Vocês enviam para Portugal?",
        "Sérieux ? Et c'est dispo à Lyon ?",
    ],
)
def test_questions_in_every_served_language(text: str) -> None:
    assert asks(prepare(text)), text


@pytest.mark.parametrize("text", ["Sérieusement ?", "Allô ???", "Seriously?", "J'adore ce baume", "🙂?", "?"])
def test_rhetorical_cries_and_statements_ask_nothing(text: str) -> None:
    assert not asks(prepare(text)), text


def test_question_judgment_leaves_complaints_insults_friends_and_the_brand_out(lab) -> None:
    texts = [
        "Vous livrez en Belgique ?",
        "Ça fait 3 semaines que j'attends ma commande, vous comptez faire quelque chose ?",
        "Léa on y va samedi ?",
        "@lea tu l'as testé ?",
        "Bonjour, oui nous livrons en Belgique ?",
        "t'es payée par la marque ou quoi ?",
    ]
    cols = lab.label_columns(texts, is_brand=[False, False, False, False, True, False])
    assert cols["question"] == [True, False, False, False, False, False]
    assert cols["criticism"][1], "a complaint phrased as a question is criticism, for the answer queue"


def test_constructive_is_a_suggestion_or_a_cause_not_a_bare_report(lab) -> None:
    texts = [
        "Colis jamais reçu, commande 48213375, ça fait 12 jours !!",  # one's own case: a plain complaint
        "Livraison catastrophique, vous êtes nuls",
        "La pompe casse parce que le ressort est en plastique. Un ressort en métal réglerait le problème.",
        "Sans vouloir râler, envoyez le numéro de suivi dès l'expédition svp.",
        "The app crashes at checkout, please add PayPal as a fallback",
        "J'adore la marque donc je le dis gentiment : la mèche est trop fine parce que la bougie est large, "
        "une mèche en bois serait mieux.",
        "Je recommande les yeux fermés, continuez comme ça !",
    ]
    cols = lab.label_columns(texts)
    assert cols["criticism"][0] and not cols["constructive"][0]
    assert not cols["constructive"][1]
    assert cols["constructive"][2:6] == [True, True, True, True]
    assert all(cols["criticism"][2:6]), "constructive criticism is criticism"
    assert not cols["constructive"][6] and not cols["criticism"][6]
