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
    "ecoute_threats.py": ["ecoute_threat_watch"],
    "ecoute_labeller.py": ["ecoute_labeller_centring"],
    "ecoute_learning.py": ["ecoute_learning"],
}
HEAVY = (
    "pandas",
    "pyspark",
    "matplotlib",
    "elasticsearch",
    "kafka",
    "scipy",
    "great_expectations",
    "jobs",
    "connectors",
)

PROBE = """
import importlib.util, json, sys, time
import airflow.sdk  # what a DAG file may import
report = {}
for path in sys.argv[1:]:
    before = set(sys.modules)
    began = time.perf_counter()
    spec = importlib.util.spec_from_file_location("probe_" + str(len(report)), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
    report[path] = {"seconds": time.perf_counter() - began, "new": new}
print(json.dumps(report))
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


def test_the_rollups_wait_for_the_mentions_the_enrichment_publishes(airflow_db) -> None:
    """Data-aware scheduling: the enrichment's last task publishes the mentions asset (only when a run
    wrote some: the task before it short-circuits), and the rollups DAG runs on it as well as daily."""
    from airflow.dag_processing.dagbag import DagBag

    from dags.assets import MENTIONS

    bag = DagBag(dag_folder=str(DAGS))
    enrichment = bag.get_dag("ecoute_enrichment")
    publishers = [t.task_id for t in enrichment.tasks if MENTIONS in (t.outlets or [])]
    assert publishers == ["mentions_written"]
    assert enrichment.get_task("mentions_written").upstream_task_ids == {"enrich", "wrote_mentions"}
    rollups = bag.get_dag("ecoute_rollups_daily")
    timetable = rollups.timetable
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    assert timetable.asset_condition == MENTIONS
    assert timetable.timetable.expression == "0 0 * * *"


def test_dag_files_import_only_light_modules() -> None:
    paths = [str(DAGS / name) for name in OURS]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *paths], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for path in paths:
        heavy = [m for m in report[path]["new"] if m in HEAVY]
        assert heavy == [], f"{path} imports {heavy} at parse time"
        assert report[path]["seconds"] < 2.0, f"{path} took {report[path]['seconds']:.2f}s to parse"


def test_dag_folder_files_are_known() -> None:
    ours = {p.name for p in Path(DAGS).glob("ecoute_*.py")} & set(OURS)
    assert ours == set(OURS)
