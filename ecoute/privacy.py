"""Personal data as European law expects: erasure on request (GDPR art. 17) and retention.

- ``erase_author`` deletes an author's documents from every index that holds them (mentions,
  quarantine, the labels given on their mentions), scrubs them from alert evidence, and writes a tombstone to the erasures index.
- ``ErasureRegistry`` is what the enrichment job consults, read again for every micro-batch: events
  of a tombstoned author are dropped before they are written anywhere, so a re-import or replay
  never brings them back.
- ``purge_older_than`` applies the retention policy (``ECOUTE_RETENTION_DAYS``).

Deletions are ``delete_by_query`` (the server finds and deletes; nothing is listed in Python), so
they scale with the data; noida-db supports it too (tests/ecoute/test_erasure_and_retention.py).

Authors are known by their pseudonymous id (keyed hash of the native id, see ``ecoute.events``);
``author_key`` turns a native id into it, so a request can name either.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from ecoute import es
from ecoute.events import pseudonymise, utc_now
from ecoute.feedback import erase_labels
from ecoute.settings import Settings

log = logging.getLogger(__name__)


def author_key(settings: Settings, author: str, *, native: bool = False) -> str:
    """The pseudonymous id of an author given either that id (``a_…``) or, with native=True, the native id."""
    if native:
        return pseudonymise(author, settings.pseudonym_key.get_secret_value())
    if not author.startswith("a_"):
        raise ValueError(f"{author!r} is not a pseudonymous author id (a_…); pass the platform's own id with --native")
    return author


@dataclass
class ErasureResult:
    author_id: str
    mentions_deleted: int
    quarantine_deleted: int
    alerts_scrubbed: int
    labels_deleted: int = 0  # the community manager's labels of the author's mentions (feedback index)


def erase_author(settings: Settings, author_id: str, requested_by: str = "cli", reason: str = "") -> ErasureResult:
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    # Tombstone first: from now on the enrichment job drops this author's events, even mid-erasure.
    client.index(
        index=settings.indices.erasures,
        id=author_id,
        document={
            "id": author_id,
            "author_id": author_id,
            "erased_at": utc_now(),
            "requested_by": requested_by,
            "reason": reason or None,
        },
        refresh="wait_for",
    )
    by_author = {"term": {"author.id": author_id}}
    mention_ids: set[str] = set()
    if client.indices.exists_alias(name=settings.indices.mentions):
        # Alerts cite mentions by id: only this author's ids are listed (a person's items, not the index).
        mention_ids = {d["_id"] for d in es.scan_docs(client, settings.indices.mentions, by_author, source=False)}
    mentions_deleted = _delete_by_query(client, settings.indices.mentions, by_author)
    quarantine_deleted = _erase_from_quarantine(client, settings, author_id)
    alerts_scrubbed = _scrub_alerts(client, settings, mention_ids)
    labels_deleted = erase_labels(client, settings, author_id, mention_ids)
    client.update(
        index=settings.indices.erasures,
        id=author_id,
        doc={"documents_deleted": mentions_deleted + quarantine_deleted},
        refresh="wait_for",
    )
    log.info(
        "erased author %s: %d mentions, %d quarantined, %d alerts scrubbed",
        author_id,
        mentions_deleted,
        quarantine_deleted,
        alerts_scrubbed,
    )
    return ErasureResult(author_id, mentions_deleted, quarantine_deleted, alerts_scrubbed, labels_deleted)


def _delete_by_query(client: Elasticsearch, index: str, query: dict[str, Any]) -> int:
    """Delete every document of ``index`` (or alias) matching ``query`` on the server; returns how many.

    An alias is expanded to its concrete indices first: noida-db's delete_by_query on an alias over
    several indices reaches only one of them (measured), Elasticsearch takes either."""
    targets = es.concrete_indices(client, index)
    response = client.options(ignore_status=404).delete_by_query(
        index=",".join(targets),
        query=query,
        refresh=True,
        conflicts="proceed",
        allow_no_indices=True,
        ignore_unavailable=True,
    )
    result = response.body if hasattr(response, "body") else response
    if result.get("failures"):
        raise RuntimeError(f"deletion incomplete in {index}: {result['failures'][0]}")
    return int(result.get("deleted") or 0)


def _erase_from_quarantine(client: Elasticsearch, settings: Settings, author_id: str) -> int:
    """Quarantined records keep the original bytes (not indexed): the author's id is looked for inside
    them, page by page over a point-in-time (memory bounded by a page), deleting each page's matches."""
    deleted = 0
    for page in es.pit_pages(client, settings.indices.quarantine, source=["original"]):
        doomed = [
            {"_op_type": "delete", "_index": d["_index"], "_id": d["_id"]}
            for d in page
            if author_id in (d.get("original") or "")
        ]
        deleted += es.bulk_write(client, doomed, refresh="wait_for").ok if doomed else 0
    return deleted


def _scrub_alerts(client: Elasticsearch, settings: Settings, mention_ids: set[str]) -> int:
    if not mention_ids:
        return 0
    scrubbed = 0
    for alert in es.scan_docs(client, settings.indices.alerts, {"terms": {"top_mentions": sorted(mention_ids)}}):
        kept = [m for m in alert.get("top_mentions", []) if m not in mention_ids]
        client.update(index=alert["_index"], id=alert["_id"], doc={"top_mentions": kept}, refresh="wait_for")
        scrubbed += 1
    return scrubbed


class ErasureRegistry:
    """The set of erased authors, refreshed at most every ``ttl_s`` seconds (one query per refresh)."""

    def __init__(self, settings: Settings, ttl_s: float = 30.0):
        self.settings = settings
        self.ttl_s = ttl_s
        self._authors: frozenset[str] = frozenset()
        self._loaded_at = -1e9

    def authors(self) -> frozenset[str]:
        """The erased authors (``ttl_s=0``: read again on every call, as the enrichment job does per batch)."""
        if time.monotonic() - self._loaded_at >= self.ttl_s:
            client = es.make_client(self.settings)
            try:
                if client.indices.exists(index=self.settings.indices.erasures):
                    index = self.settings.indices.erasures
                    self._authors = frozenset(d["_id"] for d in es.scan_docs(client, index, source=False))
            finally:
                client.close()
            self._loaded_at = time.monotonic()
        return self._authors

    def is_erased(self, event: dict[str, Any] | bytes) -> bool:
        authors = self.authors()
        if not authors:
            return False
        if isinstance(event, bytes):
            try:
                event = orjson.loads(event)
            except orjson.JSONDecodeError:
                return False
        author = event.get("author") if isinstance(event, dict) else None
        return isinstance(author, dict) and author.get("id") in authors


@dataclass
class PurgeResult:
    cutoff: str
    mentions_deleted: int
    quarantine_deleted: int
    indices_dropped: list[str]


def purge_older_than(settings: Settings, days: int | None = None, now: datetime | None = None) -> PurgeResult:
    """Delete mentions and quarantined records older than the retention period; drop empty old monthly indices."""
    days = settings.retention_days if days is None else days
    if days < 1:
        raise ValueError("retention must be at least one day")
    cutoff_dt = (now or datetime.now(UTC)) - timedelta(days=days)
    cutoff = cutoff_dt.isoformat().replace("+00:00", "Z")
    client = es.make_client(settings)
    dropped: list[str] = []
    # Whole monthly indices entirely before the cutoff month are dropped at once (cheap, no tombstones left).
    aliases = client.options(ignore_status=404).indices.get_alias(name=settings.indices.mentions)
    for index in sorted(aliases.body if hasattr(aliases, "body") else aliases):
        suffix = index.rsplit("-", 1)[-1]
        try:
            month_end = datetime.strptime(suffix, "%Y.%m").replace(tzinfo=UTC)
        except ValueError:
            continue
        next_month = (month_end.replace(day=28) + timedelta(days=4)).replace(day=1)
        if next_month <= cutoff_dt:
            client.indices.delete(index=index)
            dropped.append(index)
    mentions_deleted = _delete_by_query(client, settings.indices.mentions, {"range": {"created_at": {"lt": cutoff}}})
    quarantine_deleted = _delete_by_query(
        client, settings.indices.quarantine, {"range": {"rejected_at": {"lt": cutoff}}}
    )
    # Brand answers to parents older than the cutoff are of no use any more (no personal data in them).
    _delete_by_query(client, es.brand_answers_index(settings), {"range": {"answered_at": {"lt": cutoff}}})
    return PurgeResult(cutoff, mentions_deleted, quarantine_deleted, dropped)
