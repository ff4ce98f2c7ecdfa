"""Toxicity: abuse a moderator must see — insults aimed at people, threats, hate, harassment.

Two explainable rule stages and one learned head, combined per text into ``toxic_score`` and
``toxic_categories`` (threat first, then hate, harassment, sexual, insult) and ``toxic_evidence``
(why: category, score, the rule and the words it matched, strongest first):
- threats against a person, the staff or a store (jobs/labeller/toxicity/threat.py): direct,
  conditional and implicit ("je sais où tu habites", "tu vas le regretter"), negation, care and
  customers leaving handled, quoted threats kept for review;
- hate against groups (jobs/labeller/toxicity/hate.py): identity-group lexicons × derogation,
  dehumanisation, threat and emotion templates, after de-obfuscation, with negation and
  counter-speech handling (counter-speech keeps its categories for review, is not flagged);
- the general rules below (insults aimed at people, threats, harassment);
- a logistic head on the labeller's e5 embeddings (jobs/labeller/toxicity/head.py), for texts the
  rules leave undecided.
A long text is judged whole: past its first ``ANALYSED_CHARS`` the rules read windows of the rest
(all of them up to ``MAX_WINDOWS``, beyond that the windows around words that could start abuse).

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
from dataclasses import dataclass, field
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


def _rule_score(doc: Prepared, lang: str) -> tuple[float, bool, str]:
    """(score, aimed-at-someone, the words that decided it) from the general rules."""
    patterns, context_scores = rule_patterns()
    text = doc.folded
    found = patterns.scan(text)
    deleet = fold(doc.raw).translate(lx.LEET) if any(c in doc.raw for c in "01345@!$7") else text
    score, span = 0.0, ""

    def raise_to(value: float, words: str) -> None:
        nonlocal score, span
        if value > score:
            score, span = value, words

    if found.search(ANY):
        for k, s in enumerate(context_scores, start=CONTEXT):
            if s > score:
                match = found.search(k)
                if match:
                    raise_to(s, match.group(0))
    toks = set(LETTERS_RE.findall(text))
    if deleet != text:
        toks |= set(LETTERS_RE.findall(deleet))
    if toks & lx.GREETING_TYPOS and _greeting(text, lang):
        toks -= lx.GREETING_TYPOS  # "slut vous recrutez ?" is "salut", not an insult
    strong = toks & lx.STRONG_INSULTS
    if strong:
        raise_to(0.88, min(strong))
    targeted = found.search(TARGETED)
    aimed = bool(targeted)
    if not aimed and doc.n_words <= 15 and toks & (lx.WEAK_INSULTS - ACCUSATIONS - lx.SWEARS):
        # a short message with a mild insult and a "you" in it is aimed at that "you";
        # a mild insult opening or closing a short message is a vocative ("Get lost idiot")
        words_ = WORDS_RE.findall(text)
        if found.search(SECOND_PERSON) or (words_ and (VOCATIVE & {words_[0], words_[-1]})):
            aimed = True
    if aimed:
        raise_to(0.8, targeted.group(0) if targeted else min(toks & VOCATIVE))
    # The French word list only speaks French ("sale" is "dirty" in French, a discount in English).
    bad = toks & badwords() if lang in ("fr", "und") else set()
    if bad:
        raise_to(0.72, min(bad))
    if score < 0.5 and toks & lx.SWEARS:
        raise_to(0.35, min(toks & lx.SWEARS))
    if score < 0.95 and found.search(SAFE):
        score = min(score, 0.3)
    return score, aimed or score >= 0.9, span


def _greeting(folded: str, lang: str) -> bool:
    """The text opens with a typo of a greeting ("slut vous …", "slt tout le monde")."""
    words_ = WORDS_RE.findall(folded[:60])
    return (
        bool(words_)
        and words_[0] in lx.GREETING_TYPOS
        and (lang == "fr" or (len(words_) > 1 and words_[1] in lx.FR_AFTER_GREETING))
    )


VOCATIVE = lx.WEAK_INSULTS - ACCUSATIONS - lx.SWEARS


# In the order a moderator treats them: a threat first (docs/labels.md).
CATEGORIES = ("threat", "hate", "harassment", "sexual", "insult")
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


@dataclass(slots=True)
class Judgement:
    """One text's toxicity: score, categories (threat first) and the evidence, strongest first."""

    score: float = 0.0
    categories: list[str] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)

    def add(self, category: str, score: float, rule: str, span: str) -> None:
        self.evidence.append(
            {"category": category, "score": round(min(1.0, score), 4), "rule": rule, "span": span[:EVIDENCE_CHARS]}
        )


EVIDENCE_CHARS = 160  # of the matched words kept in the evidence
MAX_EVIDENCE = 3


class ToxicityScorer:
    def __init__(self, use_head: bool = True) -> None:
        from jobs.labeller.toxicity import hate, threat
        from jobs.labeller.toxicity.head import load_head

        badwords()
        rule_patterns()
        category_cues()
        criticism_not_abuse()
        threat.rules()
        for lang in hate.LANGS:  # compiled here (Spark's worker warm-up), not during the first batch
            hate.lexicon(lang)
        hate.corrector(("fr", "en"))
        self._head = load_head() if use_head else None

    def judge_many(
        self, docs: Sequence[Prepared], langs: Sequence[str], embeddings: np.ndarray | None = None
    ) -> list[Judgement]:
        """One :class:`Judgement` per text. `embeddings`: the batch's e5 vectors, if computed."""
        from jobs.labeller.toxicity.windows import windows

        out: list[Judgement] = []
        undecided: list[int] = []
        for i, (doc, lang) in enumerate(zip(docs, langs, strict=True)):
            judged = [_judge(part, lang) for part in (doc, *windows(doc))]
            best = max(judged, key=lambda j: j[0].score)
            out.append(best[0])
            if not best[1] and self._head is not None and best[0].score < THRESHOLD and doc.n_letters > 0:
                undecided.append(i)
        if undecided and self._head is not None:
            scores = [j.score for j in out]
            categories = [j.categories for j in out]
            before = list(scores)
            self._head.refine(docs, langs, undecided, scores, categories, embeddings)
            for i in undecided:
                if scores[i] >= THRESHOLD > before[i]:
                    category = "hate" if "hate" in categories[i] else "insult"
                    out[i].add(category, scores[i], "model", docs[i].clean[:EVIDENCE_CHARS])
                out[i].score = scores[i]
        for j in out:
            j.score = round(min(1.0, j.score), 4)
            j.categories = sorted(set(j.categories), key=CATEGORIES.index)
            j.evidence = sorted(j.evidence, key=lambda e: -e["score"])[:MAX_EVIDENCE] if j.categories else []
        return out

    def label_many(
        self, docs: Sequence[Prepared], langs: Sequence[str], embeddings: np.ndarray | None = None
    ) -> tuple[list[float], list[list[str]]]:
        """(toxic_score, toxic_categories) per text (see :meth:`judge_many`)."""
        judged = self.judge_many(docs, langs, embeddings)
        return [j.score for j in judged], [j.categories for j in judged]

    def score_many(
        self, docs: Sequence[Prepared], langs: Sequence[str], embeddings: np.ndarray | None = None
    ) -> list[float]:
        """toxic_score per text (see :meth:`judge_many`)."""
        return self.label_many(docs, langs, embeddings)[0]


def _judge(doc: Prepared, lang: str) -> tuple[Judgement, bool]:
    """(the rules' judgement of one text or window, counter-speech) — the head is not asked here."""
    from jobs.labeller.toxicity.hate import available, find_hate, lexicon
    from jobs.labeller.toxicity.threat import find_threat

    j = Judgement()
    rule, _aimed, rule_span = _rule_score(doc, lang)
    if (
        THRESHOLD <= rule < 0.95
        and criticism_not_abuse().search(doc.folded)
        and not set(LETTERS_RE.findall(doc.folded)) & lx.STRONG_INSULTS
    ):
        rule = min(rule, 0.4)  # "vous êtes nuls" is criticism, not abuse
    found = find_hate(doc.folded, lang)
    lex = lexicon(lang if available(lang) else "fr" if lang == "und" else "en")
    menace = find_threat(found.text, lang, lex.counter_re, lex.reporting_re)
    counter = found.counter_speech or menace.review
    cats: set[str] = set()
    score = rule
    if found.score >= THRESHOLD:
        cats |= set(found.categories)
        score = max(score, found.score)
        j.add(_main(found.categories), found.score, f"hate:{found.kind}", found.evidence)
    if menace.score >= THRESHOLD:
        cats.add("threat")
        score = max(score, menace.score)
        j.add("threat", menace.score, f"threat:{menace.kind}", menace.span)
    elif menace.review:
        cats.add("threat")
        j.add("threat", COUNTER_SPEECH_SCORE, f"quoted threat:{menace.kind}", menace.span)
    if rule >= THRESHOLD:
        named = _rule_categories(doc.folded) - ({"insult"} if found.score >= THRESHOLD else set())
        cats |= named
        j.add(
            _main(tuple(_rule_categories(rule_span) & (named or cats)) or tuple(named or cats)),
            rule,
            "rules",
            rule_span,
        )
    if counter:
        score = min(score, COUNTER_SPEECH_SCORE)
        # what is quoted or denounced, for the person who reviews it
        quoted = [e for e in j.evidence if e["rule"].startswith(("hate:", "quoted threat:", "threat:"))]
        j.evidence = [{**e, "score": COUNTER_SPEECH_SCORE, "rule": f"counter-speech ({e['rule']})"} for e in quoted[:1]]
    j.score, j.categories = score, list(cats)
    return j, counter


def _main(categories: Sequence[str]) -> str:
    return min(categories, key=lambda c: CATEGORIES.index(c) if c in CATEGORIES else len(CATEGORIES))
