"""Actions on mentions, each written to the audit index before and after the platform call.

The record is written ``pending`` first, then updated to ``done`` (with the platform's answer) or
``failed`` (with the error, and offered for retry in the inbox). A crash between the two leaves a
``pending`` record the inbox lists, so no action is ever silently lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from connectors.config import ConnectorSettings, load_connector_settings
from ecoute.feedback import Correction, record_corrections
from ecoute.settings import Settings
from ecoute.views.queues import ITEM_FIELDS, mark_handled
from inbox import cache
from inbox.platforms import PlatformError, Unsupported, call_with_retries, platform_for
from inbox.store import Store, now_iso

log = logging.getLogger(__name__)

# What an action does to the mention's place in the queues once the platform said yes.
HANDLED_AFTER = {"reply": True, "hide": True, "delete": True, "unhide": False, "delete_reply": False}


class ActionRefused(ValueError):
    """The action cannot be done (unknown mention, nothing to undo…); the message says why."""


@dataclass
class Services:
    settings: Settings
    store: Store
    connectors: ConnectorSettings

    @classmethod
    def create(cls, settings: Settings, connectors: ConnectorSettings | None = None) -> Services:
        return cls(settings, Store(settings), connectors or load_connector_settings())

    def mention(self, mention_id: str) -> dict[str, Any]:
        found = self.store.mentions_by_id([mention_id], [*ITEM_FIELDS, "toxic_categories"])
        if mention_id not in found:
            raise ActionRefused(f"unknown mention: {mention_id}")
        return found[mention_id]


def native_id(event_id: str) -> str:
    return event_id.split(":", 1)[1] if ":" in event_id else event_id


def act(
    services: Services,
    user: dict[str, Any],
    mention_id: str,
    action: str,
    *,
    text: str | None = None,
    reason: str | None = None,
    rule_id: str | None = None,
) -> dict[str, Any]:
    """Do ``action`` on a mention through its platform; returns the audit record (status done/failed)."""
    mention = services.mention(mention_id)
    record = services.store.audit(
        {
            "kind": "action",
            "action": action,
            "status": "pending",
            "who": user["username"],
            "role": user.get("role"),
            "mention_id": mention_id,
            "source": mention.get("source"),
            "channel": mention.get("channel"),
            "native_id": native_id(mention_id),
            "reason": reason,
            "text": text,
            "attempts": 0,
            "rule_id": rule_id,
            "author_ids": [a for a in [(mention.get("author") or {}).get("id")] if a],
        }
    )
    return _run(services, record)


def retry(services: Services, record_id: str) -> dict[str, Any]:
    record = services.store.get(services.settings.indices.inbox_audit, record_id)
    if not record or record.get("kind") != "action":
        raise ActionRefused(f"no action {record_id}")
    if record.get("status") not in ("failed", "pending"):
        raise ActionRefused(f"action {record_id} is {record.get('status')}: nothing to retry")
    return _run(services, record)


def undo(services: Services, user: dict[str, Any], record_id: str, reason: str | None = None) -> dict[str, Any]:
    """Reverse a done action where the platform allows it (hide → unhide, reply → delete the reply)."""
    original = services.store.get(services.settings.indices.inbox_audit, record_id)
    if not original or original.get("kind") != "action" or original.get("status") != "done":
        raise ActionRefused(f"action {record_id} cannot be undone (not a completed action)")
    platform = platform_for(original["source"], services.connectors, services.settings.inbox)
    reverse = platform.undo_of(original["action"])
    platform.close()
    if not reverse:
        raise ActionRefused(f"{original['source']}: {original['action']} cannot be undone through its API")
    target = original.get("platform_id") if reverse == "delete_reply" else original["native_id"]
    if not target:
        raise ActionRefused("the platform did not say which reply it created: delete it there")
    record = services.store.audit(
        {
            "kind": "action",
            "action": reverse,
            "status": "pending",
            "who": user["username"],
            "role": user.get("role"),
            "mention_id": original["mention_id"],
            "source": original["source"],
            "channel": original.get("channel"),
            "native_id": target,
            "reason": reason,
            "attempts": 0,
            "undo_of": record_id,
            "author_ids": original.get("author_ids") or [],
        }
    )
    return _run(services, record)


def _run(services: Services, record: dict[str, Any]) -> dict[str, Any]:
    store = services.store
    attempts = int(record.get("attempts") or 0)
    fields: dict[str, Any]
    try:
        with platform_for(record["source"], services.connectors, services.settings.inbox) as platform:
            answer = call_with_retries(platform, record["action"], record["native_id"], record.get("text"))
        fields = {
            "status": "done",
            "platform_status": answer.status,
            "platform_response": _jsonable(answer.body),
            "attempts": attempts + answer.attempts,
            "error": None,
        }
        if answer.platform_id:
            fields["platform_id"] = answer.platform_id
    except PlatformError as exc:
        fields = {
            "status": "failed",
            "error": str(exc),
            "platform_status": exc.status,
            "platform_response": _jsonable(exc.body),
            "attempts": attempts + services.settings.inbox.platform_attempts,
        }
    except Unsupported as exc:
        fields = {"status": "failed", "error": str(exc), "attempts": attempts + 1}
    except Exception as exc:  # whatever the platform or its client did, the record ends failed, never pending
        log.exception("inbox action %s on %s: unexpected error", record["action"], record["mention_id"])
        fields = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000], "attempts": attempts + 1}
    store.audit_update(record["id"], fields)
    record.update(fields)
    if record["status"] == "done":
        handled = HANDLED_AFTER.get(record["action"])
        if handled is not None:
            mark_handled(services.settings, [record["mention_id"]], handled=handled, client=store.client)
            if handled:
                cache.forget([record["mention_id"]])
            else:
                cache.put_back([record["mention_id"]], store.mentions_by_id)
        if record.get("undo_of"):
            store.audit_update(record["undo_of"], {"status": "undone", "undone_by": record["id"]})
    else:
        log.warning(
            "inbox action %s %s on %s failed: %s", record["action"], record["id"], record["mention_id"], record["error"]
        )
    return record


def _jsonable(body: Any) -> Any:
    if body is None or isinstance(body, dict):
        return body
    return {"value": body if isinstance(body, str | int | float | bool) else str(body)}


def correct(
    services: Services, user: dict[str, Any], mention_id: str, labels: dict[str, Any], action: str | None = None
) -> dict[str, Any]:
    """One label correction, to the feedback index `ecoute models build` learns from, and the audit.
    ``action``: the one-click label it comes from ("not_toxic", "not_criticism"; one per mention)."""
    mention = services.mention(mention_id)
    previous = {
        k: mention.get(k) for k in ("sentiment", "criticism", "constructive", "toxic", "toxic_categories", "topics")
    }
    correction = Correction(
        mention_id=mention_id,
        text=mention.get("text") or "",
        labels=labels,
        lang=mention.get("lang"),
        previous={k: v for k, v in previous.items() if v is not None},
        action=action,
        author_id=(mention.get("author") or {}).get("id"),
    )
    result = record_corrections(
        services.settings, [correction], who=user["username"], source="inbox", client=services.store.client
    )
    status = "done" if result.ok and not result.failed else "failed"
    if status == "done":
        # The correction shows at once: the chips, the queues (a "not criticism" leaves the answer
        # queue) and Kibana read the mention itself; the model's answer stays in the feedback record.
        services.store.client.update(index=mention["_index"], id=mention_id, doc=dict(labels), refresh="wait_for")
        cache.relabel(mention_id, labels, services.store.mentions_by_id)
    return services.store.audit(
        {
            "kind": "correction",
            "action": "correct",
            "status": status,
            "who": user["username"],
            "role": user.get("role"),
            "mention_id": mention_id,
            "source": mention.get("source"),
            "channel": mention.get("channel"),
            "platform_response": {"labels": labels, "previous": correction.previous},
            "error": None if status == "done" else str(result.failed)[:2000],
        }
    )


def log_access(services: Services, user: dict[str, Any], path: str, author_ids: list[str]) -> None:
    """Who looked at which authors' data (GDPR accountability): one audit record per page or API call."""
    if not author_ids:
        return
    services.store.audit(
        {
            "kind": "access",
            "action": "view",
            "status": "done",
            "who": user["username"],
            "role": user.get("role"),
            "path": path,
            "author_ids": sorted(set(author_ids))[:1000],
            "at": now_iso(),
        },
        wait=False,
    )
