"""The learning loop, nightly: retrain the labeller's heads when enough new labels arrived.

Thin on purpose: the work is in jobs/labeller/build/retrain.py (the same build as `ecoute models build`).
1. `new_labels`: how many labels (corrections, the community manager's actions) arrived since the
   model in use was built or the last attempt; the run stops here below `ECOUTE_LEARNING__RETRAIN_MIN_LABELS`.
2. `retrain`: the build with its guard — a head ships only when the page's own held-out corrections
   say it is better, the shipped tweets only as a safety floor; a shipped model becomes the one in use
   (the enrichment job takes it at its next micro-batch, no restart).
3. `backfill`: when a model shipped, the last 7 days' mentions are relabelled with it.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

BACKFILL_DAYS = 7


@dag(
    dag_id="ecoute_learning",
    schedule="30 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecoute", "learning"],
    doc_md=__doc__,
)
def ecoute_learning() -> None:
    @task.short_circuit
    def new_labels() -> bool:
        from ecoute.settings import get_settings
        from jobs.labeller.build.retrain import new_labels

        found = new_labels(get_settings())
        print(
            f"{found['new']} new label(s) since {found['since'] or 'the packaged model'} "
            f"(model {found['model']}; retrain from {found['threshold']})"
        )
        return bool(found["due"])

    @task
    def retrain() -> dict:
        from ecoute.settings import get_settings
        from jobs.labeller.build.retrain import retrain

        result = retrain(get_settings(), who="airflow")
        return {k: result[k] for k in ("shipped", "previous", "model", "labels", "verdicts")}

    @task
    def backfill(result: dict) -> int:
        if not result.get("shipped"):
            print(f"no new model (still {result.get('model')}): nothing to relabel")
            return 0
        from rich.console import Console

        from ecoute.settings import get_settings
        from jobs.labeller.build.commands import backfill

        code = backfill(Console(), days=BACKFILL_DAYS, settings=get_settings())
        if code:
            raise RuntimeError(f"backfill with model {result['model']} failed (exit {code})")
        return code

    trained = retrain()
    new_labels() >> trained
    backfill(trained)  # type: ignore[arg-type]  # an XComArg, resolved at run time (TaskFlow's types)


ecoute_learning()
