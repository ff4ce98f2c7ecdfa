"""Threat watch, every 5 minutes (jobs/notify/threats.py): mentions the labeller flagged as a threat,
not handled and not yet notified, are emailed to the moderators through the ``smtp_default``
connection, each one once (a failed email is retried by the next run). settings.moderation turns it
off, sets the recipients (default: the alert recipients) and how far back a first run looks.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="ecoute_threat_watch",
    schedule="*/5 * * * *",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=4),
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    tags=["ecoute", "moderation"],
    doc_md=__doc__,
)
def ecoute_threat_watch() -> None:
    @task
    def notify() -> dict:
        from ecoute.settings import get_settings
        from jobs.notify.threats import notify_threats

        return notify_threats(get_settings())

    notify()


ecoute_threat_watch()
