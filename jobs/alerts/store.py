"""Reading, updating and announcing stored alert documents (``ecoute-alerts``, ``ecoute.alerts.v1``)."""

from __future__ import annotations

import logging
from typing import Any

from ecoute.settings import Settings

log = logging.getLogger(__name__)


def stored_alerts(client: Any, settings: Settings, query: dict[str, Any]) -> list[dict[str, Any]]:
    from ecoute.es import scan_docs

    if not client.indices.exists(index=settings.indices.alerts):
        return []
    return list(scan_docs(client, settings.indices.alerts, query))


def update_alert(client: Any, settings: Settings, alert_id: str, fields: dict[str, Any]) -> None:
    client.update(index=settings.indices.alerts, id=alert_id, doc=fields, refresh="wait_for")


def publish(settings: Settings, docs: list[dict[str, Any]]) -> None:
    from ecoute.kafka import Producer

    try:
        with Producer(settings) as producer:
            producer.send_batch(settings.topics.alerts, [(d["id"], d) for d in docs])
    except Exception as exc:  # the ES document is the record; Kafka consumers are notified best-effort
        log.error("could not produce %d alert(s) to %s: %s", len(docs), settings.topics.alerts, exc)
