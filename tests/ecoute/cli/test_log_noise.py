"""Issue 19 items 8 and 11: library logs do not drown the user (Great Expectations INFO lines in the
demo, tracebacks per retry from client libraries); `-v` (DEBUG) keeps them."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import logging, sys
from ecoute.logs import configure_logging
configure_logging(sys.argv[1] if sys.argv[1] != "-" else None, quiet_libraries=sys.argv[2] == "quiet")
import great_expectations as gx  # the demo's noise: GX logs INFO lines as it builds a context
gx.get_context(mode="ephemeral")
try:
    raise ConnectionRefusedError(111, "Connection refused")
except OSError:
    logging.getLogger("elasticsearch.client").warning("retrying request", exc_info=True)
    logging.getLogger("ecoute.es").warning("ours keep their traceback", exc_info=True)
"""


def run(tmp_path, level: str, mode: str) -> str:
    script = tmp_path / "noise.py"  # a file, not -c: some installed package changes logging under `python -c`
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), level, mode], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_great_expectations_info_and_library_tracebacks_are_silenced_by_default(tmp_path):
    stderr = run(tmp_path, "-", "quiet")
    assert " great_expectations." not in stderr
    assert "retrying request (ConnectionRefusedError" in stderr  # the line stays, its traceback goes
    assert stderr.count("Traceback") == 1 and "ours keep their traceback" in stderr


def test_debug_keeps_everything(tmp_path):
    stderr = run(tmp_path, "DEBUG", "loud")
    assert "INFO great_expectations." in stderr and stderr.count("Traceback") == 2
