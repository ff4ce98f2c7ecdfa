"""Criticism of the brand, and whether it is constructive (definitions in docs/labels.md).

criticism  = written by a member (never the brand) AND expresses disapproval of the brand — its
             products, service, prices, app, stores, communication or values — rather than a mere
             negative mood (weather, personal life) or a neutral question.
constructive = a criticism that names something the brand can act on: a concrete problem, its
             circumstances (when, how long, which order/store/product), a cause or a suggestion.
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


COMPLAINT, CONSTRUCTIVE, TARGET = range(3)  # indices in the PatternSet


@lru_cache(maxsize=1)
def rule_patterns() -> PatternSet:
    return PatternSet([any_of(lx.COMPLAINT_PATTERNS), any_of(lx.CONSTRUCTIVE_PATTERNS), re.compile(lx.BRAND_TARGET)])


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
    cons: list[bool] = []
    model_prob = model_prob or {}
    for i, (doc, sent, topic_list, tox, brand) in enumerate(
        zip(docs, sentiments, topics, toxic, is_brand, strict=True)
    ):
        if brand or doc.n_letters < 2:
            crit.append(False)
            cons.append(False)
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
        cons.append(is_crit and bool(found.search(CONSTRUCTIVE)))
    return crit, cons


def complaint_flags(docs: Sequence[Prepared]) -> list[bool]:
    patterns = rule_patterns()
    for d in docs:
        if d.complaint is None:
            d.complaint = bool(patterns.scan(d.folded).search(COMPLAINT))
    return [bool(d.complaint) for d in docs]


def target_flags(docs: Sequence[Prepared]) -> list[bool]:
    patterns = rule_patterns()
    return [bool(patterns.scan(d.folded).search(TARGET)) for d in docs]
