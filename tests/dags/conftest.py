"""DAG tests: Airflow with its own home and SQLite database in a temp folder, migrated once per
session (`airflow db migrate`, ~10-20 s), and Écoute settings passed to the tasks by environment."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecoute.settings import Settings, get_settings

DAGS = Path(__file__).resolve().parents[2] / "dags"
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="ecoute-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS))
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")


@pytest.fixture(scope="session")
def airflow_db() -> float:
    """Migrate the SQLite metadata database once; returns the seconds it took."""
    began = time.perf_counter()
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return time.perf_counter() - began


def settings_to_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make get_settings() inside Airflow tasks return these settings (as a deployment would, by env)."""
    for key, value in {
        "ECOUTE_STATE_DIR": str(settings.state_dir),
        "ECOUTE_ES__URL": settings.es.url,
        "ECOUTE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "ECOUTE_SMTP__PORT": str(settings.smtp.port),
        **{f"ECOUTE_INDICES__{k.upper()}": v for k, v in settings.indices.model_dump().items()},
        **{f"ECOUTE_TOPICS__{k.upper()}": v for k, v in settings.topics.model_dump().items()},
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()


@pytest.fixture
def task_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    settings_to_env(settings, monkeypatch)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    yield settings
    get_settings.cache_clear()
