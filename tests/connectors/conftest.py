"""Helpers for connector tests: read back what a connector produced, tiny back-off settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from ecoute import kafka
from ecoute.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"


def read_topic(settings: Settings, topic: str) -> list[tuple[str | None, dict[str, Any]]]:
    """Every (key, JSON value) of a topic, all partitions."""
    marks = kafka.high_watermarks(topic, settings=settings)
    records = []
    for partition, end in sorted(marks.items()):
        for record in kafka.read_range(topic, partition, 0, end, settings):
            records.append((record.key.decode() if record.key else None, orjson.loads(record.value)))
    return records


def raw_events(settings: Settings) -> list[dict[str, Any]]:
    return [value for _, value in read_topic(settings, settings.topics.raw)]


def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    return [value for _, value in read_topic(settings, settings.topics.dlq)]


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def fast_http() -> dict[str, Any]:
    """HTTP source options that keep every back-off wait tiny in tests."""
    return {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "max_wait_s": 0.05, "max_retries": 4, "timeout_s": 5}
