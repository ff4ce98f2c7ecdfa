"""Daily rollups of the enriched mentions (jobs/reporting/rollups.py), one row per day × channel × source ×
language × topic in ecoute-rollups-daily.

Two triggers (``AssetOrTimeSchedule``):

- **daily**, at midnight UTC (a cron trigger: the run's logical date is that midnight): the day to
  roll up is the one that just *ended*, i.e. ``data_interval_end - 1 day``; the day before is
  recomputed too, so mentions enriched late are counted. Catch-up and backfills
  (``airflow backfill create --dag-id ecoute_rollups_daily --from-date …``) use these runs.
- **the mentions asset** (``dags.assets.MENTIONS``): an enrichment run that wrote mentions starts
  a run with no logical date, which rolls up today so far and yesterday: the figures follow the
  mentions within minutes, not at midnight. A manual run without a date does the same.

Ids are deterministic, so every run overwrites rows and never adds any.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from dags.assets import MENTIONS
from ecoute.settings import Settings

LATE_DAYS = 1  # also recompute this many days before, for late-arriving mentions
# First day rolled up (catch-up starts there); runs with a logical date before it do nothing.
_FIRST_DAY = Settings().rollups_start_date  # ECOUTE_ROLLUPS_START_DATE
START = pendulum.datetime(_FIRST_DAY.year, _FIRST_DAY.month, _FIRST_DAY.day, tz="UTC")


@dag(
    dag_id="ecoute_rollups_daily",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 0 * * *", timezone="UTC"), assets=MENTIONS),
    start_date=START,
    catchup=True,
    max_active_runs=3,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["ecoute", "rollups"],
    doc_md=__doc__,
)
def ecoute_rollups_daily() -> None:
    @task
    def rollup(data_interval_end: datetime | None = None, logical_date: datetime | None = None) -> dict:
        from ecoute.settings import get_settings
        from jobs.reporting.rollups import compute_daily_rollups

        day: date
        if logical_date is None:  # the mentions asset (or a manual run): today so far, and yesterday
            day = pendulum.now("UTC").date()
        else:  # the daily trigger: the day that just ended, and the one before (late mentions)
            day = ((data_interval_end or logical_date) - timedelta(days=1)).date()
        rows = compute_daily_rollups(get_settings(), day - timedelta(days=LATE_DAYS), day)
        return {"day": day.isoformat(), "rows": rows}

    rollup()


ecoute_rollups_daily()
