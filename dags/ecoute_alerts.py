"""Criticism spike watch, every 15 minutes (jobs/alerts/): counts distinct critical voices per
bucket, asks the detector of jobs/alerts/spikes.py whether the newest buckets beat the page's ordinary
bursts, and if so writes the alert to ecoute-alerts, produces it to ecoute.alerts.v1 and emails the
managers through the ``smtp_default`` connection. One email per episode (a second only when it
grows by a severity step or reaches another page, a short one when it is over; quiet hours hold
alerts for a morning summary); an email that failed is retried by the next run and never sent
twice (its state is on the alert document). See docs/alerts.md.

No catch-up and one run at a time (max_active_runs=1): a late run looks back a few hours itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="ecoute_criticism_watch",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=14),
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["ecoute", "alerts"],
    doc_md=__doc__,
)
def ecoute_criticism_watch() -> None:
    @task
    def watch(logical_date: datetime | None = None) -> list[dict]:
        import pendulum

        from ecoute.settings import get_settings
        from jobs.alerts import run_criticism_watch

        # A manual run may have no logical date: then it watches "now".
        now = logical_date or pendulum.now("UTC")
        alerts = run_criticism_watch(get_settings(), now=now)
        return [{"id": a["id"], "severity": a["severity"], "email_sent_at": a.get("email_sent_at")} for a in alerts]

    watch()


ecoute_criticism_watch()
