"""What the community manager teaches Écoute: her actions as labels, and the daily questions.

- ``label_action`` / ``label_done``: called by the routes right after an action's outcome — a
  separate, small write to the feedback index (ecoute/feedback.py ``ACTION_LABELS``): hide/delete →
  toxic, restore → not toxic, reply → needed an answer, "Traité" without a reply → no answer needed,
  "OK" / "pas une critique" (the quick labels) → not toxic / not criticism. Automatic actions of the
  moderation rules teach nothing (they are the machine's decisions, not hers). A label write that
  fails is logged and never undoes or fails the action.
- ``questions``: the "Aidez Écoute à apprendre" page — each day, the latest day's mentions the heads
  are least sure of, diverse (jobs/labeller/learning.py), not yet labelled; one click per label.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ecoute.feedback import ACTION_LABELS, Correction, action_correction, count_labels, record_corrections
from ecoute.views.common import NOT_BRAND, fetch_by_ids
from ecoute.views.queues import ITEM_FIELDS
from inbox.actions import Services

log = logging.getLogger(__name__)

MENTION_FIELDS = [*ITEM_FIELDS, "labeller_version", "model_version"]
SOURCE_ACTION = "inbox-action"
SOURCE_LEARNING = "inbox-learning"
# Mentions of the day read to choose the questions from (the newest first): a busy day's worth.
CANDIDATES = 1500
TEACHABLE = {
    "sentiment": ("negative", "neutral", "positive"),
    "criticism": ("true", "false"),
    "toxic": ("true", "false"),
}


def _mention(services: Services, mention_id: str) -> dict[str, Any] | None:
    found = fetch_by_ids(services.store.client, services.settings.indices.mentions, [mention_id], MENTION_FIELDS)
    return found.get(mention_id)


def _store(services: Services, user: dict[str, Any], correction: Correction, source: str) -> bool:
    try:
        result = record_corrections(
            services.settings, [correction], who=user["username"], source=source, client=services.store.client
        )
    except Exception as exc:  # the action itself is done: a label lost is logged, never an error page
        log.warning("label of %s (%s) not stored: %s", correction.mention_id, correction.action, exc)
        return False
    if result.failed:
        log.warning("label of %s (%s) not stored: %s", correction.mention_id, correction.action, result.failed[:1])
    return bool(result.ok)


def label_action(services: Services, user: dict[str, Any], record: dict[str, Any] | None) -> bool:
    """The label an inbox action teaches (hide, delete, unhide, reply), from its audit record."""
    if not record or record.get("kind") != "action" or record.get("rule_id"):
        return False
    action = record.get("action")
    if action not in ACTION_LABELS or record.get("status") == "undone":
        return False
    mention = _mention(services, str(record.get("mention_id")))
    if mention is None:
        return False
    who = {"username": record.get("who") or user["username"]}  # a retry keeps the decision's author
    return _store(services, who, action_correction(str(action), mention), SOURCE_ACTION)


def label_quick(services: Services, user: dict[str, Any], mention_id: str, field: str) -> bool:
    """ "OK" (not toxic) and "pas une critique" (not criticism), the queues' one-click labels."""
    action = {"toxic": "not_toxic", "criticism": "not_criticism"}.get(field)
    mention = _mention(services, mention_id) if action else None
    if mention is None or action is None:
        return False
    return _store(services, user, action_correction(action, mention), SOURCE_ACTION)


def label_done(services: Services, user: dict[str, Any], mention_id: str) -> bool:
    """ "Traité": when nobody of the brand answered, the mention needed no answer."""
    mention = _mention(services, mention_id)
    if mention is None or mention.get("answered_by_brand"):
        return False
    replies = services.store.audit_records(
        {"term": {"mention_id": mention_id}}, {"term": {"kind": "action"}}, {"term": {"action": "reply"}}
    )
    if any(r.get("status") in ("done", "pending") for r in replies):
        return False
    return _store(services, user, action_correction("done_without_reply", mention), SOURCE_ACTION)


def unlabel_done(services: Services, mention_id: str) -> None:
    """Reopened: the "no answer needed" that "Traité" gave is taken back (a reply's label stays)."""
    index, doc_id = services.settings.indices.feedback, f"{mention_id}:action:needs_answer"
    doc = services.store.get(index, doc_id) if services.store.client.indices.exists(index=index) else None
    if doc and doc.get("action") == "done_without_reply":
        services.store.client.delete(index=index, id=doc_id, refresh="wait_for")


# ---------------------------------------------------------------------------------------------
# "Aidez Écoute à apprendre": the day's questions
# ---------------------------------------------------------------------------------------------
_lock = threading.Lock()
_chosen: dict[tuple[date, str], list[str]] = {}  # (day, model version) → mention ids, in order


def _labeller() -> Any:
    from jobs.labeller import get_labeller

    labeller = get_labeller()
    labeller.refresh_model()
    return labeller


def _candidates(services: Services, day: date) -> list[dict[str, Any]]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    query = {
        "bool": {
            "must_not": [NOT_BRAND],
            "filter": [
                {"range": {"created_at": {"gte": start.isoformat(), "lt": (start + timedelta(days=1)).isoformat()}}}
            ],
        }
    }
    return services.store.search(
        services.settings.indices.mentions, query, size=CANDIDATES, sort=[{"created_at": {"order": "desc"}}]
    )


def _labelled_ids(services: Services, ids: list[str]) -> dict[str, dict[str, Any]]:
    """mention id → the labels given on it (every source), for these mentions."""
    if not ids:
        return {}
    docs = services.store.search(
        services.settings.indices.feedback, {"terms": {"mention_id": ids}}, size=min(10_000, 10 * len(ids))
    )
    out: dict[str, dict[str, Any]] = {}
    for doc in sorted(docs, key=lambda d: str(d.get("corrected_at", ""))):
        out.setdefault(str(doc.get("mention_id")), {}).update(doc.get("labels") or {})
    return out


def questions(services: Services, n: int, day: date | None = None) -> dict[str, Any]:
    """The day's questions (chosen once per day and model), with what was answered already."""
    from inbox.views import latest_day

    day = day or latest_day(services) or datetime.now(UTC).date()
    labeller = _labeller()
    key = (day, labeller.model_version)
    with _lock:
        chosen = _chosen.get(key)
        if chosen is None:
            mentions = [m for m in _candidates(services, day) if isinstance(m.get("text"), str) and m["text"].strip()]
            already = _labelled_ids(services, [str(m["id"]) for m in mentions])
            fresh = [m for m in mentions if str(m["id"]) not in already]
            from jobs.labeller.learning import suggest

            picks = suggest(labeller, [m["text"] for m in fresh], n) if fresh else []
            chosen = [str(fresh[i]["id"]) for i in picks]
            _chosen[key] = chosen
    found = fetch_by_ids(services.store.client, services.settings.indices.mentions, chosen, MENTION_FIELDS)
    given = _labelled_ids(services, chosen)
    items = [{**found[i], "given": given.get(i, {})} for i in chosen if i in found]
    today = {"range": {"corrected_at": {"gte": datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")}}}
    return {
        "day": day,
        "questions": items,
        "answered": sum(1 for it in items if it["given"]),
        "labels_total": count_labels(services.settings, client=services.store.client),
        "labels_today": count_labels(services.settings, client=services.store.client, query=today),
        "model_version": labeller.model_version,
    }


def teach(services: Services, user: dict[str, Any], mention_id: str, field: str, value: str) -> bool:
    """One click of the learning page: one label of one mention."""
    if field not in TEACHABLE or value not in TEACHABLE[field]:
        raise ValueError(f"{field}={value} is not a label of this page")
    mention = _mention(services, mention_id)
    if mention is None:
        raise LookupError(f"unknown mention: {mention_id}")
    parsed: Any = value if field == "sentiment" else value == "true"
    correction = Correction(
        mention_id=mention_id,
        text=str(mention.get("text") or ""),
        labels={field: parsed},
        lang=mention.get("lang") if mention.get("lang") not in (None, "und") else None,
        previous={k: mention[k] for k in (field, "labeller_version", "model_version") if mention.get(k) is not None},
        author_id=(mention.get("author") or {}).get("id"),
        model_version=mention.get("model_version") or mention.get("labeller_version"),
    )
    return _store(services, user, correction, SOURCE_LEARNING)
