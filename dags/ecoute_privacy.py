"""Personal data DAGs: GDPR erasure on request, and the daily retention purge.

Thin on purpose: the work is in ecoute/privacy.py (also behind `ecoute erase` and `ecoute retention`).
Trigger an erasure with a conf, e.g. `airflow dags trigger ecoute_gdpr_erasure --conf '{"author": "a_…"}'`
(or `{"author": "<platform id>", "native": true}`).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task


@dag(
    dag_id="ecoute_gdpr_erasure",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "author": Param("", type="string", description="Pseudonymous author id (a_…) or native id"),
        "native": Param(False, type="boolean"),
        "reason": Param("", type="string"),
    },
    tags=["ecoute", "privacy"],
    doc_md=__doc__,
)
def ecoute_gdpr_erasure() -> None:
    @task
    def erase(params: dict | None = None) -> dict:
        from dataclasses import asdict

        from ecoute.privacy import author_key, erase_author
        from ecoute.settings import get_settings

        params = params or {}
        if not params.get("author"):
            raise ValueError("conf.author is required")
        settings = get_settings()
        author_id = author_key(settings, params["author"], native=bool(params.get("native")))
        return asdict(erase_author(settings, author_id, requested_by="airflow", reason=params.get("reason", "")))

    erase()


@dag(
    dag_id="ecoute_retention",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecoute", "privacy"],
    doc_md=__doc__,
)
def ecoute_retention() -> None:
    @task
    def purge() -> dict:
        from dataclasses import asdict

        from ecoute.privacy import purge_older_than
        from ecoute.settings import get_settings

        return asdict(purge_older_than(get_settings()))

    purge()


ecoute_gdpr_erasure()
ecoute_retention()
