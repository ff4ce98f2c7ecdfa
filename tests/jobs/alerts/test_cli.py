"""The rollups / alerts / digest commands of `ecoute`, against noida-db (settings from the env)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ecoute.cli import app
from ecoute.settings import get_settings
from tests.dags.conftest import settings_to_env
from tests.jobs.alerts.data import index_mentions, month_with_crisis


@pytest.fixture
def env_settings(settings, monkeypatch):
    settings_to_env(settings, monkeypatch)
    yield settings
    get_settings.cache_clear()


def test_rollups_replay_and_digest_commands(env_settings) -> None:
    index_mentions(env_settings, month_with_crisis(days=21))
    runner = CliRunner()
    result = runner.invoke(app, ["rollups", "--from", "2026-10-19", "--to", "2026-10-20"])
    assert result.exit_code == 0, result.output
    assert "rollup rows written for 2026-10-19 → 2026-10-20" in " ".join(result.output.split())

    result = runner.invoke(app, ["alerts", "replay", "--from", "2026-10-01", "--to", "2026-10-22", "--no-email"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("overall|2026-10-20T1") and "1 alert episode(s)" in result.output

    result = runner.invoke(app, ["digest", "--day", "2026-10-20", "--no-email"])
    assert result.exit_code == 0, result.output
    assert (env_settings.state_dir / "digests" / "digest-daily-2026-10-20.html").exists()


def test_bad_dates_exit_2() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["rollups", "--from", "20-10-2026"]).exit_code == 2
    assert runner.invoke(app, ["rollups", "--from", "2026-10-20", "--to", "2026-10-01"]).exit_code == 2
    assert runner.invoke(app, ["alerts", "watch", "--now", "yesterday"]).exit_code == 2
