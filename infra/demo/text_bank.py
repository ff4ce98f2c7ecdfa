"""Text fragments of the demo data set, loaded from ``text_bank.yaml`` beside this file.

The YAML says how fragments are composed; this module only exposes them under the names the
generator uses. Standard library + PyYAML only.
"""

from __future__ import annotations

from pathlib import Path

import yaml

_BANK = yaml.safe_load((Path(__file__).resolve().parent / "text_bank.yaml").read_text(encoding="utf-8"))

PRODUCTS_FR: list[str] = _BANK["products_fr"]
PRODUCTS_EN: list[str] = _BANK["products_en"]
PRODUCTS_SHORT: list[str] = _BANK["products_short"]
CITIES: list[str] = _BANK["cities"]
EMOJI_POS: list[str] = _BANK["emoji_pos"]
EMOJI_NEG: list[str] = _BANK["emoji_neg"]
EMOJI_SAD: list[str] = _BANK["emoji_sad"]
HASHTAGS_POS: list[str] = _BANK["hashtags_pos"]
HASHTAGS_NEG: list[str] = _BANK["hashtags_neg"]
FR: dict[str, list[str]] = _BANK["fr"]
TEAMS_FR: list[str] = _BANK["teams_fr"]
EN: dict[str, list[str]] = _BANK["en"]
TEAMS_EN: list[str] = _BANK["teams_en"]
MINOR: dict[str, dict[str, list[str]]] = _BANK["minor"]
ES, DE, IT, PT = MINOR["es"], MINOR["de"], MINOR["it"], MINOR["pt"]
FIRST_NAMES_FR: list[str] = _BANK["first_names_fr"]
LAST_NAMES_FR: list[str] = _BANK["last_names_fr"]
FIRST_NAMES_EN: list[str] = _BANK["first_names_en"]
LAST_NAMES_EN: list[str] = _BANK["last_names_en"]
FIRST_NAMES_OTHER: dict[str, list[str]] = _BANK["first_names_other"]
LAST_NAMES_OTHER: dict[str, list[str]] = _BANK["last_names_other"]
HANDLE_WORDS: list[str] = _BANK["handle_words"]
POSTS: dict[str, list[str]] = _BANK["posts"]
CRISIS_POST: str = _BANK["crisis_post"]
FOLLOWUP_POST: str = _BANK["followup_post"]
YOUTUBE_TITLES: list[str] = _BANK["youtube_titles"]
