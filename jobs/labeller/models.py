"""Trained artefacts of the labeller (built by `ecoute models build`, never downloaded)."""

from __future__ import annotations

from typing import Any


def load_sentiment_model() -> Any | None:
    return None


def load_topic_model(taxonomy: Any) -> Any | None:
    return None


def build_all(force: bool = False, log: Any = print) -> list[str]:
    return ["no trained artefacts in this version"]
