"""Team digest (jobs/reporting/digest.py): every morning the previous day's figures versus the day before,
and on Mondays also the previous week's versus the week before, emailed to the team.

The schedule fires at 06:00 UTC; the run's logical date is that moment (Airflow 3 cron semantics),
so the day covered is the one before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pendulum
from airflow.sdk import dag, task


def _run_end(data_interval_end: datetime | None, logical_date: datetime | None) -> datetime:
    """The moment the run fired (its interval's end; a manual run may only have a logical date)."""
    end = data_interval_end or logical_date
    if end is None:
        raise ValueError("this run has neither a data interval nor a logical date: give it one")
    return end


@dag(
    dag_id="ecoute_team_digest",
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["ecoute", "digest"],
    doc_md=__doc__,
)
def ecoute_team_digest() -> None:
    @task
    def daily(data_interval_end: datetime | None = None, logical_date: datetime | None = None) -> dict:
        from ecoute.settings import get_settings
        from jobs.reporting.digest import run_digest

        day = (_run_end(data_interval_end, logical_date) - timedelta(days=1)).date()
        return run_digest(get_settings(), day, period="daily")

    @task.short_circuit
    def is_monday(data_interval_end: datetime | None = None, logical_date: datetime | None = None) -> bool:
        return _run_end(data_interval_end, logical_date).weekday() == 0

    @task
    def weekly(data_interval_end: datetime | None = None, logical_date: datetime | None = None) -> dict:
        from ecoute.settings import get_settings
        from jobs.reporting.digest import run_digest

        sunday = (_run_end(data_interval_end, logical_date) - timedelta(days=1)).date()
        return run_digest(get_settings(), sunday, period="weekly")

    daily()
    is_monday() >> weekly()


ecoute_team_digest()
