"""The house's rules that the import contract (lint-imports, in CI) cannot state.

- jobs/ holds one subpackage per stage, and only its package file and its commands at the top;
- the labeller's run-time modules never import its build (training, corpora, feedback build) nor
  scikit-learn nor the tests: what Spark executors load is what labelling needs.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELLER = ROOT / "jobs" / "labeller"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_jobs_top_level_holds_no_stage_module() -> None:
    loose = sorted(p.name for p in (ROOT / "jobs").glob("*.py"))
    assert loose == ["__init__.py", "cli.py"], f"stage modules loose at the top of jobs/: {loose}"


def test_run_time_labeller_imports_no_build_code() -> None:
    run_time = [p for p in LABELLER.rglob("*.py") if "build" not in p.relative_to(LABELLER).parts]
    assert len(run_time) > 10
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _imports(path)
            if name.startswith(("jobs.labeller.build", "sklearn", "tests")) or name == "jobs.labeller.build"
        )
        for path in run_time
    }
    assert not {k: v for k, v in offenders.items() if v}, offenders


def test_no_ecoute_setting_is_read_from_the_environment_outside_the_settings() -> None:
    """``ecoute.settings.Settings`` is the one reader of ``ECOUTE_*`` variables: the rest receive settings
    (or a config built from them, like the labeller's), so what configures a run can be seen and passed."""
    import re

    read = re.compile(r"""(?:environ\s*(?:\.get|\.pop|\.setdefault)?\s*[\(\[]|getenv\s*\()\s*[rbf]?["']ECOUTE_""")
    offenders = []
    for package in ("ecoute", "jobs", "connectors", "inbox", "dags", "infra"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "ecoute" / "settings.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if read.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], offenders
