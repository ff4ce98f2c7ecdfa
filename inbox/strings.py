"""UI strings, French and English, from inbox/strings/<lang>.yaml (people edit those, not Python)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

STRINGS_DIR = Path(__file__).resolve().parent / "strings"
LANGUAGES = ("fr", "en")


@cache
def strings(lang: str) -> dict[str, str]:
    path = STRINGS_DIR / f"{lang if lang in LANGUAGES else LANGUAGES[0]}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def translator(lang: str) -> Callable[..., str]:
    table = strings(lang)

    def t(key: str, **values: Any) -> str:
        text = table.get(key, key)  # a missing key shows itself, and a test lists them
        return text.format(**values) if values else text

    return t
