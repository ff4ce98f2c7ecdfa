"""Toxicity: abuse a moderator must see — insults aimed at people, threats, hate, harassment.

Casual swearing that targets nobody ("putain c'est trop bon") and self-deprecation ("je suis con
d'avoir oublié") are *not* toxic (see docs/labels.md). Evidence, strongest first:
1. context patterns: threats, hate, targeted insults, "bande de …", "ta gueule" (lexicon.TOXIC_PATTERNS);
2. strong insults and slurs anywhere (lexicon.STRONG_INSULTS, leetspeak undone);
3. mild insults only when aimed at someone (lexicon.WEAK_INSULTS after INSULT_TARGETS);
4. the french-badwords-list word list (npm, MIT, vendored in resources/) minus its innocent entries;
5. English: alt-profanity-check's linear model (shipped in its wheel), damped when nothing is aimed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from jobs.labeller import lexicon as lx
from jobs.labeller.patterns import PatternSet
from jobs.labeller.text import Prepared, any_of, fold

RESOURCES = Path(__file__).resolve().parent / "resources"
LETTERS_RE = re.compile(r"[a-z]+")
WORDS_RE = re.compile(r"[a-z']+")
SECOND_PERSON_RE = re.compile(r"\b(tu|toi|t'|te|ta|ton|tes|you|your|u|ur)\b")
# Insult-like words that are usually accusations about business practice, not abuse of a person.
ACCUSATIONS = {
    "escroc",
    "escrocs",
    "voleur",
    "voleurs",
    "incompetent",
    "liar",
    "liars",
    "thieves",
    "crooks",
    "pathetic",
    "menteur",
    "menteurs",
    "incapable",
    "incapables",
    "clown",
    "clowns",
    "minable",
    "minables",
}
THRESHOLD = 0.5


@lru_cache(maxsize=1)
def badwords() -> frozenset[str]:
    """The vendored French word list, folded, minus words that are innocent or handled by context."""
    entries = (RESOURCES / "french_badwords.txt").read_text(encoding="utf-8").splitlines()
    out = set()
    for entry in entries:
        word = fold(entry.strip()).translate(lx.LEET)
        if word and re.fullmatch(r"[a-z' -]+", word):
            out.add(word)
    return frozenset(out - lx.TOXIC_WORD_ALLOW - lx.WEAK_INSULTS - lx.SWEARS)


# Indices in the toxicity PatternSet; the context patterns (lexicon.TOXIC_PATTERNS) follow them.
ANY, SAFE, TARGETED, SECOND_PERSON = range(4)
CONTEXT = 4


@lru_cache(maxsize=1)
def rule_patterns() -> tuple[PatternSet, list[float]]:
    """(the rule patterns as one set, the score of each context pattern)."""
    weak = "|".join(sorted(map(re.escape, lx.WEAK_INSULTS), key=lambda w: (-len(w), w)))  # longest first, stable
    patterns = [
        any_of([p for p, _ in lx.TOXIC_PATTERNS]),  # pre-filter: no context pattern can match without it
        re.compile("|".join(f"(?:{p})" for p in lx.TOXIC_SAFE_PATTERNS)),  # self-deprecation
        re.compile(r"\b" + lx.INSULT_TARGETS + r"\s?(?:[a-z]+ ){0,2}(?:" + weak + r")\b"),
        SECOND_PERSON_RE,
        *(re.compile(p) for p, _ in lx.TOXIC_PATTERNS),
    ]
    return PatternSet(patterns), [s for _, s in lx.TOXIC_PATTERNS]


def _rule_score(doc: Prepared, lang: str) -> tuple[float, bool]:
    """(score, aimed-at-someone) from the rules."""
    patterns, context_scores = rule_patterns()
    text = doc.folded
    found = patterns.scan(text)
    deleet = fold(doc.raw).translate(lx.LEET) if any(c in doc.raw for c in "01345@!$7") else text
    score = 0.0
    if found.search(ANY):
        for k, s in enumerate(context_scores, start=CONTEXT):
            if found.search(k):
                score = max(score, s)
    toks = set(LETTERS_RE.findall(text))
    if deleet != text:
        toks |= set(LETTERS_RE.findall(deleet))
    if toks & lx.STRONG_INSULTS:
        score = max(score, 0.88)
    aimed = bool(found.search(TARGETED))
    if not aimed and doc.n_words <= 15 and toks & (lx.WEAK_INSULTS - ACCUSATIONS - lx.SWEARS):
        # a short message with a mild insult and a "you" in it is aimed at that "you";
        # a mild insult opening or closing a short message is a vocative ("Get lost idiot")
        words_ = WORDS_RE.findall(text)
        if found.search(SECOND_PERSON) or (words_ and (VOCATIVE & {words_[0], words_[-1]})):
            aimed = True
    if aimed:
        score = max(score, 0.8)
    # The French word list only speaks French ("sale" is "dirty" in French, a discount in English).
    bad = toks & badwords() if lang != "en" else set()
    if bad:
        score = max(score, 0.72)
    if score < 0.5 and toks & lx.SWEARS:
        score = max(score, 0.35)
    if score < 0.95 and found.search(SAFE):
        score = min(score, 0.3)
    return score, aimed or score >= 0.9


VOCATIVE = lx.WEAK_INSULTS - ACCUSATIONS - lx.SWEARS


class ToxicityScorer:
    def __init__(self) -> None:
        badwords()
        rule_patterns()
        self._english = None
        try:
            from profanity_check import predict_prob

            self._english = predict_prob
        except Exception:  # the rules still work without the English model
            self._english = None

    def score_many(self, docs: Sequence[Prepared], langs: Sequence[str]) -> list[float]:
        scores: list[float] = []
        aimed_flags: list[bool] = []
        for doc, lang in zip(docs, langs, strict=True):
            s, aimed = _rule_score(doc, lang)
            scores.append(s)
            aimed_flags.append(aimed)
        en_idx = [i for i, lang in enumerate(langs) if lang == "en" and docs[i].n_letters > 0]
        if en_idx and self._english is not None:
            probs = self._english([docs[i].clean for i in en_idx])
            for i, p in zip(en_idx, probs, strict=True):
                p = float(p)
                # Swearing at nobody stays under the threshold; aimed or strong profanity passes.
                model_score = p if aimed_flags[i] else min(p * 0.55, 0.45)
                if scores[i] <= 0.3 and rule_patterns()[0].patterns[SAFE].search(docs[i].folded):  # self-deprecation
                    model_score = min(model_score, 0.3)
                scores[i] = max(scores[i], model_score)
        return [round(min(1.0, s), 4) for s in scores]
