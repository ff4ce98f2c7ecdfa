"""Toxicity: abuse a moderator must see — insults aimed at people, threats, hate, harassment.

Two explainable rule stages and one learned head, combined per text into ``toxic_score`` and
``toxic_categories`` (insult, threat, hate, harassment, sexual):
- hate against groups (jobs/labeller/toxicity/hate.py): identity-group lexicons × derogation,
  dehumanisation, threat and emotion templates, after de-obfuscation, with negation and
  counter-speech handling (counter-speech keeps its categories for review, is not flagged);
- the general rules below (insults aimed at people, threats, harassment);
- a logistic head on the labeller's e5 embeddings (jobs/labeller/toxicity/head.py), for texts the
  rules leave undecided.

Casual swearing that targets nobody ("putain c'est trop bon") and self-deprecation ("je suis con
d'avoir oublié") are *not* toxic (see docs/labels.md). Evidence, strongest first:
1. context patterns: threats, hate, targeted insults, "bande de …", "ta gueule" (lexicon.TOXIC_PATTERNS);
2. strong insults and slurs anywhere (lexicon.STRONG_INSULTS, leetspeak undone);
3. mild insults only when aimed at someone (lexicon.WEAK_INSULTS after INSULT_TARGETS);
4. the french-badwords-list word list (npm, MIT, vendored in resources/) minus its innocent entries;
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

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
    bad = toks & badwords() if lang in ("fr", "und") else set()
    if bad:
        score = max(score, 0.72)
    if score < 0.5 and toks & lx.SWEARS:
        score = max(score, 0.35)
    if score < 0.95 and found.search(SAFE):
        score = min(score, 0.3)
    return score, aimed or score >= 0.9


VOCATIVE = lx.WEAK_INSULTS - ACCUSATIONS - lx.SWEARS


CATEGORIES = ("insult", "threat", "hate", "harassment", "sexual")
# Counter-speech keeps a score under the threshold: the moderation queue reviews it later, it is not hidden.
COUNTER_SPEECH_SCORE = 0.4


@lru_cache(maxsize=1)
def category_cues() -> dict[str, re.Pattern[str]]:
    """Cues that name the category of a text flagged by the general rules (resources/toxicity/common.yaml)."""
    import yaml

    data = yaml.safe_load((RESOURCES / "toxicity" / "common.yaml").read_text(encoding="utf-8"))
    return {name: re.compile(pattern) for name, pattern in data["category_cues"].items()}


@lru_cache(maxsize=1)
def criticism_not_abuse() -> re.Pattern[str]:
    import yaml

    data = yaml.safe_load((RESOURCES / "toxicity" / "common.yaml").read_text(encoding="utf-8"))
    return re.compile(data["criticism_not_abuse"])


def _rule_categories(folded: str) -> set[str]:
    cats = {name for name, cue in category_cues().items() if cue.search(folded)}
    if "sexual" in cats:
        cats.add("harassment")
    return cats or {"insult"}


class ToxicityScorer:
    def __init__(self, use_head: bool = True) -> None:
        from jobs.labeller.toxicity import hate
        from jobs.labeller.toxicity.head import load_head

        badwords()
        rule_patterns()
        category_cues()
        criticism_not_abuse()
        for lang in hate.LANGS:  # compiled here (Spark's worker warm-up), not during the first batch
            hate.lexicon(lang)
        hate.corrector(("fr", "en"))
        self._head = load_head() if use_head else None

    def label_many(
        self, docs: Sequence[Prepared], langs: Sequence[str], embeddings: np.ndarray | None = None
    ) -> tuple[list[float], list[list[str]]]:
        """(toxic_score, toxic_categories) per text. `embeddings`: the batch's e5 vectors, if computed."""
        from jobs.labeller.toxicity.hate import find_hate

        scores: list[float] = []
        categories: list[list[str]] = []
        undecided: list[int] = []
        for i, (doc, lang) in enumerate(zip(docs, langs, strict=True)):
            rule, _aimed = _rule_score(doc, lang)
            if (
                THRESHOLD <= rule < 0.95
                and criticism_not_abuse().search(doc.folded)
                and not set(LETTERS_RE.findall(doc.folded)) & lx.STRONG_INSULTS
            ):
                rule = min(rule, 0.4)  # "vous êtes nuls" is criticism, not abuse
            found = find_hate(doc.folded, lang)
            cats: set[str] = set()
            score = rule
            if found.score >= THRESHOLD:
                cats |= set(found.categories)
                score = max(score, found.score)
            if rule >= THRESHOLD:
                cats |= _rule_categories(doc.folded) - ({"insult"} if found.score >= THRESHOLD else set())
            if found.counter_speech:
                score = min(score, COUNTER_SPEECH_SCORE)
            elif self._head is not None and score < THRESHOLD and doc.n_letters > 0:
                undecided.append(i)
            scores.append(score)
            categories.append(sorted(cats, key=CATEGORIES.index))
        if undecided and self._head is not None:
            self._head.refine(docs, langs, undecided, scores, categories, embeddings)
        return [round(min(1.0, s), 4) for s in scores], categories

    def score_many(
        self, docs: Sequence[Prepared], langs: Sequence[str], embeddings: np.ndarray | None = None
    ) -> list[float]:
        """toxic_score per text (see :meth:`label_many`)."""
        return self.label_many(docs, langs, embeddings)[0]
