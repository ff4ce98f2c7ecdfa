"""Undo the spelling tricks that hide abuse from word lists, before the hate lexicons are matched.

"terr0ristes" → "terroristes", "m u s l i m s" → "muslims", "h8" → "hate", "femems" → "femmes",
"noiirs" → "noirs", "musluman" → "musulman". (A dropped letter is not undone: too many real words
are a lexicon word minus one letter — "travel" / "travelo".) One-letter typos are corrected only towards the lexicons'
own vocabulary (identity groups, slurs, dehumanising and violent words), and only when the word is
long enough that a correction is unlikely to turn an innocent word into one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "toxicity"
TOKEN_RE = re.compile(r"[a-z0-9@$€]+(?:[-'][a-z0-9@$€]+)*|'|[^\sa-z0-9@$€']")
# Three or more single letters separated by single spaces: "d e t e s t e", "j u i f s".
SPACED_RE = re.compile(r"(?<![a-z0-9])(?:[a-z] ){2,}[a-z](?![a-z0-9])")
LETTER_RE = re.compile(r"[a-z]")


@lru_cache(maxsize=1)
def spelling() -> tuple[dict[str, str], dict[str, str]]:
    """(leet characters → letters, shorthand tokens → words) from resources/toxicity/common.yaml."""
    data = yaml.safe_load((RESOURCES / "common.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data["leet"].items()}, {str(k): str(v) for k, v in data["shorthand"].items()}


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Corrector:
    """Maps a token one edit away from a vocabulary word onto it (SymSpell-style delete index)."""

    def __init__(self, vocabulary: Iterable[str], known: Iterable[str] = ()) -> None:
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= 4)
        self.known = frozenset(known) | self.vocabulary
        self._by_delete: dict[str, set[str]] = {}
        for word in self.vocabulary:
            for d in _deletes(word):
                self._by_delete.setdefault(d, set()).add(word)

    def correct(self, token: str) -> str:
        if token in self.known or len(token) < 4 or not token.isalpha():
            return token
        # Both paths keep the first letter: obfuscation keeps it ("noiirs", "musluman"), while an
        # ordinary word one edit from a slur usually differs there ("plastic", "fnigers" on the demo month).
        # an extra letter ("noiirs", "sinnges"): the token minus one letter is a word (≥ 5 letters)
        if len(token) >= 6:
            for d in sorted(_deletes(token)):
                if d in self.vocabulary and d[0] == token[0]:
                    return d
        # a swapped or replaced letter ("musluman"): only for long words, where collisions are rare
        if len(token) >= 7:
            found = sorted(
                {w for d in _deletes(token) for w in self._by_delete.get(d, ()) if len(w) == len(token) and w[0] == token[0]}
            )
            if found:
                return found[0]
        return token


def normalise(folded: str, corrector: Corrector | None = None) -> str:
    """The folded text with spelling tricks undone, as space-separated tokens (punctuation kept)."""
    leet, shorthand = spelling()
    text = folded
    if " " in text and SPACED_RE.search(text):
        text = SPACED_RE.sub(lambda m: m.group(0).replace(" ", ""), text)
    out: list[str] = []
    for token in TOKEN_RE.findall(text):
        if token in shorthand:
            token = shorthand[token]
        elif LETTER_RE.search(token) and any(c in leet for c in token) and not token.isdigit():
            token = "".join(leet.get(c, c) for c in token)
            token = shorthand.get(token, token)
        elif token in leet and token in "@$€":  # a lone symbol is punctuation, not a letter
            pass
        if corrector is not None and token.isalpha():
            token = corrector.correct(token)
        out.append(token)
    return " ".join(out).replace(" ' ", "'").replace(" '", "'")
