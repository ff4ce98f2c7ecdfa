"""Criticism of the brand, and whether it is constructive (definitions in docs/labels.md).

criticism  = written by a member (never the brand) AND expresses disapproval of the brand — its
             products, service, prices, app, stores, communication or values — rather than a mere
             negative mood (weather, personal life) or a neutral question.
constructive = criticism that gives the brand something to act on beyond the member's own case:
             a suggestion (what to change: "un format recharge éviterait…", "please add PayPal") or a
             cause (why it fails: "…parce que le ressort est en plastique"). A bare report of one's
             own problem, even with its order number, is a plain complaint; a suggestion for change
             is criticism even when politely wrapped in praise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from jobs.labeller import lexicon as lx
from jobs.labeller.patterns import PatternSet
from jobs.labeller.text import Prepared, any_of

MODEL_CRIT_THRESHOLD = 0.5
MODEL_CRIT_ALONE = 0.7


COMPLAINT, TARGET = range(2)  # indices in rule_patterns()
SUGGESTION, CAUSE = range(2)  # indices in constructive_patterns()


@lru_cache(maxsize=1)
def rule_patterns() -> PatternSet:
    return PatternSet([any_of(lx.COMPLAINT_PATTERNS), re.compile(lx.BRAND_TARGET)])


@lru_cache(maxsize=1)
def constructive_patterns() -> PatternSet:
    """Suggestions and causes; each pattern carries its own word boundaries (some start a sentence)."""
    return PatternSet([_joined(lx.SUGGESTION_PATTERNS), _joined(lx.CAUSE_PATTERNS)])


def _joined(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def constructive_many(
    docs: Sequence[Prepared],
    criticism: Sequence[bool],
    sentiments: Sequence[str],
    is_brand: Sequence[bool],
) -> list[bool]:
    """Constructive flags (docs/labels.md): a suggestion or a cause in a criticism; a suggestion in a
    text that is not positive — polite feedback the criticism heads miss ("Sans vouloir râler, …");
    both together whatever the tone ("J'adore la marque, mais la pompe casse parce que…; un ressort
    en métal réglerait le problème"). A cause alone ("…parce que…") is only constructive in a
    criticism: people explain their day too."""
    patterns = constructive_patterns()
    out: list[bool] = []
    for doc, crit, sent, brand in zip(docs, criticism, sentiments, is_brand, strict=True):
        if brand or doc.n_letters < 2:
            out.append(False)
            continue
        found = patterns.scan(doc.folded)
        suggestion, cause = bool(found.search(SUGGESTION)), bool(found.search(CAUSE))
        out.append((suggestion and cause) or ((suggestion or cause) and crit) or (suggestion and sent != "positive"))
    return out


def criticism_many(
    docs: Sequence[Prepared],
    sentiments: Sequence[str],
    sentiment_scores: Sequence[float],
    topics: Sequence[list[str]],
    toxic: Sequence[bool],
    is_brand: Sequence[bool],
    model_prob: dict[int, float] | None = None,
) -> tuple[list[bool], list[bool]]:
    patterns = rule_patterns()
    crit: list[bool] = []
    model_prob = model_prob or {}
    for i, (doc, sent, topic_list, tox, brand) in enumerate(
        zip(docs, sentiments, topics, toxic, is_brand, strict=True)
    ):
        if brand or doc.n_letters < 2:
            crit.append(False)
            continue
        found = patterns.scan(doc.folded)
        about_brand = any(t != "other" for t in topic_list) or bool(found.search(TARGET))
        is_complaint = doc.complaint if doc.complaint is not None else bool(found.search(COMPLAINT))
        is_crit = is_complaint or (sent == "negative" and about_brand) or (tox and about_brand)
        prob = model_prob.get(i)
        if prob is not None and not is_crit:
            # the encoder head catches complaints the patterns miss ("Le t-shirt a bouloché")
            # (off-topic gloom — weather, health, work — is what this head must not take for criticism,
            # hence the higher bar when nothing points at the brand)
            is_crit = sent == "negative" and prob >= (MODEL_CRIT_THRESHOLD if about_brand else MODEL_CRIT_ALONE)
        crit.append(is_crit)
    cons = constructive_many(docs, crit, sentiments, is_brand)
    return [c or k for c, k in zip(crit, cons, strict=True)], cons


def complaint_flags(docs: Sequence[Prepared]) -> list[bool]:
    patterns = rule_patterns()
    for d in docs:
        if d.complaint is None:
            d.complaint = bool(patterns.scan(d.folded).search(COMPLAINT))
    return [bool(d.complaint) for d in docs]


def target_flags(docs: Sequence[Prepared]) -> list[bool]:
    patterns = rule_patterns()
    return [bool(patterns.scan(d.folded).search(TARGET)) for d in docs]
