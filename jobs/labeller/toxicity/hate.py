"""Hate against groups, by explainable templates over per-language lexicons (resources/toxicity/*.yaml).

A template names an identity group (``group``) and a cue (``cue``): a derogatory attribute,
a dehumanising word, violence in a normative or first-person frame, or strong negative emotion.
A match does not count when a negation stands between its parts ("je ne déteste pas les …",
"… are not sick"). A text whose hate is quoted or denounced ("Stop calling migrants vermin",
« les juifs sont des parasites » est ignoble) is *counter-speech*: it keeps its categories for
review but is not flagged. Languages without a lexicon fall back to English and French, whose
group words many European languages share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import yaml

from jobs.labeller.toxicity.deobfuscate import RESOURCES, Corrector, normalise

QUOTE_RE = re.compile(r"[\"«»“”]")
PLAIN_WORD_RE = re.compile(r"^[a-z]+(?:\?|s\?|e\?|es\?)?$")
OPTIONAL_SUFFIX_RE = re.compile(r"^([a-z]+)(?:\(([a-z]+)\)|\[([a-z])\])\?$")


@dataclass(slots=True)
class Template:
    kind: str
    categories: tuple[str, ...]
    score: float
    regex: re.Pattern[str]
    needs_group: bool = True  # skipped unless the text names a group or holds a slur


@dataclass(slots=True)
class Lexicon:
    lang: str
    templates: list[Template]
    group_re: re.Pattern[str]  # pre-filter: no template can match without a group or a slur
    negation: frozenset[str]
    counter_re: re.Pattern[str]
    denial_re: re.Pattern[str]
    reporting_re: re.Pattern[str]
    vocabulary: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)  # real words never "corrected" into a lexicon word
    groups: set[str] = field(default_factory=set)  # identity-group words (GROUP_NOUN, GROUP_ADJ)


@dataclass(slots=True)
class HateFinding:
    score: float = 0.0
    categories: tuple[str, ...] = ()
    kind: str = ""
    evidence: str = ""
    counter_speech: bool = False
    text: str = ""  # the de-obfuscated text the templates read (the threat stage reads it too)


def _alternation(entries: list[str]) -> str:
    return "|".join(f"(?:{e})" for e in entries)


def _plain_words(entries: list[str]) -> set[str]:
    """The single words an alternation spells ("musulmans?" → musulman, musulmans): the typo vocabulary."""
    out: set[str] = set()
    for entry in entries:
        for alt in entry.split("|"):
            optional = OPTIONAL_SUFFIX_RE.match(alt)  # "deport(ed)?", "exterminate[d]?", "cockroach(es)?"
            if optional:
                out |= {optional.group(1), optional.group(1) + (optional.group(2) or optional.group(3))}
                continue
            if not PLAIN_WORD_RE.match(alt):
                continue
            if alt.endswith("?"):  # "?" makes only the last letter optional: "noires?" = noire, noires
                out |= {alt[:-2], alt[:-1]}
            else:
                out.add(alt)
    return out


def _group_pattern(lists: dict[str, str], options: dict) -> str:
    adj = (
        f"(?:{lists['GROUP_HEAD']})\\s+(?:{lists['GROUP_ADJ']})"
        if options.get("adjective_after_head")
        else (f"(?:{lists['GROUP_ADJ']})\\s+(?:{lists['GROUP_HEAD']})")
    )
    nominal = f"(?:{adj})|(?:{lists['GROUP_NOUN']})"
    if options.get("group_needs_determiner"):
        nominal = f"(?:(?<![a-z])(?:{lists['DET']})\\s*(?:(?:{lists['DET_ADJ']})\\s+)?(?:{nominal}))"
    return f"(?:{nominal}|(?:{lists['SLUR']}))"


@cache
def lexicon(lang: str) -> Lexicon:
    """The compiled lexicon of `lang` (resources/toxicity/<lang>.yaml)."""
    data = yaml.safe_load((RESOURCES / f"{lang}.yaml").read_text(encoding="utf-8"))
    raw_lists: dict[str, list[str]] = {k: list(v) for k, v in data["lists"].items()}
    lists = {k: _alternation(v) for k, v in raw_lists.items()}
    options = data.get("options") or {}
    lists["GROUP"] = _group_pattern(lists, options)
    templates = []
    for kind, categories, score, pattern in data["templates"]:
        regex = pattern
        for name in sorted(lists, key=len, reverse=True):
            regex = regex.replace("{" + name + "}", f"(?:{lists[name]})")
        # group_re also finds every slur; a bare group adjective ("black lives …") is not a group on its own
        needs_group = ("{GROUP" in pattern or "{SLUR}" in pattern) and "{GROUP_ADJ}" not in pattern
        templates.append(Template(kind, tuple(categories.split(",")), float(score), re.compile(regex), needs_group))
    negation = frozenset(w for e in raw_lists["NEGATION"] for w in e.split("|"))
    vocabulary = set()
    for name in ("GROUP_NOUN", "GROUP_ADJ", "SLUR", "DEHUM", "EMOTION_VERB", "VIOLENCE", "DEROG"):
        vocabulary |= _plain_words(raw_lists[name])
    known = set().union(*(_plain_words(v) for v in raw_lists.values())) | set(data.get("known_words") or ())
    return Lexicon(
        lang=lang,
        templates=templates,
        group_re=re.compile(f"\\b{lists['GROUP']}\\b"),
        negation=negation,
        counter_re=re.compile(f"\\b(?:{lists['COUNTER']})\\b"),
        denial_re=re.compile(f"\\b(?:{lists['COUNTER_DENIAL']})"),
        reporting_re=re.compile(f"\\b(?:{lists['REPORTING']})\\b"),
        vocabulary=vocabulary,
        known=known,
        groups=_plain_words(raw_lists["GROUP_NOUN"]) | _plain_words(raw_lists["GROUP_ADJ"]),
    )


LANGS = ("fr", "en", "es", "de", "it", "pt")


@cache  # called for every text: no file system look-up each time
def available(lang: str) -> bool:
    return lang in LANGS and (RESOURCES / f"{lang}.yaml").exists()


@cache
def corrector(langs: tuple[str, ...]) -> Corrector:
    """One typo corrector for the lexicons tried on a text (a word of any of them is never "corrected")."""
    from jobs.labeller.sentiment import load_lexicon

    vocabulary = set().union(*(lexicon(code).vocabulary for code in langs))
    # words of the sentiment lexicons are real words too: never "corrected" into a lexicon word
    known = set().union(*(lexicon(code).known for code in langs)) | set(load_lexicon())
    data = yaml.safe_load((RESOURCES / "common.yaml").read_text(encoding="utf-8"))
    groups = set().union(*(lexicon(code).groups for code in langs))
    return Corrector(vocabulary, known, (str(w) for w in data["segment_words"]), groups)


def _negated(lex: Lexicon, text: str, match: re.Match[str]) -> bool:
    """A negation word between the template's parts (the cue's own words excepted: "ne supporte pas")."""
    spans = sorted(match.span(g) for g in ("group", "cue") if g in match.re.groupindex and match.group(g) is not None)
    between = []
    cursor = match.start()
    for start, end in spans:
        between.append(text[cursor:start])
        cursor = max(cursor, end)
    between.append(text[cursor : match.end()])
    # a comma ends the scope of a negation ("ne devraient pas voter, ce sont des …")
    tail = " ".join(between).rsplit(",", 1)
    # also the two words before the match ("pas tous les …" / "not all …") when no comma intervenes
    before = text[: match.start()].split()[-2:] if len(tail) == 1 else []
    tokens = tail[-1].replace("'", "' ").split() + before
    return any(t in lex.negation for t in tokens)


def _in_quotes(text: str, start: int, end: int) -> bool:
    marks = [m.start() for m in QUOTE_RE.finditer(text)]
    return any(a <= start and end <= b + 1 for a, b in zip(marks[::2], marks[1::2], strict=False))


def find_hate(folded: str, lang: str) -> HateFinding:
    """The strongest hate template matched in a folded text (`Prepared.folded`), in `lang`'s lexicon."""
    # Short texts are often mis-identified, and French and English group words are shared widely.
    codes = tuple(dict.fromkeys([lang, "fr", "en"] if available(lang) else ["fr", "en"]))
    text = normalise(folded, corrector(codes))
    best = HateFinding(text=text)
    for code in codes:
        lex = lexicon(code)
        names_group = bool(lex.group_re.search(text))
        for template in lex.templates:
            if template.needs_group and not names_group:
                continue
            if code != lang and template.kind == "slur" and available(lang):
                continue  # another language's bare words ("retard" is a delay in French)
            for match in template.regex.finditer(text):
                if template.score <= best.score:
                    break
                if _negated(lex, text, match):
                    continue
                outside = text[: match.start()] + " " + text[match.end() :]
                counter = False
                if not lex.denial_re.search(text):
                    quoted = _in_quotes(text, match.start(), match.end())
                    counter = bool(lex.counter_re.search(outside)) or (
                        quoted and bool(lex.reporting_re.search(outside) or lex.counter_re.search(outside))
                    )
                best = HateFinding(template.score, template.categories, template.kind, match.group(0), counter, text)
                break
    return best
