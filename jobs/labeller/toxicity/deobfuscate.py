"""Undo the spelling tricks that hide abuse from word lists, before the hate lexicons are matched.

"terr0ristes" → "terroristes", "m u s l i m s" → "muslims", "h8" → "hate", "femems" → "femmes",
"noiirs" → "noirs", "musluman" → "musulman", "wmoen" → "women" (swapped letters), "imigrants" →
"immigrants" (a letter dropped inside an identity-group word: never the last one, many real words are a
lexicon word minus its last letter — "travel" / "travelo"), "ihatewomen" → "i hate women" (spaces deleted: split
only into known words of which one is the lexicons'). One-letter typos are corrected only towards the
lexicons' own vocabulary (identity groups, slurs, derogatory, dehumanising and violent words), and
only when the word is long enough that a correction is unlikely to turn an innocent word into one of them.
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

    def __init__(
        self,
        vocabulary: Iterable[str],
        known: Iterable[str] = (),
        words: Iterable[str] = (),
        groups: Iterable[str] = (),
    ) -> None:
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= 4)
        self.groups = frozenset(groups) & self.vocabulary  # identity-group words: the only targets of a dropped letter
        self.known = frozenset(known) | self.vocabulary
        self.words = frozenset(words)  # function words: pieces of a run of words written without spaces
        self._by_delete: dict[str, set[str]] = {}
        for word in self.vocabulary:
            for d in _deletes(word):
                self._by_delete.setdefault(d, set()).add(word)

    def correct(self, token: str) -> str:
        if token in self.known or len(token) < 4 or not token.isalpha():
            return token
        # two adjacent letters swapped ("wmoen", "disgsuting"): the first letter kept
        for i in range(1, len(token) - 1):
            swapped = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
            if swapped in self.vocabulary:
                return swapped
        # a letter dropped inside an identity-group word ("imigrants", "musulmns"), never the first or the
        # last: towards any lexicon word, too many ordinary words are one ("casser" / "chasser")
        if len(token) >= 5:
            found = sorted(
                w
                for w in self._by_delete.get(token, ())
                if w in self.groups and len(w) == len(token) + 1 and w[0] == token[0] and w[-1] == token[-1]
            )
            if found:
                return found[0]
        # Both paths keep the first letter: obfuscation keeps it ("noiirs", "musluman"), while an
        # ordinary word one edit from a slur usually differs there ("plastic", "fnigers" on the demo month).
        # a doubled letter ("noiirs", "sinnges"): the token minus one of a pair is a word (≥ 5 letters);
        # only a doubled one: "single" minus its "l" is a lexicon word too
        if len(token) >= 6:
            for i in range(1, len(token)):
                if token[i] == token[i - 1] and token[:i] + token[i + 1 :] in self.vocabulary:
                    return token[:i] + token[i + 1 :]
        # a swapped or replaced letter ("musluman"): only for long words, where collisions are rare
        if len(token) >= 7:
            found = sorted(
                {
                    w
                    for d in _deletes(token)
                    for w in self._by_delete.get(d, ())
                    if len(w) == len(token) and w[0] == token[0]
                }
            )
            if found:
                return found[0]
        return token

    def segment(self, token: str) -> list[str] | None:
        """A run of words without spaces ("ihatewomen") as its words, when it splits into known words
        (the lexicons', the sentiment lexicons', common function words) one of which is the lexicons'."""
        n = len(token)
        if n < 5 or n > MAX_SEGMENTED or not token.isalpha() or token in self.known:
            return None
        # cheap first: a lexicon word must be inside (most unknown words are names and typos)
        if not any(token[a:b] in self.vocabulary for a in range(n - 3) for b in range(a + 4, n + 1)):
            return None
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for end in range(1, n + 1):
            for start in range(max(0, end - 20), end):
                head = best[start]
                piece = token[start:end]
                if head is None or (piece not in self.words and piece not in self.known):
                    continue
                current = best[end]
                if current is None or len(head) + 1 < len(current):
                    best[end] = [*head, piece]
        words = best[n]
        if words is None or len(words) < 2 or not any(w in self.vocabulary for w in words):
            return None
        return words


MAX_SEGMENTED = 40  # letters: longer runs are not sentences written without spaces


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
            corrected = corrector.correct(token)
            if corrected == token and len(token) >= 5 and token not in corrector.known:
                pieces = corrector.segment(token)
                if pieces:
                    out.extend(pieces)
                    continue
            token = corrected
        out.append(token)
    return " ".join(out).replace(" ' ", "'").replace(" '", "'")
