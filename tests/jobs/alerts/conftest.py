"""Alerts tests: Airflow (imported by the SMTP hook) gets its own home in a temp folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="ecoute-airflow-"))


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let each test define its own smtp_default connection (AIRFLOW_CONN_SMTP_DEFAULT)."""
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    yield
