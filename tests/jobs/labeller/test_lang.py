"""Language of short social texts: Portuguese and German tweets the lite fastText model misreads,
other scripts decided by fastText alone, nothing-to-tell texts stay "und"."""

from __future__ import annotations

import pytest

from jobs.labeller.lang import LINGUA_LANGS, LanguageDetector
from jobs.labeller.text import prepare


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


CASES = [
    # Portuguese, with the abbreviations of Brazilian tweets, or where fastText says French/Spanish
    ("pt", "vc viu isso hj? pq ninguém fala nada"),
    ("pt", "Tomara que o time azul perca hoje #MasterChef"),
    ("pt", "faltou sal na costela de tambaqui"),
    ("pt", "tbm acho, tá foda"),
    # German particles in short replies
    ("de", "echt jetzt? nee"),
    ("de", "ach so, doch nicht"),
    # other scripts: fastText alone
    ("ar", "شكرا جزيلا لكم"),
    ("ru", "спасибо большое"),
    # the page's own languages keep working
    ("fr", "Toujours pas reçu ma commande, c'est abusé"),
    ("en", "great service, thank you so much"),
    ("es", "¿Dónde está mi pedido? Llevo dos semanas esperando"),
    ("it", "Servizio pessimo, non compro più"),
    # nothing to tell
    ("und", "😍😍😍"),
    ("und", "@user http"),
    ("und", "ok"),
    ("und", "lol"),
    ("und", "hmm"),
]


@pytest.mark.parametrize(("lang", "text"), CASES)
def test_language(detector, lang, text):
    langs, confs = detector.detect_many([prepare(text)])
    assert langs == [lang], (text, langs, confs)
    assert 0.0 <= confs[0] <= 1.0


def test_lingua_loads_latin_script_languages_only():
    assert {"fr", "en", "es", "de", "it", "pt"} <= set(LINGUA_LANGS)
    assert not {"ar", "ru", "zh", "ja"} & set(LINGUA_LANGS)
