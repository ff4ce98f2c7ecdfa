"""Issue 19 item 8: with the stack down, every `ecoute` command prints one line and exits non-zero.

The commands are discovered from the Typer app (a new command is covered without editing this
file); each runs as a user runs it (the installed `ecoute` script, in a subprocess) with Kafka,
Elasticsearch, SMTP and Kibana pointed at ports where nothing listens. A command that needs a
service must fail in seconds (no minutes of retries) with exactly one line on stderr that names
the service and `ecoute stack up`; a command that needs none may succeed; none may print a
traceback. ``-v`` brings the traceback back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import typer.main

from ecoute.cli import app
from tests.conftest import free_port

ECOUTE = str(Path(sys.executable).with_name("ecoute"))
# They start the stack: that is the remedy the error line names, not a command to test down.
STARTS_THE_STACK = {("stack", "up"), ("demo",)}
# Commands that need no service: they may succeed with the stack down (still no traceback).
# (`stack status` exits 3 when the stack is not running: that is its answer, on stdout.)
OFFLINE = {
    ("config",),
    ("label",),
    ("spikes", "detect"),
    ("kibana", "export"),
    ("stack", "down"),
    ("stack", "status"),
    ("models", "build"),
    ("models", "list"),
    ("models", "rollback"),
    ("feedback", "suggest"),
}
STACK_SERVICES = ("Kafka", "Elasticsearch", "SMTP")  # the embedded stack: the line says `ecoute stack up`
TIMEOUT_S = 240
# Commands that read a secret from stdin before they reach a service.
STDIN = {("inbox", "user", "add"): "correct-horse-battery-staple\n"}

pytestmark = pytest.mark.slow  # ~30 processes; about 3 minutes on 2 busy cores


def commands() -> list[tuple[tuple[str, ...], object]]:
    found = []

    def walk(command, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in sorted(subcommands.items()):
                walk(sub, (*path, name))
        else:
            found.append((path, command))

    walk(typer.main.get_command(app), ())
    return found


def sample_args(command, tmp: Path) -> list[str]:
    """Values for the required parameters, by name (a date for --from/--to, a file for a path...)."""
    args: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        name = param.name or ""
        if name == "pool":  # a file of {"id","text"} lines
            value = tmp / "pool.jsonl"
            value.write_text('{"id":"p1","text":"bonjour, vous livrez en Belgique ?"}\n')
        elif name in ("path",):
            value = tmp / "one.jsonl"
            value.write_text('{"native_id":"1","created_at":"2026-10-01T10:00:00Z","text":"bonjour"}\n')
        elif name == "file":
            value = tmp / "series.csv"
            value.write_text("timestamp,value\n2026-10-01 10:00:00,1\n2026-10-01 11:00:00,2\n")
        elif name in ("day_from", "start"):
            value = "2026-10-01"
        elif name in ("day_to", "end"):
            value = "2026-10-02"
        elif name == "author":
            value = "a_0123456789abcdef01234567"
        elif name == "ids":
            value = "facebook:1"
        elif name == "name":  # a person's user name (inbox users)
            value = "claire"
        elif name == "role":
            value = "viewer"
        else:
            pytest.fail(f"add a sample value for the required parameter {name!r} of {command.name!r}")
        opts = [o for o in getattr(param, "opts", []) if o.startswith("-")]
        args += [opts[0], str(value)] if opts else [str(value)]
    names = {param.name for param in command.params}
    if "yes" in names:  # no confirmation prompt: stdin is closed
        args.append("--yes")
    if "out_file" in names:  # never write into the checkout
        args += ["--out", str(tmp / f"out-{command.name}")]
    return args


def line_is_clear(line: str) -> bool:
    """One line that says which service is down and how to start it, or which setting is missing."""
    if line.startswith("error: cannot reach ") and any(service in line for service in STACK_SERVICES):
        return "`ecoute stack up`" in line
    return line.startswith("error: cannot reach ") or (line.startswith("error: ") and "set ECOUTE_" in line)


@pytest.fixture(scope="module")
def down_env(tmp_path_factory) -> dict[str, str]:
    state = tmp_path_factory.mktemp("down")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(state),
        "COLUMNS": "120",
        "ECOUTE_STATE_DIR": str(state / "state"),
        "ECOUTE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "ECOUTE_ES__URL": f"http://127.0.0.1:{free_port()}",
        "ECOUTE_SMTP__PORT": str(free_port()),
        "ECOUTE_ALERTS__KIBANA_URL": f"http://127.0.0.1:{free_port()}",
        "ECOUTE_KIBANA__URL": f"http://127.0.0.1:{free_port()}",
        "AIRFLOW_HOME": str(state / "airflow"),
        "ECOUTE_WEBHOOK__APP_SECRET": "s3cret-for-the-test",
        # A configured polled connector gets past its settings to Kafka (the others say what to set).
        "ECOUTE_RSS__FEEDS": f'["http://127.0.0.1:{free_port()}/feed.xml"]',
    }


def run(path: tuple[str, ...], command, env: dict[str, str], tmp: Path, verbose: bool = False) -> dict:
    argv = [ECOUTE, *(["-v"] if verbose else []), *path, *sample_args(command, tmp)]
    started = time.monotonic()
    stdin = STDIN.get(path)
    done = subprocess.run(
        argv,
        env=env,
        input=stdin,
        stdin=None if stdin else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    return {
        "argv": argv[1:],
        "code": done.returncode,
        "stderr": done.stderr,
        "stdout": done.stdout,
        "seconds": time.monotonic() - started,
    }


def test_every_command_with_the_stack_down_prints_one_line_and_exits_non_zero(down_env, tmp_path, capsys):
    walked = [(path, command) for path, command in commands() if path not in STARTS_THE_STACK]
    assert len(walked) >= 25  # the walk found the app's commands
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda item: run(*item, down_env, tmp_path), walked))
    problems = []
    with capsys.disabled():
        print(f"\nstack down: {len(results)} commands")
        for (path, _), result in zip(walked, results, strict=True):
            lines = [line for line in result["stderr"].splitlines() if line.strip()]
            print(
                f"  {' '.join(path):<22} exit {result['code']:>3}  {result['seconds']:5.1f}s  "
                f"{lines[-1][:110] if lines else ''}"
            )
            if "Traceback" in result["stderr"] + result["stdout"]:
                problems.append(f"{path}: printed a traceback")
            if path in OFFLINE:
                continue
            if result["code"] == 0:
                problems.append(f"{path}: exit 0 with the stack down")
            elif len(lines) != 1:
                problems.append(f"{path}: {len(lines)} lines on stderr:\n" + "\n".join(lines[:12]))
            elif not line_is_clear(lines[0]):
                problems.append(f"{path}: the line names no service and no setting: {lines[0]}")
            elif result["seconds"] > 120:
                problems.append(f"{path}: took {result['seconds']:.0f} s to say so")
    assert not problems, "\n".join(problems)


def test_verbose_shows_the_traceback(down_env, tmp_path):
    (command,) = [c for p, c in commands() if p == ("retention",)]
    result = run(("retention",), command, down_env, tmp_path, verbose=True)
    assert result["code"] != 0 and "Traceback" in result["stderr"]
    assert result["stderr"].rstrip().splitlines()[-1].startswith("error: cannot reach Elasticsearch")
