"""Windows over the part of a long text the other labels do not read (``Prepared.tail``).

A threat at the end of a long harmless comment must be seen, and a 100,000-character comment must
not cost a hundred times a tweet. Past the first ``ANALYSED_CHARS`` (the labels' head), the tail is
cut into windows of ``WINDOW_CHARS`` overlapping by ``OVERLAP``: all of them while there are at most
``MAX_WINDOWS``; beyond that, the windows around the first words that could start abuse (threat
stems, insults, identity-group words), at most ``MAX_WINDOWS`` of them, always including the last.
"""

from __future__ import annotations

import re
from functools import lru_cache

from jobs.labeller.text import LETTER_RE, WORD_RE, Prepared, fold

WINDOW_CHARS = 4000
OVERLAP = 300  # a sentence cut by one window is whole in the next
MAX_WINDOWS = 8


@lru_cache(maxsize=1)
def _suspicious() -> re.Pattern[str]:
    """Words that could start abuse in any language the labeller serves (a cheap pass over long tails)."""
    from jobs.labeller import lexicon as lx
    from jobs.labeller.toxicity.hate import LANGS, lexicon
    from jobs.labeller.toxicity.threat import rules

    words = sorted(lx.STRONG_INSULTS | lx.WEAK_INSULTS, key=len, reverse=True)
    parts = [rules().triggers.pattern, r"\b(?:" + "|".join(map(re.escape, words)) + r")\b"]
    parts += [lexicon(code).group_re.pattern for code in LANGS]
    return re.compile("|".join(f"(?:{p})" for p in parts))


def _window(clean: str) -> Prepared:
    lower = clean.lower().replace("’", "'")
    return Prepared(clean, clean, lower, fold(lower), "", len(LETTER_RE.findall(clean)), len(WORD_RE.findall(clean)))


def windows(doc: Prepared) -> list[Prepared]:
    """The tail's windows to judge (none for the texts the head holds whole: nearly all)."""
    tail = doc.tail
    if not tail:
        return []
    step = WINDOW_CHARS - OVERLAP
    starts = list(range(0, max(len(tail) - OVERLAP, 1), step))
    if len(starts) > MAX_WINDOWS:
        folded = fold(tail.lower())
        # folding keeps offsets for nearly all texts; where it does not, the windows are still the
        # text's own, only placed around slightly different words
        scale = len(tail) / max(len(folded), 1)
        hits: list[int] = []
        for match in _suspicious().finditer(folded):
            start = max(0, int(match.start() * scale) - WINDOW_CHARS // 2)
            if not hits or start >= hits[-1] + step:
                hits.append(start)
            if len(hits) >= MAX_WINDOWS - 1:
                break
        starts = [*hits, max(0, len(tail) - WINDOW_CHARS)]
    return [_window(tail[s : s + WINDOW_CHARS]) for s in starts]
