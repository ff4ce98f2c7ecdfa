"""Text hygiene shared by every label: make any input safe, strip what misleads the models.

Social texts carry URLs, @handles, hashtags, emoji, elongations ("trooop") and sometimes broken
Unicode (NUL bytes, lone surrogates from bad JSON). Every label works on the outputs of
:func:`prepare`, so they all agree on what the text "says".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from unidecode import unidecode

# Labels are computed on the first ANALYSED_CHARS characters of the normalised text (blanks and
# invisible characters already out, so padding cannot push the message away); the toxicity stage
# also reads the rest (``Prepared.tail``, up to the raw schema's 100,000 characters) in windows.
ANALYSED_CHARS = 4000
TAIL_CHARS = 100_000

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
HANDLE_RE = re.compile(r"(?<!\w)@[\w.]+")
HASHTAG_RE = re.compile(r"(?<!\w)#(\w+)")
ELONGATION_RE = re.compile(r"(\w)\1{2,}")
PUNCT_RUN_RE = re.compile(r"([!?.])\1{2,}")
SPACE_RE = re.compile(r"\s+")
# Emoji and pictographs (incl. flags, dingbats, variation selectors, skin tones, ZWJ).
EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\U0000fe0f\U0000200d"
    "\U00002190-\U000021ff\U00002b00-\U00002bff\U0001f3fb-\U0001f3ff\u2300-\u23ff]+"
)
LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+", re.UNICODE)
CAMEL_RE = re.compile(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Ý])")


def sanitise(text: object) -> str:
    """Any value → a valid, NUL-free Python str (lone surrogates replaced)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        if isinstance(text, float) and text != text:  # NaN: pandas' missing value
            return ""
        text = text.decode("utf-8", "replace") if isinstance(text, bytes | bytearray) else str(text)
    if "\x00" in text:
        text = text.replace("\x00", " ")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


@dataclass(slots=True)
class Prepared:
    """One text, ready for the labels."""

    raw: str  # sanitised, normalised (normalise.py), blanks collapsed, first ANALYSED_CHARS (keeps case, emoji, punctuation)
    clean: str  # URLs/handles removed, hashtags as words, elongations squeezed, emoji removed
    lower: str  # clean, lower-cased (keeps accents)
    folded: str  # lower without accents, apostrophes normalised: what keyword rules match on
    emoji: str  # the emoji found, in order
    n_letters: int
    n_words: int
    tags_only: bool = False  # only hashtags (and handles/URLs/emoji): no sentence to tell a language from
    complaint: bool | None = None  # cached by criticism.complaint_flags (used by two stages)
    tail: str = ""  # the clean text after the first ANALYSED_CHARS (read by the toxicity stage in windows)


def squeeze(text: str) -> str:
    """'trooooop' → 'troop', 'cooool' → 'cool': keeps double letters, drops elongation."""
    return ELONGATION_RE.sub(r"\1\1", text)


_FOLD_SRC = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ’`«»"
_FOLD_DST = "aaaaaaceeeeiiiinooooouuuuyy''\"\""
_FOLD_TABLE = str.maketrans({**dict(zip(_FOLD_SRC, _FOLD_DST, strict=True)), "œ": "oe", "æ": "ae", "ß": "ss"})


def fold(text: str) -> str:
    """Lower-case, accent-free, typographic apostrophes normalised."""
    text = text.lower().translate(_FOLD_TABLE)
    if text.isascii():
        return text
    # Other scripts and rarer letters: unidecode (slower, hence the table first).
    return unidecode(text)


def prepare(text: object) -> Prepared:
    from jobs.labeller.normalise import normalise

    raw = normalise(sanitise(text))
    # str.split() splits on exactly the characters re's \s matches (str.isspace).
    if "  " in raw or not raw.isprintable():
        raw = " ".join(raw.split())
    tail = ""
    if len(raw) > ANALYSED_CHARS:
        cut = raw.rfind(" ", ANALYSED_CHARS - 200, ANALYSED_CHARS)  # not inside a word
        cut = cut if cut > 0 else ANALYSED_CHARS
        tail = _clean(raw[cut : cut + TAIL_CHARS])[0]
        raw = raw[:cut]
    clean, emoji, tags_only = _clean(raw)
    lower = clean.lower().replace("’", "'")
    folded = fold(lower)
    n_letters = len(LETTER_RE.findall(clean))
    n_words = len(WORD_RE.findall(clean))
    return Prepared(raw, clean, lower, folded, emoji, n_letters, n_words, tags_only, tail=tail)


def _clean(raw: str) -> tuple[str, str, bool]:
    """(clean text, the emoji found, hashtags only) of a normalised text."""
    # Each substitution is skipped when the literal its pattern needs is absent (most texts).
    body = URL_RE.sub(" ", raw) if "://" in raw or "www." in raw.lower() else raw
    if "@" in body:
        body = HANDLE_RE.sub(" ", body)
    tags_only = False
    if "#" in body:
        tags_only = len(LETTER_RE.findall(HASHTAG_RE.sub(" ", body))) < 2
        # "#LivraisonRatée" → "Livraison Ratée": hashtags often carry the message.
        body = HASHTAG_RE.sub(lambda m: " " + CAMEL_RE.sub(" ", m.group(1)) + " ", body)
    emoji = "".join(EMOJI_RE.findall(body))
    if emoji:
        body = EMOJI_RE.sub(" ", body)
    body = unicodedata.normalize("NFC", body)
    if "!!!" in body or "???" in body or "..." in body:
        body = PUNCT_RUN_RE.sub(r"\1\1", body)
    return " ".join(squeeze(body).split()), emoji, tags_only


# Prefix for big alternations of word patterns: only try at word starts. Python's re engine has no
# trie for alternations, so this cuts their cost 3–5× on typical comments.
WORD_START = r"(?<![a-z0-9])(?=[a-z0-9'])"


def any_of(patterns: list[str]) -> re.Pattern[str]:
    """One regex matching any of `patterns` (each starting at a word start)."""
    return re.compile(WORD_START + "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")")


TOKEN_RE = re.compile(r"[a-z0-9]+'?|[!?]")


def words(folded: str) -> list[str]:
    """Tokens of a folded text; elisions split off ("n'est" → "n'", "est")."""
    return TOKEN_RE.findall(folded)
