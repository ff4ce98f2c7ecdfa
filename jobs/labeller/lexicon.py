"""The labeller's hand-written linguistic resources, loaded from data files in ``resources/``.

The big general lexicons come from packages (vaderSentiment's English lexicon, vadersentiment-fr's
French one); the YAML files beside this module hold only what those miss for brand-page comments:
domain words and phrases, negators, intensifiers, emoji valences, and the patterns of the toxicity
and criticism rules. A linguist edits the YAML; this module only loads it, with the types the rules
expect. Everything is matched on *folded* text (lower-case, no accents), so "déçu", "decu" and
"DÉÇU" are one word.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

RESOURCES = Path(__file__).resolve().parent / "resources"


@cache
def load_resource(name: str) -> dict[str, Any]:
    """One YAML file of ``resources/`` (parsed once per process)."""
    with (RESOURCES / name).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{RESOURCES / name}: expected a mapping of named lists")
    return data


def _valences(data: dict[str, Any], key: str) -> dict[str, float]:
    return {str(word): float(value) for word, value in data[key].items()}


def _words(data: dict[str, Any], key: str) -> set[str]:
    return {str(word) for word in data[key]}


def _patterns(data: dict[str, Any], key: str) -> list[str]:
    return [str(pattern) for pattern in data[key]]


def _weighted_patterns(data: dict[str, Any], key: str) -> list[tuple[str, float]]:
    return [(str(pattern), float(weight)) for pattern, weight in data[key]]


_sentiment = load_resource("sentiment.yaml")
DOMAIN_VALENCE = _valences(_sentiment, "domain_valence")
LEXICON_NEUTRAL = _words(_sentiment, "lexicon_neutral")
LEXICON_FIX = _valences(_sentiment, "lexicon_fix")
PHRASE_VALENCE = _weighted_patterns(_sentiment, "phrase_valence")
NEGATORS = _words(_sentiment, "negators")
FR_NE = _words(_sentiment, "fr_ne")
INTENSIFIERS = _valences(_sentiment, "intensifiers")
DIMINISHERS = _valences(_sentiment, "diminishers")
CONTRAST = _words(_sentiment, "contrast")
EMOJI_VALENCE = _valences(_sentiment, "emoji_valence")

_toxicity = load_resource("toxicity_rules.yaml")
TOXIC_WORD_ALLOW = _words(_toxicity, "toxic_word_allow")
TOXIC_SAFE_PATTERNS = _patterns(_toxicity, "toxic_safe_patterns")
TOXIC_PATTERNS = _weighted_patterns(_toxicity, "toxic_patterns")
STRONG_INSULTS = _words(_toxicity, "strong_insults")
WEAK_INSULTS = _words(_toxicity, "weak_insults")
INSULT_TARGETS = str(_toxicity["insult_targets"])
SWEARS = _words(_toxicity, "swears")
LEET = str.maketrans({str(k): str(v) for k, v in _toxicity["leet"].items()})
GREETING_TYPOS = _words(_toxicity, "greeting_typos")
FR_AFTER_GREETING = _words(_toxicity, "fr_after_greeting")

_criticism = load_resource("criticism_rules.yaml")
BRAND_TARGET = str(_criticism["brand_target"])
COMPLAINT_PATTERNS = _patterns(_criticism, "complaint_patterns")
SUGGESTION_PATTERNS = _patterns(_criticism, "suggestion_patterns")
CAUSE_PATTERNS = _patterns(_criticism, "cause_patterns")
SECOND_PERSON = str(_criticism["second_person"])

_question = load_resource("question_rules.yaml")
QUESTION_MARKS = str(_question["question_marks"])
INDIRECT_QUESTION_PATTERNS = _patterns(_question, "indirect_patterns")
RHETORICAL_PATTERNS = _patterns(_question, "rhetorical_patterns")
TO_FRIENDS_PATTERNS = _patterns(_question, "to_friends_patterns")
