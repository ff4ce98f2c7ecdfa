"""Many regular expressions over one text, fast, with exactly the answers of Python's ``re``.

The rule stages (sentiment phrases, toxicity, topics, criticism) each try dozens of patterns on
every text, and most of them match nothing: trying them one by one was a third of the labeller's
time. A :class:`PatternSet` scans a text once with Hyperscan, compiled in *prefilter* mode — it may
report a pattern that does not match, never miss one that does — and ``re`` then confirms the few
candidates. The labels therefore never depend on Hyperscan's regex dialect, only its speed does.

Where the two dialects could disagree, ``re`` alone decides: patterns Hyperscan cannot compile or
that use syntax it reads differently (POSIX classes ``[[:alpha:]]``, ``{,n}``, flags), and texts
that are not plain ASCII (the folded texts the rules read always are) or hold the ASCII separators
``re`` counts as whitespace and PCRE does not. Without Hyperscan (no wheel for the platform) every
pattern is simply tried.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Syntax Python's re and PCRE (Hyperscan's dialect) read differently: such patterns are always tried.
_DIALECT_TRAPS = re.compile(r"\[:|\{,")
# ASCII characters re's \s matches on str and PCRE's does not (file/group/record/unit separators).
_RE_ONLY_SPACES = re.compile("[\x1c-\x1f]")

try:  # the speed-up is optional: the answers are the same without it
    import hyperscan
except ImportError:  # pragma: no cover - every supported platform has wheels
    hyperscan = None  # type: ignore[assignment]  # an optional module: checked for None before use


_cache_dir: Path | None = None


def use_cache_dir(path: Path) -> None:
    """Where this process keeps compiled pattern databases (set from the labeller's config)."""
    global _cache_dir
    _cache_dir = path


def cache_dir() -> Path:
    """Where compiled pattern databases are kept: the labeller config's ``cache_dir``, else the settings'."""
    if _cache_dir is not None:
        return _cache_dir
    from jobs.labeller.config import default_config

    return default_config().cache_dir


class Scan:
    """One text scanned against a :class:`PatternSet`: ``search(i)`` is ``patterns[i].search(text)``."""

    __slots__ = ("_candidates", "_patterns", "text")

    def __init__(self, patterns: Sequence[re.Pattern[str]], text: str, candidates: set[int] | None) -> None:
        self._patterns = patterns
        self._candidates = candidates
        self.text = text

    def search(self, index: int) -> re.Match[str] | None:
        if self._candidates is not None and index not in self._candidates:
            return None  # Hyperscan ruled it out: re would find nothing either
        return self._patterns[index].search(self.text)


class PatternSet:
    """Compiled ``re`` patterns plus one Hyperscan database that narrows down which may match."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self.patterns = list(patterns)
        self._always: set[int] = set()  # patterns Hyperscan could not take: always tried
        self._database: Any = None
        self._local = threading.local()  # Hyperscan scratch space is per thread
        if hyperscan is not None and self.patterns:
            self._database = self._compile()

    def _compile(self) -> Any:
        accepted = []
        for index, pattern in enumerate(self.patterns):
            if pattern.flags & ~re.UNICODE or _DIALECT_TRAPS.search(pattern.pattern):
                self._always.add(index)  # IGNORECASE, VERBOSE, POSIX classes…: not translated
            else:
                accepted.append(index)
        try:
            return self._database_of(accepted)
        except hyperscan.error:
            pass  # one of them is not for Hyperscan: find which (compiling is slow, hence not always)
        for index in list(accepted):
            try:
                self._database_of([index])
            except hyperscan.error as exc:
                log.debug("pattern %r left to re alone: %s", self.patterns[index].pattern[:80], exc)
                self._always.add(index)
                accepted.remove(index)
        return self._database_of(accepted)

    def _database_of(self, indices: list[int]) -> Any:
        """The compiled database of these patterns: from the on-disk cache when it holds it (compiling
        the labeller's patterns costs about a second per process: every Spark worker, every CLI call)."""
        if not indices:
            return None
        flags = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
        expressions = [self.patterns[i].pattern.encode() for i in indices]
        key = hashlib.sha256(
            repr((importlib.metadata.version("hyperscan"), flags, indices, expressions)).encode()
        ).hexdigest()[:32]
        cached = cache_dir() / f"hyperscan-{key}.db"
        try:
            return hyperscan.loadb(cached.read_bytes(), hyperscan.HS_MODE_BLOCK)
        except (OSError, hyperscan.error):
            pass  # not cached yet, or built for another CPU or version: compile
        database = hyperscan.Database()
        database.compile(expressions=expressions, ids=indices, flags=[flags] * len(indices))
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(hyperscan.dumpb(database))
            partial.replace(cached)  # atomic: concurrent workers never read half a file
        except OSError as exc:
            log.debug("cannot cache the compiled patterns in %s: %s", cached.parent, exc)
        return database

    def _scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        return scratch

    def scan(self, text: str) -> Scan:
        """Scan ``text`` once; then ask the result which patterns match."""
        if self._database is None or not text.isascii() or _RE_ONLY_SPACES.search(text):
            return Scan(self.patterns, text, None)
        candidates = set(self._always)

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: Any) -> None:
            candidates.add(pattern_id)

        self._database.scan(text.encode("ascii"), match_event_handler=on_match, scratch=self._scratch())
        return Scan(self.patterns, text, candidates)

    def matching(self, text: str) -> list[int]:
        """Indices of the patterns that match ``text``, in order."""
        found = self.scan(text)
        candidates = range(len(self.patterns)) if found._candidates is None else sorted(found._candidates)
        return [i for i in candidates if self.patterns[i].search(text)]
