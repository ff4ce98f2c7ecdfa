"""The retrain DAG under dag.test() against noida-db: nothing to do without labels; enough new labels
→ a guarded build, the model in use changes, recent mentions relabelled with it; then nothing again."""

from __future__ import annotations

from datetime import UTC, datetime

from ecoute import es
from ecoute.feedback import Correction, record_corrections
from jobs.labeller.build.evaluation import load_labelled
from tests.dags.conftest import DAGS

FLIP = {"positive": "negative", "negative": "positive"}


def _run(dag, when: datetime) -> dict[str, str]:
    for task in dag.tasks:
        task.retries = 0
    run = dag.test(logical_date=when)
    assert str(run.state) == "success"
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_learning_dag_retrains_only_when_enough_labels_arrived(airflow_db, task_settings, monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from jobs.labeller import history

    monkeypatch.setenv("ECOUTE_LABELLER_DIR", str(task_settings.state_dir / "labeller"))
    monkeypatch.setenv("ECOUTE_LEARNING__RETRAIN_MIN_LABELS", "50")
    bag = DagBag(dag_folder=str(DAGS / "ecoute_learning.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag("ecoute_learning")
    client = es.make_client(task_settings)
    es.apply_templates(client, task_settings)

    states = _run(dag, datetime(2026, 12, 1, 2, 30, tzinfo=UTC))
    assert states["new_labels"] == "success" and states["retrain"] == "skipped", states
    models = task_settings.state_dir / "labeller" / "models"
    assert not list(models.glob("e5-heads-*.npz"))

    # The page reads praise as negative and complaints as positive: its own reading must win.
    items = [it for it in load_labelled("fr_test.tsv") if it.sentiment in FLIP][:60]
    corrections = [
        Correction(f"facebook:l{i}", it.text, {"sentiment": FLIP[it.sentiment]}, lang="fr")
        for i, it in enumerate(items)
    ]
    assert record_corrections(task_settings, corrections, who="claire", source="inbox", client=client).ok == 60
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    mention = {
        "id": "facebook:l0",
        "text": items[0].text,
        "created_at": now,
        "sentiment": items[0].sentiment,
        "labeller_version": "old",
        "author": {"id": "a_1", "is_brand": False},
    }
    es.bulk_write(client, es.upsert_actions(task_settings.indices.mentions, [mention]), refresh="wait_for")

    states = _run(dag, datetime(2026, 12, 2, 2, 30, tzinfo=UTC))
    assert states == {"new_labels": "success", "retrain": "success", "backfill": "success"}, states
    (built,) = models.glob("e5-heads-*.npz")
    in_use = history.active()
    assert in_use.path == built and history.events()[-1]["who"] == "airflow"
    client.indices.refresh(index=task_settings.indices.mentions)
    doc = client.get(index=task_settings.indices.mentions, id="facebook:l0")["_source"]
    assert doc["model_version"] == in_use.version and doc["sentiment"] == FLIP[items[0].sentiment]

    states = _run(dag, datetime(2026, 12, 3, 2, 30, tzinfo=UTC))  # no label since: nothing to do
    assert states["retrain"] == "skipped" and len(list(models.glob("e5-heads-*.npz"))) == 1
