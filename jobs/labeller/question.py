"""Whether a text is a member's question (definition in docs/labels.md).

question = written by a member (never the brand) AND asks something the brand or the community can
           answer ("vous livrez en Belgique ?", "¿Tenéis tienda en Madrid?", "quelqu'un sait si c'est
           vegan") — not a complaint phrased as a question (criticism: the answer queue), not a
           rhetorical cry ("Sérieux ?"), not an insult, not a question to tagged friends only.

The rules live in resources/question_rules.yaml; this module only compiles and applies them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from jobs.labeller import lexicon as lx
from jobs.labeller.patterns import PatternSet
from jobs.labeller.text import Prepared, any_of

INDIRECT, RHETORICAL, TO_FRIENDS = range(3)  # indices in the PatternSet
# A text that opens on tagged people and speaks to them in the familiar singular asks them, not the page.
_TAGGED_START = re.compile(r"^\s*(?:@[\w.]+[\s,]*)+")
_FAMILIAR = re.compile(r"\b(tu|t'|toi|ton|ta|tes)\b")


@lru_cache(maxsize=1)
def rule_patterns() -> PatternSet:
    return PatternSet(
        [any_of(lx.INDIRECT_QUESTION_PATTERNS), any_of(lx.RHETORICAL_PATTERNS), any_of(lx.TO_FRIENDS_PATTERNS)]
    )


@lru_cache(maxsize=1)
def _marks() -> re.Pattern[str]:
    return re.compile("[" + re.escape(lx.QUESTION_MARKS) + "]")


def asks(doc: Prepared) -> bool:
    """The text's form asks something: a question mark outside rhetorical cries, or an indirect question."""
    if doc.n_letters < 2:
        return False
    folded = doc.folded
    marked = bool(_marks().search(doc.raw))
    found = rule_patterns().scan(folded)
    if found.search(INDIRECT):
        return True
    if not marked:
        return False
    if found.search(RHETORICAL):
        folded = rule_patterns().patterns[RHETORICAL].sub(" ", folded)
    # the folded text keeps the marks (¿ and ？ fold to ?); URLs and handles are already gone from it
    return "?" in folded


def question_many(
    docs: Sequence[Prepared],
    criticism: Sequence[bool],
    toxic: Sequence[bool],
    is_brand: Sequence[bool],
) -> list[bool]:
    """One flag per text: a member's question (criticism, toxic and brand texts never are)."""
    out: list[bool] = []
    for doc, crit, tox, brand in zip(docs, criticism, toxic, is_brand, strict=True):
        if brand or crit or tox or not asks(doc):
            out.append(False)
            continue
        to_friends = bool(rule_patterns().scan(doc.folded).search(TO_FRIENDS)) or (
            bool(_TAGGED_START.match(doc.raw)) and bool(_FAMILIAR.search(doc.folded))
        )
        out.append(not to_friends)
    return out
