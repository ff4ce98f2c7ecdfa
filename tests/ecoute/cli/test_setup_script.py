"""Issue 19 item 1: `infra/setup.sh` must not rebuild .venv when python3.11 is a launcher (pyenv shim).

The test puts a shim-like `python3.11` (a script that execs the real interpreter, as pyenv's shims
do) first on PATH, and a `uv` that runs the real uv with ``--dry-run -v``; then it runs the real
setup script in this checkout and reads what uv would do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _real_uv() -> str | None:
    return shutil.which("uv") or next((str(p) for p in (Path.home() / ".local/bin/uv",) if p.is_file()), None)


@pytest.mark.skipif(_real_uv() is None or not (ROOT / ".venv").is_dir(), reason="needs uv and a set-up .venv")
def test_setup_with_a_shimmed_python_would_not_replace_the_environment(tmp_path):
    base = getattr(sys, "_base_executable", None) or sys.executable
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python3.11"
    shim.write_text(f'#!/usr/bin/env bash\nexec "{base}" "$@"\n')
    uv = bin_dir / "uv"
    uv.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$@" >> "{tmp_path}/uv-args"\n'
        f'args=(); for a in "$@"; do [ "$a" != --quiet ] && args+=("$a"); done\n'
        f'exec "{_real_uv()}" "${{args[@]}}" --dry-run -v\n'
    )
    for script in (shim, uv):
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    env.pop("ECOUTE_PYTHON", None)
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        ["bash", str(ROOT / "infra" / "setup.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-3000:]
    assert "Would replace project environment" not in report, report[-3000:]
    assert "Would use project environment" in report, report[-3000:]
    sync = [line for line in (tmp_path / "uv-args").read_text().splitlines() if line.startswith("sync")]
    assert len(sync) == 1 and "--compile-bytecode" in sync[0].split()  # .pyc written once, at install
