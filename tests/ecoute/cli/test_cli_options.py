"""Issue 19 item 11 (CLI): flags show no `<bool>` value in --help, counts refuse negatives, and the
erase summary says how many documents were erased."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ecoute.cli import app
from tests.ecoute.cli.test_stack_down import commands

runner = CliRunner()


def test_no_flag_in_any_help_shows_a_bool_value():
    for path, _ in commands():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, (path, result.output)


@pytest.mark.parametrize(
    "argv",
    [
        ["queue", "moderate", "--limit", "-5"],
        ["queue", "answer", "--limit", "0"],
        ["queue", "moderate", "--days", "-1"],
        ["retention", "--days", "0"],
        ["connect", "import", "x.jsonl", "--batch-size", "-5"],
    ],
)
def test_negative_counts_are_usage_errors(argv):
    result = runner.invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "Invalid value" in result.output, result.output


def test_fail_fast_is_only_on_while_a_command_runs():
    from ecoute import preflight

    assert runner.invoke(app, ["config"]).exit_code == 0
    assert not preflight.fail_fast()
