"""What the inbox keeps in Elasticsearch, through the one ES wrapper: users, audit trail, work state,
saved replies and moderation rules. Index templates live in schemas/elasticsearch/ecoute-inbox-*.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, NotFoundError

import schemas
from ecoute import es
from ecoute.events import to_rfc3339
from ecoute.settings import Settings

ROLES = ("viewer", "moderator", "admin")


def now_iso() -> str:
    return to_rfc3339(datetime.now(UTC))


class Store:
    def __init__(self, settings: Settings, client: Any = None):
        self.settings = settings
        self.client = client or es.make_client(settings)
        self.names = settings.indices
        self._indices: list[str] = []
        self._indices_at = -1e9

    def ensure(self) -> None:
        """Apply every template of schemas/ (idempotent) and create the inbox's indices."""
        es.apply_templates(self.client, self.settings)
        for index in (
            self.names.inbox_users, self.names.inbox_audit, self.names.inbox_items, self.names.inbox_replies,
            self.names.inbox_rules,
        ):  # fmt: skip
            if not self.client.indices.exists(index=index):
                self.client.options(ignore_status=400).indices.create(index=index)
            else:  # an index of an earlier release gets the fields this one declares (strict mappings)
                template = next((n for n in schemas.index_templates() if index.startswith(n)), None)
                if template:
                    es.ensure_index_mapping(self.client, index, template)

    # -- generic ------------------------------------------------------------------------------
    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        try:
            return dict(self.client.get(index=index, id=doc_id)["_source"])
        except NotFoundError:
            return None

    def put(self, index: str, doc_id: str, doc: dict[str, Any], *, wait: bool = True) -> None:
        self.client.index(index=index, id=doc_id, document=doc, refresh="wait_for" if wait else False)

    def delete(self, index: str, doc_id: str) -> None:
        self.client.options(ignore_status=404).delete(index=index, id=doc_id, refresh="wait_for")

    def update(self, index: str, doc_id: str, fields: dict[str, Any]) -> None:
        self.client.update(index=index, id=doc_id, doc=fields, refresh="wait_for")

    def search(
        self, index: str, query: dict[str, Any] | None = None, *, size: int = 100, sort: Any = None
    ) -> list[dict[str, Any]]:
        try:
            response = self.client.search(index=index, query=query or {"match_all": {}}, size=size, sort=sort)
        except ApiError as exc:
            if exc.meta.status == 404:
                return []
            raise
        return [dict(hit["_source"]) for hit in response["hits"]["hits"]]

    # -- mentions by id (a realtime multi-get: no search, whose fixed cost a page pays each time) --
    def mentions_by_id(self, ids: list[str], fields: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """The mentions of these ids that exist (``_index`` added), from the alias's monthly indices."""
        wanted = list(dict.fromkeys(i for i in ids if i))
        if not wanted:
            return {}
        indices = self._mention_indices()
        docs = [{"_index": index, "_id": doc_id} for doc_id in wanted for index in indices]
        options = {"source_includes": fields} if fields else {}
        found: dict[str, dict[str, Any]] = {}
        for offset in range(0, len(docs), 5000):
            response = self.client.mget(docs=docs[offset : offset + 5000], **options)
            for doc in response["docs"]:
                if doc.get("found") and doc["_id"] not in found:
                    found[doc["_id"]] = {**doc["_source"], "_index": doc["_index"]}
        return found

    def _mention_indices(self) -> list[str]:
        """The concrete monthly indices behind the mentions alias, newest first (kept a minute)."""
        now = time.monotonic()
        if now - self._indices_at > 60:
            indices = es.concrete_indices(self.client, self.names.mentions)
            self._indices = [i for i in sorted(indices, reverse=True) if self.client.indices.exists(index=i)]
            self._indices_at = now
        return self._indices

    # -- users --------------------------------------------------------------------------------
    def user(self, username: str) -> dict[str, Any] | None:
        user = self.get(self.names.inbox_users, username)
        return None if not user or user.get("disabled") else user

    def put_user(self, username: str, role: str, password_hash: str) -> bool:
        """Create or update a user; True when created."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        existing = self.get(self.names.inbox_users, username)
        stamp = now_iso()
        doc = {
            "username": username, "role": role, "password_hash": password_hash, "disabled": False,
            "created_at": (existing or {}).get("created_at", stamp), "updated_at": stamp,
        }  # fmt: skip
        self.put(self.names.inbox_users, username, doc)
        return existing is None

    def usernames(self) -> list[str]:
        return sorted(u["username"] for u in self.search(self.names.inbox_users, size=500) if not u.get("disabled"))

    # -- audit --------------------------------------------------------------------------------
    def audit(self, record: dict[str, Any], *, wait: bool = True) -> dict[str, Any]:
        """Write one audit record; ``wait=False`` (access logs) skips waiting for it to be searchable."""
        record = {"id": record.get("id") or uuid.uuid4().hex, "at": now_iso(), **record}
        record["updated_at"] = now_iso()
        self.put(self.names.inbox_audit, record["id"], record, wait=wait)
        return record

    def audit_update(self, record_id: str, fields: dict[str, Any]) -> None:
        self.update(self.names.inbox_audit, record_id, {**fields, "updated_at": now_iso()})

    def audit_records(self, *filters: dict[str, Any], size: int = 100) -> list[dict[str, Any]]:
        query = {"bool": {"filter": list(filters)}} if filters else None
        return self.search(self.names.inbox_audit, query, size=size, sort=[{"at": {"order": "desc"}}])

    # -- work state (assignment, tags, notes) -----------------------------------------------
    def item(self, mention_id: str) -> dict[str, Any]:
        return self.get(self.names.inbox_items, mention_id) or {"id": mention_id, "tags": [], "notes": []}

    def items(self, mention_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not mention_ids:
            return {}
        found = self.search(self.names.inbox_items, {"terms": {"id": mention_ids}}, size=len(mention_ids))
        return {doc["id"]: doc for doc in found}

    def assignments(self) -> dict[str, str]:
        """Mention id -> who it is assigned to, for every assigned item (a team's open assignments)."""
        query = {"exists": {"field": "assigned_to"}}
        return {d["id"]: d["assigned_to"] for d in self.search(self.names.inbox_items, query, size=10_000)
                if d.get("assigned_to")}  # fmt: skip

    def save_item(self, item: dict[str, Any]) -> None:
        item["updated_at"] = now_iso()
        self.put(self.names.inbox_items, item["id"], item)

    # -- saved replies and rules ----------------------------------------------------------------
    def saved_replies(self, lang: str | None = None) -> list[dict[str, Any]]:
        query = {"term": {"lang": lang}} if lang else None
        return self.search(self.names.inbox_replies, query, size=200, sort=[{"title": {"order": "asc"}}])

    def rules(self) -> list[dict[str, Any]]:
        return self.search(self.names.inbox_rules, size=200, sort=[{"created_at": {"order": "asc"}}])
