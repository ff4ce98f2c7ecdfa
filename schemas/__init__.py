"""The data contracts of Écoute: the files in this folder are the single source of truth.

Code loads them through these helpers; nothing re-declares them by hand.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMAS_DIR = Path(__file__).resolve().parent
ES_TEMPLATES_DIR = SCHEMAS_DIR / "elasticsearch"
EXPECTATIONS_DIR = SCHEMAS_DIR / "expectations"


@cache
def load_json(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))


@cache
def topics() -> dict[str, dict[str, Any]]:
    """Topic role (raw, enriched, dlq, alerts) -> its declaration in topics.yaml."""
    return yaml.safe_load((SCHEMAS_DIR / "topics.yaml").read_text(encoding="utf-8"))["topics"]


def index_templates() -> dict[str, dict[str, Any]]:
    """Template name -> body, from schemas/elasticsearch/<name>.template.json."""
    return {
        path.name.removesuffix(".template.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(ES_TEMPLATES_DIR.glob("*.template.json"))
    }


def expectation_suite(name: str) -> dict[str, Any]:
    return json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
