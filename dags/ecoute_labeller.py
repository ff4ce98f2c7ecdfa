"""The labeller's published centring, refreshed daily (jobs/labeller/build/centring.py).

Every day at 02:30 UTC: the per-language sums of the embeddings of the distinct texts stored in the
last 30 days (``ECOUTE_LABELLER_DIR``/centring/, a new version; the five newest are kept). The
enrichment job reads the newest when a run starts and ships it to every executor, read-only, so
all of a run's labels are centred alike and a replay labels as the first run did. See
docs/labels.md (centring).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="ecoute_labeller_centring",
    schedule="30 2 * * *",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["ecoute", "labeller"],
    doc_md=__doc__,
)
def ecoute_labeller_centring() -> None:
    @task
    def refresh() -> dict:
        from ecoute.settings import get_settings
        from jobs.labeller.build.centring import refresh_centring

        stats = refresh_centring(get_settings())
        if stats is None:
            return {"version": None}
        return {"version": stats.version, "texts": stats.meta["texts"]}

    refresh()


ecoute_labeller_centring()
