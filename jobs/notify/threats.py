"""Threats, emailed to the moderators as soon as they are labelled (`ecoute threats-notify`).

A mention the labeller flags as a threat (``toxic`` with category ``threat``), posted by a person,
not handled yet and never notified, goes into one email per run (the newest ``max_per_email``)
with its text, its evidence and a link to its thread in the inbox. The mentions are then stamped
``threat_notified_at``: a run that fails to send stamps nothing (the next run sends them), a run
after a success sends nothing twice. Settings: ``settings.moderation`` (recipients, on/off,
look-back); delivery: jobs.notify.send_email (Airflow's SMTP hook), like every email of Écoute.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoute.settings import Settings
from jobs.notify import Email, language_of, load_strings, render, send_email

log = logging.getLogger(__name__)

FIELDS = ["id", "text", "url", "channel", "created_at", "author", "toxic_score", "toxic_evidence", "source"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pending_threats(client: Any, settings: Settings, since: datetime, limit: int) -> list[dict[str, Any]]:
    """Flagged threats by people, posted since ``since``, neither handled nor notified: newest first."""
    from elasticsearch import NotFoundError

    from ecoute.views.common import NOT_BRAND

    query = {
        "bool": {
            "filter": [
                {"term": {"toxic": True}},
                {"term": {"toxic_categories": "threat"}},
                {"range": {"created_at": {"gte": _iso(since)}}},
            ],
            "must_not": [{"term": {"handled": True}}, {"exists": {"field": "threat_notified_at"}}, NOT_BRAND],
        }
    }
    try:
        response = client.search(
            index=settings.indices.mentions,
            query=query,
            size=limit,
            _source=FIELDS,
            sort=[{"created_at": {"order": "desc"}}],
        )
    except NotFoundError:
        return []
    return [dict(hit["_source"], _index=hit["_index"]) for hit in response["hits"]["hits"]]


def threat_email(settings: Settings, threats: list[dict[str, Any]]) -> Email:
    from ecoute.views.common import author_label

    language = language_of(settings)
    words = load_strings("emails")[language]
    base = settings.inbox.url.rstrip("/")
    items = [
        {
            "text": d.get("text") or "",
            "evidence": list(d.get("toxic_evidence") or []),
            "author": author_label(d, settings),
            "channel": d.get("channel") or "",
            "created_at": str(d.get("created_at") or "")[:16].replace("T", " "),
            "inbox_url": f"{base}/threads/{d['id']}",
            "url": d["url"] if str(d.get("url") or "").startswith(("https://", "http://")) else None,
        }
        for d in threats
    ]
    subject = words["threat_subject"].format(count=len(items))
    html, text = render("threat", language, subject=subject, threats=items)
    recipients = list(settings.moderation.recipients or settings.alerts.recipients)
    return Email(subject=subject, html=html, text=text, recipients=recipients)


def notify_threats(
    settings: Settings,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
    send: bool = True,
    client: Any = None,
) -> dict[str, Any]:
    """Email the pending threats (if any) and stamp them; returns {"threats": n, "sent": bool, "ids": [...]}.
    ``send=False`` only lists them (nothing is stamped: a later run still sends them)."""
    from ecoute.es import make_client

    if not settings.moderation.notify_threats:
        return {"threats": 0, "sent": False, "ids": []}
    now = now or datetime.now(UTC)
    since = since or now - timedelta(hours=settings.moderation.lookback_hours)
    client = client or make_client(settings)
    threats = pending_threats(client, settings, since, settings.moderation.max_per_email)
    if not threats:
        return {"threats": 0, "sent": False, "ids": []}
    if not send:
        return {"threats": len(threats), "sent": False, "ids": [d["id"] for d in threats]}
    send_email(settings, threat_email(settings, threats))  # raises: nothing stamped, the next run retries
    for doc in threats:
        client.update(index=doc["_index"], id=doc["id"], doc={"threat_notified_at": _iso(now)}, refresh="wait_for")
    log.info("%d threat(s) notified to the moderators", len(threats))
    return {"threats": len(threats), "sent": True, "ids": [d["id"] for d in threats]}
