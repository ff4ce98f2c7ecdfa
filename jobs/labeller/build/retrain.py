"""Retraining on its own: when enough new labels arrived, `models build` with its guard (DAG
`ecoute_learning`, dags/ecoute_learning.py; the same work as `ecoute models build`).

"New" labels are those stored (`corrected_at`) after the later of the model in use's creation and the
last attempt, so a build the guard refused is not tried again every night on the same labels.
The last attempt is kept in ``<model dir>/last-build.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecoute.settings import Settings

ATTEMPT_FILE = "last-build.json"


def _attempt_path() -> Path:
    from jobs.labeller.heads import user_model_dir

    return user_model_dir() / ATTEMPT_FILE


def last_attempt() -> dict[str, Any]:
    try:
        return json.loads(_attempt_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def new_labels(settings: Settings, client: Any = None) -> dict[str, Any]:
    """{"since", "new", "threshold", "due"}: labels stored since the model in use (or the last attempt)."""
    from ecoute.feedback import count_labels
    from jobs.labeller.heads import newest_model

    model = newest_model()
    since = str(model.meta.get("created_at") or "") if model.meta.get("kind") != "base" else ""
    attempted = str(last_attempt().get("at") or "")
    since = max(since, attempted)
    query = {"range": {"corrected_at": {"gt": since}}} if since else None
    count = count_labels(settings, client=client, query=query)
    threshold = settings.learning.retrain_min_labels
    return {
        "since": since or None,
        "new": count,
        "threshold": threshold,
        "due": count >= threshold,
        "model": model.version,
    }


def retrain(settings: Settings, *, who: str = "airflow", log: Any = print) -> dict[str, Any]:
    """`models build` from every label, guarded; returns what happened (for the DAG's logs and XCom)."""
    from ecoute.feedback import iter_corrections
    from jobs.labeller.build.feedback import build_with_feedback
    from jobs.labeller.heads import newest_model, user_model_dir

    started = datetime.now(UTC).isoformat()
    corrections = list(iter_corrections(settings))
    current = newest_model()
    shipped, messages, table = build_with_feedback(corrections, current, user_model_dir(), who=who, log=log)
    now = newest_model()
    result = {
        "at": started,
        "labels": len(corrections),
        "shipped": shipped,
        "previous": current.version,
        "model": now.version,
        "messages": messages,
        "verdicts": table,
    }
    path = _attempt_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: result[k] for k in ("at", "labels", "shipped", "model")}), encoding="utf-8")
    for line in messages:
        log(line)
    return result
