"""Fixtures of the enrichment tests."""

from __future__ import annotations

import os
import sys

import pytest

from ecoute.settings import Settings

# Spark's Python workers must run the interpreter of the tests (the project's venv).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture
def job_settings(settings: Settings) -> Settings:
    """The per-test settings, with Spark on two local cores (the machine is shared)."""
    return settings.model_copy(update={"spark_master": "local[2]"})
