"""The pipeline from Airflow alone: connector polling and the enrichment trigger.

- ``ecoute_connectors``: every 10 minutes, one sweep of each polled connector named in the Airflow
  Variable ``ecoute_connectors`` (JSON list, e.g. ``["facebook", "instagram"]``) or the
  ``ECOUTE_POLLED_CONNECTORS`` environment variable (comma-separated); credentials come from the
  Airflow connections ``ecoute_<source>`` (see connectors/config.py). One mapped task per
  connector, so one failing source does not stop the others.
- ``ecoute_enrichment``: every 5 minutes, the Spark enrichment job in ``available-now`` mode
  (processes what Kafka holds, then stops; resumes from its checkpoint). A run that wrote mentions
  publishes the Asset ``dags.assets.MENTIONS`` (its ``mentions_written`` task), which the rollups
  DAG schedules on; a run that wrote none skips that task, so nothing downstream runs for nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import dag, task

from dags.assets import MENTIONS

if TYPE_CHECKING:
    from airflow.sdk.execution_time.context import OutletEventAccessors


@dag(
    dag_id="ecoute_connectors",
    schedule="*/10 * * * *",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["ecoute", "connectors"],
    doc_md=__doc__,
)
def ecoute_connectors() -> None:
    @task
    def enabled_connectors() -> list[str]:
        import json

        from airflow.sdk import Variable

        from ecoute.settings import Settings

        raw = Variable.get("ecoute_connectors", default=None)
        # Read now, not cached: the environment of this task run decides.
        names = json.loads(raw) if raw else Settings().polled_connectors
        return [n.strip() for n in names if n.strip()]

    @task(max_active_tis_per_dag=4)
    def poll(name: str) -> dict:
        from dataclasses import asdict

        from connectors import run_connector
        from ecoute.settings import get_settings

        stats = run_connector(name, get_settings(), once=True)
        return asdict(stats) if hasattr(stats, "__dataclass_fields__") else dict(vars(stats))

    poll.expand(name=enabled_connectors())


@dag(
    dag_id="ecoute_enrichment",
    schedule="*/5 * * * *",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    tags=["ecoute", "enrichment"],
    doc_md=__doc__,
)
def ecoute_enrichment() -> None:
    @task
    def enrich() -> dict:
        from ecoute.settings import get_settings
        from jobs.enrich import run_enrichment

        stats = run_enrichment(get_settings(), mode="available-now")
        return stats.as_dict()

    @task.short_circuit
    def wrote_mentions(stats: dict) -> bool:
        return int(stats.get("rows_out") or 0) > 0

    @task(outlets=[MENTIONS])
    def mentions_written(stats: dict, outlet_events: OutletEventAccessors | None = None) -> dict:
        """Publishes the MENTIONS asset event (what the run wrote, and with which centring)."""
        written = {
            "rows_out": stats.get("rows_out"),
            "batches": stats.get("batches"),
            "centring": stats.get("centring"),
        }
        if outlet_events is not None:
            outlet_events[MENTIONS].extra = written
        return written

    stats = enrich()
    # TaskFlow's types want the task's own argument types; it passes the XComArg, resolved at run time.
    wrote_mentions(stats) >> mentions_written(stats)  # type: ignore[arg-type]


ecoute_connectors()
ecoute_enrichment()
