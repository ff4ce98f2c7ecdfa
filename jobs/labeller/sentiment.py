"""Sentiment: negative | neutral | positive with a confidence, French and English first.

Stage 1 (every text, ~30 µs): a VADER-style rule scorer over the package lexicons (vaderSentiment
for English, vadersentiment-fr for French) extended with brand-page vocabulary and phrases
(jobs.labeller.lexicon), negation ("ne … pas", "not"), intensifiers, contrast ("mais", "but"),
emoji and punctuation. Its result is a compound score in [-1, 1].

Stage 2 (optional, see tests.benchmarks.legacy_labeller.models): a trained model refines texts the rules leave
uncertain. The rules alone are a complete labeller; the model is an improvement layered on top.
"""

from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jobs.labeller import lexicon as lx
from jobs.labeller.patterns import PatternSet
from jobs.labeller.text import Prepared, any_of, fold, words

_SINGLE_RE = re.compile(r"(\w)\1+")
POS_THRESHOLD = 0.30
NEG_THRESHOLD = -0.25


def _package_dir(name: str) -> Path:
    """Folder of an installed package, without importing it (some import heavy or py2-era code)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed (run `uv sync`)")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def load_lexicon() -> dict[str, float]:
    """Token → valence (-4..4) for French and English, folded; domain words win."""
    lex: dict[str, float] = {}
    en = _package_dir("vaderSentiment") / "vader_lexicon.txt"
    for line in en.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].isalpha():
            lex[fold(parts[0])] = float(parts[1])
    fr = _package_dir("vaderSentiment_fr") / "fr_lexicon.txt"
    for line in fr.read_text(encoding="utf-8", errors="replace").splitlines():
        word, sep, value = line.rpartition("->")
        if not sep:
            continue
        key = fold(word.strip())
        if not key or not re.fullmatch(r"[a-z' -]+", key):
            continue
        try:
            val = float(value)
        except ValueError:
            continue
        # The French lexicon is machine-translated from VADER: the first-seen (English) value is
        # kept for words shared by both languages; French-only words come from here, weak ones
        # (mostly translation noise on function words) left out.
        if abs(val) >= 0.8:
            lex.setdefault(key, val)
    for word in lx.LEXICON_NEUTRAL:
        lex.pop(word, None)
    for word, val in {**lx.LEXICON_FIX, **lx.DOMAIN_VALENCE}.items():
        lex[fold(word)] = val
    # Function words the translated lexicon gave a valence to by accident.
    for word in ("pas", "plus", "rien", "sans", "trop", "encore", "toujours", "si", "non", "no", "ne", "jamais"):
        lex.pop(word, None)
    return lex


@lru_cache(maxsize=1)
def phrase_patterns() -> tuple[PatternSet, list[float]]:
    """The phrases as one set (index 0: a pre-filter matching any of them; i ≥ 1: phrase i-1) and
    their valences: most texts match no phrase, so one scan answers for all of them."""
    any_phrase = any_of([p for p, _ in lx.PHRASE_VALENCE])
    phrases = [re.compile(r"\b(?:" + p + r")\b") for p, _ in lx.PHRASE_VALENCE]
    return PatternSet([any_phrase, *phrases]), [v for _, v in lx.PHRASE_VALENCE]


@dataclass(slots=True)
class RuleSentiment:
    compound: float  # -1..1
    pos: float  # sum of positive evidence
    neg: float  # sum of negative evidence (positive number)
    hits: int  # number of valenced items
    question: bool


def score_rules(doc: Prepared) -> RuleSentiment:
    lex = load_lexicon()
    text = doc.folded
    total_pos = total_neg = 0.0
    hits = 0
    # Phrases first; their words are masked.
    phrases, valences = phrase_patterns()
    found = phrases.scan(text)
    for k, val in enumerate(valences if found.search(0) else (), start=1):
        if found.search(k):
            pattern = phrases.patterns[k]
            count = len(pattern.findall(text))
            text = pattern.sub(" _ ", text)
            found = phrases.scan(text)  # the masked text is what the next phrases see
            if val > 0:
                total_pos += val * min(count, 2)
            else:
                total_neg += -val * min(count, 2)
            hits += count
    toks = words(text)
    contrast_at = -1
    for i, tok in enumerate(toks):
        if tok in lx.CONTRAST:
            contrast_at = i
    sentiments: list[float] = []
    for i, tok in enumerate(toks):
        valence = lex.get(tok)
        if valence is None and len(tok) > 3:
            # "tooop" → (squeezed to) "toop" → "top", "suuuper" → "super", "nuuul" → "nul"
            valence = _squeezed_valence(tok)
        if not valence:
            sentiments.append(0.0)
            continue
        # intensifier / diminisher just before
        for j in (i - 1, i - 2):
            if j >= 0:
                boost = lx.INTENSIFIERS.get(toks[j]) or lx.DIMINISHERS.get(toks[j])
                if boost:
                    valence = valence * (1 + boost) if j == i - 1 else valence * (1 + boost * 0.6)
                    break
        if _negated(toks, i):
            valence = -0.6 * valence if valence > 0 else -0.4 * valence
        sentiments.append(valence)
    if contrast_at >= 0:
        # "c'est joli mais ça casse" → what follows "mais" carries the opinion.
        sentiments = [v * 0.5 if k < contrast_at else v * 1.4 for k, v in enumerate(sentiments)]
    for v in sentiments:
        if v > 0:
            total_pos += v
            hits += 1
        elif v < 0:
            total_neg += -v
            hits += 1
    for ch in doc.emoji:
        emoji_valence = lx.EMOJI_VALENCE.get(ch)
        if emoji_valence:
            hits += 1
            if emoji_valence > 0:
                total_pos += emoji_valence * 0.8
            else:
                total_neg += -emoji_valence * 0.8
    raw = total_pos - total_neg
    excl = min(doc.raw.count("!"), 4) * 0.25
    raw += excl if raw > 0 else -excl if raw < 0 else 0.0
    compound = raw / math.sqrt(raw * raw + 15)
    return RuleSentiment(compound, total_pos, total_neg, hits, "?" in doc.raw)


@lru_cache(maxsize=65536)
def _squeezed_valence(token: str) -> float | None:
    """Valence of a token with its repeated letters collapsed (tokens recur: cached)."""
    return load_lexicon().get(_SINGLE_RE.sub(r"\1", token))


def _negated(toks: list[str], i: int) -> bool:
    window = toks[max(0, i - 3) : i]
    if any(t in lx.NEGATORS or t.endswith("n't") for t in window):
        return True
    # French "ne/n' VERB pas": the negator follows the verb.
    before = toks[max(0, i - 2) : i]
    after = toks[i + 1 : i + 3]
    return any(t in lx.FR_NE for t in before) and any(t in lx.NEGATORS for t in after)


def label_from_compound(compound: float, question: bool) -> tuple[str, float]:
    """Compound → (label, confidence 0..1)."""
    neg_t = NEG_THRESHOLD
    pos_t = POS_THRESHOLD + (0.1 if question else 0.0)
    if compound >= pos_t:
        return "positive", round(min(1.0, 0.55 + (compound - pos_t) * 0.6), 4)
    if compound <= neg_t:
        return "negative", round(min(1.0, 0.55 + (neg_t - compound) * 0.6), 4)
    # neutral: most confident at 0
    span = pos_t if compound >= 0 else -neg_t
    return "neutral", round(max(0.34, 0.8 - abs(compound) / span * 0.45), 4)
