"""Undo the Unicode and spacing tricks that hide what a text says, once, before every label.

People who want abuse to pass a filter write it so that it *looks* the same and *reads* differently
to a program: zero-width characters inside words, thousands of invisible characters or blank lines in
front of the message, a right-to-left override around reversed text, Cyrillic or Greek look-alike
letters in a Latin word ("соnnаrd"), fullwidth or "mathematical bold" letters, dotted or spaced
letters ("m.u.s.l.i.m.s", "s p a c e d  w o r d s"). :func:`normalise` returns the text a reader sees,
so language ID, the rules, the encoder and the heads all judge the same words.

The look-alike table comes from the Unicode confusables data shipped in ``confusable-homoglyphs``
(MIT): a Cyrillic, Greek, Armenian or Cherokee letter that Unicode lists as confusable with one
Latin letter. It is applied only where it cannot turn a real word of another script into Latin: in
words that mix scripts, and in whole words of look-alikes when most of the text's letters are Latin.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib.resources import files

# Characters that render as nothing (or as a blank) and only ever hide: zero-width spaces and
# joiners, word joiner, soft hyphen, BOM, Mongolian vowel separator, invisible operators, Hangul
# and braille fillers, tag characters; and the bidirectional controls.
INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f\u2060-\u2064"
    "\u206a-\u206f\u2800\u3164\ufeff\uffa0\U000e0000-\U000e007f"
)
BIDI = "\u202a-\u202e\u2066-\u2069"
INVISIBLE_RE = re.compile(f"[{INVISIBLE}{BIDI}]+")
# U+202E RIGHT-TO-LEFT OVERRIDE shows what follows it reversed, up to U+202C (POP) or the line's end.
RLO_RE = re.compile("\u202e([^\u202c\n]*)\u202c?")
# Single letters joined by one repeated separator: "m.u.s.l.i.m.s", "k-i-l-l", "f*u*c*k".
DOTTED_RE = re.compile(r"(?<![\w@$])[\w@$](?P<sep>[.\-_*·•|/+~])(?:[\w@$](?P=sep)){1,}[\w@$](?![\w@$])")
# Three or more single letters separated by one space ("d e t e s t e"); two or more spaces (or a
# line break) separate the words of a spaced-out sentence ("s p a c e d  w o r d s").
SPACED_RE = re.compile(r"(?<![^\s])[\w@$](?: [\w@$]){2,}(?![^\s])")
# Runs of single letters that are ordinary words ("il y a à", "a e i o u"): left alone.
ONE_LETTER_WORDS = frozenset("aàyioeuôó")
SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")
WORD_RE = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def lookalikes() -> dict[int, str]:
    """Code point of a look-alike letter (Cyrillic, Greek, Armenian, Cherokee) → the Latin letter."""
    data = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8"))
    table: dict[int, str] = {}
    for latin, entries in data.items():
        if len(latin) != 1 or not ("a" <= latin.lower() <= "z"):
            continue
        for entry in entries:
            char, name = entry.get("c", ""), entry.get("n", "")
            if len(char) == 1 and name.startswith(SCRIPTS) and ord(char) not in table:
                table[ord(char)] = latin
    return table


@lru_cache(maxsize=1)
def _lookalike_re() -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(lookalikes())) + "]")


def _latin(char: str) -> bool:
    return char.isascii() or unicodedata.name(char, "").startswith("LATIN")


def fold_lookalikes(text: str) -> str:
    """Latin words written with look-alike letters of another script, back in Latin letters."""
    if text.isascii() or not _lookalike_re().search(text):
        return text
    table = lookalikes()
    letters = [c for c in text if c.isalpha()]
    latin_text = sum(_latin(c) for c in letters) > len(letters) / 2

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        if not any(ord(c) in table for c in w):
            return w
        mixed = any(_latin(c) for c in w)
        only_lookalikes = all(ord(c) in table or _latin(c) for c in w)
        if (mixed and only_lookalikes) or (latin_text and only_lookalikes):
            return w.translate(table)
        if mixed:  # a Latin word with some look-alikes and some other letters: fold the look-alikes only
            return "".join(table.get(ord(c), c) if not _latin(c) else c for c in w)
        return w

    return WORD_RE.sub(word, text)


def _join_dotted(m: re.Match[str]) -> str:
    run = m.group(0)
    joined = run.replace(m.group("sep"), "")
    return joined if sum(c.isalpha() for c in joined) >= 2 else run


def _join_spaced(m: re.Match[str]) -> str:
    run = m.group(0)
    joined = run.replace(" ", "")
    if all(c.lower() in ONE_LETTER_WORDS for c in joined):
        return run
    return joined


def normalise(text: str) -> str:
    """What a reader sees: invisible and bidi characters out (reversed runs put back in reading
    order), NFKC, look-alike letters folded, dotted and spaced-out letters joined, blanks collapsed
    (line breaks kept as one space). ``text`` must be a sanitised str (text.sanitise)."""
    if "\u202e" in text:
        text = RLO_RE.sub(lambda m: m.group(1)[::-1], text)
    if not text.isascii():
        if INVISIBLE_RE.search(text):
            text = INVISIBLE_RE.sub("", text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = fold_lookalikes(text)
    if "." in text or "-" in text or "_" in text or "*" in text or not text.isascii():
        text = DOTTED_RE.sub(_join_dotted, text)
    if "  " in text or "\n" in text or "\t" in text:
        # a spaced-out sentence: words are separated by runs of blanks, letters by one space
        text = SPACED_RE.sub(_join_spaced, text.replace("\t", "  ").replace("\n", "  "))
    elif " " in text:
        text = SPACED_RE.sub(_join_spaced, text)
    return text
