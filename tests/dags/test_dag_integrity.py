"""DAG integrity: every DAG file imports without error, fast, and without heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.dags.conftest import DAGS

OURS = {
    "ecoute_rollups.py": ["ecoute_rollups_daily"],
    "ecoute_alerts.py": ["ecoute_criticism_watch"],
    "ecoute_digest.py": ["ecoute_team_digest"],
    "ecoute_pipeline.py": ["ecoute_connectors", "ecoute_enrichment"],
}
HEAVY = ("pandas", "pyspark", "matplotlib", "elasticsearch", "kafka", "scipy", "great_expectations", "jobs", "connectors")

PROBE = """
import importlib.util, json, sys, time
import airflow.sdk  # what a DAG file may import
before = set(sys.modules)
began = time.perf_counter()
spec = importlib.util.spec_from_file_location("probe_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
print(json.dumps({"seconds": time.perf_counter() - began, "new": new}))
"""


def test_dagbag_has_no_import_errors(airflow_db) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    for dag_ids in OURS.values():
        for dag_id in dag_ids:
            dag = bag.get_dag(dag_id)
            assert dag is not None, dag_id
            assert dag.tags and "ecoute" in dag.tags
    watch = bag.get_dag("ecoute_criticism_watch")
    assert watch.max_active_runs == 1 and not watch.catchup
    assert bag.get_dag("ecoute_rollups_daily").catchup


def test_dag_files_import_only_light_modules() -> None:
    for name in OURS:
        result = subprocess.run(
            [sys.executable, "-c", PROBE, str(DAGS / name)], capture_output=True, text=True, timeout=120, check=True
        )
        probe = json.loads(result.stdout.strip().splitlines()[-1])
        heavy = [m for m in probe["new"] if m in HEAVY]
        assert heavy == [], f"{name} imports {heavy} at parse time"
        assert probe["seconds"] < 2.0, f"{name} took {probe['seconds']:.2f}s to parse"


def test_dag_folder_files_are_known() -> None:
    ours = {p.name for p in Path(DAGS).glob("ecoute_*.py")} & set(OURS)
    assert ours == set(OURS)
