"""The wheel works outside the checkout: `pip install .` into a fresh venv, then `ecoute --help` and
`ecoute label` run from an unrelated folder (paths come from settings and package data, not the tree)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _uv() -> str:
    candidates = [shutil.which("uv"), str(Path.home() / ".local" / "bin" / "uv")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("uv is not installed (infra/setup.sh installs it)")


@pytest.mark.slow
def test_installed_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    uv = _uv()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "ECOUTE_", "UV_PROJECT"))}
    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([uv, "build", "--wheel", "-q", "-o", str(dist)], cwd=ROOT, env=env, check=True, timeout=300)
    (wheel,) = dist.glob("ecoute-*.whl")
    constraints = tmp_path / "constraints.txt"
    subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "-q", "-o", str(constraints)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], env=env, check=True, timeout=120)
    subprocess.run(
        [uv, "pip", "install", "-q", "-c", str(constraints), str(wheel)],
        env={**env, "VIRTUAL_ENV": str(venv)},
        check=True,
        timeout=900,
    )
    ecoute = venv / "bin" / "ecoute"
    run_env = {**env, "HOME": str(tmp_path)}  # no cache or config from the developer's home
    help_text = subprocess.run(
        [str(ecoute), "--help"], cwd=elsewhere, env=run_env, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    for command in ("label", "enrich", "connect", "stack", "report"):
        assert command in help_text
    assert " demo " not in help_text  # the demo lives beside its data, in a checkout
    lines = [
        {"id": "1", "text": "Toujours pas reçu ma commande, service client injoignable"},
        {"id": "2", "text": "Merci !"},
    ]
    labelled = (
        subprocess.run(
            [str(ecoute), "label"],
            cwd=elsewhere,
            env=run_env,
            capture_output=True,
            timeout=300,
            check=True,
            input="\n".join(json.dumps(line) for line in lines).encode(),
        )
        .stdout.decode()
        .splitlines()
    )
    rows = [json.loads(line) for line in labelled]
    assert [row["id"] for row in rows] == ["1", "2"]
    assert rows[0]["criticism"] is True and rows[0]["lang"] == "fr"
