"""Threats against a person, the brand's staff or its stores: direct, conditional and implicit.

"je vais te défoncer", "si je te croise t'es mort", "je sais où elle se gare", "tu vas le
regretter", "fais attention à toi", "we're coming for you". Patterns per language live in
``resources/toxicity/threats.yaml`` (fr, en first; es, de, it, pt core forms) and are matched on the
folded text after de-obfuscation. A match does not count as a threat when a negation stands just
before it ("je ne vais pas te …"), when its sentence says a customer is leaving ("vous allez le
regretter, je change d'opérateur") or when the text is care ("fais attention à toi, bisous"); a
quoted or reported threat ("il m'a écrit « je sais où tu habites », j'ai porté plainte") is
counter-speech: kept for review, not flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from jobs.labeller.patterns import PatternSet
from jobs.labeller.toxicity.deobfuscate import RESOURCES

SENTENCE_END_RE = re.compile(r"[.!?;\n]")
NEGATION_BEFORE = 14  # characters before a match where a negation cancels it ("je ne vais pas", "i'm not")


@dataclass(slots=True)
class ThreatFinding:
    score: float = 0.0
    kind: str = ""
    span: str = ""
    review: bool = False  # quoted or reported: a person looks, nothing is hidden


@dataclass(frozen=True, slots=True)
class _Rules:
    patterns: PatternSet
    meta: tuple[tuple[str, str, float], ...]  # (lang, kind, score) per pattern
    not_threat: re.Pattern[str]
    care: re.Pattern[str]
    negation: re.Pattern[str]
    triggers: re.Pattern[str]


@lru_cache(maxsize=1)
def rules() -> _Rules:
    data = yaml.safe_load((RESOURCES / "threats.yaml").read_text(encoding="utf-8"))
    compiled, meta = [], []
    for lang, entries in data["patterns"].items():
        for kind, score, pattern in entries:
            compiled.append(re.compile(pattern))
            meta.append((str(lang), str(kind), float(score)))
    return _Rules(
        PatternSet(compiled),
        tuple(meta),
        re.compile("|".join(f"(?:{p})" for p in data["not_threat"])),
        re.compile("|".join(f"(?:{p})" for p in data["care"])),
        re.compile(data["negation"]),
        re.compile(data["triggers"]),
    )


def has_trigger(folded: str) -> bool:
    """Cheap test: could any threat pattern match? (windows over long texts are cut around these)."""
    return bool(rules().triggers.search(folded))


def _sentence(text: str, start: int, end: int) -> str:
    left = max((m.end() for m in SENTENCE_END_RE.finditer(text, 0, start)), default=0)
    right = SENTENCE_END_RE.search(text, end)
    return text[left : right.start() if right else len(text)]


def find_threat(
    text: str, lang: str, counter: re.Pattern[str] | None = None, reporting: re.Pattern[str] | None = None
) -> ThreatFinding:
    """The strongest threat in a folded, de-obfuscated text, trying ``lang`` and French and English.

    ``counter`` / ``reporting``: the language's counter-speech and reporting cues (hate lexicon);
    a match standing in quotes with one of them outside, is a quotation (review only)."""
    from jobs.labeller.toxicity.hate import _in_quotes

    r = rules()
    codes = {lang, "fr", "en"}
    best = ThreatFinding()
    found = r.patterns.scan(text)
    for index, (code, kind, score) in enumerate(r.meta):
        if code not in codes or score <= best.score:
            continue
        match = found.search(index)
        if match is None:
            continue
        before = text[max(0, match.start() - NEGATION_BEFORE) : match.start()]
        if r.negation.search(before) or (kind == "direct" and r.negation.search(match.group(0))):
            continue  # "je ne vais pas te …", "I'm not going to hurt you": not a threat
        if kind == "implicit" and (
            r.not_threat.search(_sentence(text, match.start(), match.end())) or r.care.search(text)
        ):
            continue  # a customer leaving ("vous allez le regretter, je résilie"), or care ("fais attention à toi, bisous")
        review = False
        if counter is not None and _in_quotes(text, match.start(), match.end()):
            outside = text[: match.start()] + " " + text[match.end() :]
            review = bool(counter.search(outside) or (reporting is not None and reporting.search(outside)))
        if review:  # a quoted threat, reported or denounced: counter-speech, for review
            if best.score == 0.0 and not best.review:
                best = ThreatFinding(0.0, kind, match.group(0), True)
            continue
        best = ThreatFinding(score, kind, match.group(0))
    return best
