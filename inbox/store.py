"""What the inbox keeps in Elasticsearch, through the one ES wrapper: users, their open sessions,
audit trail, work state, saved replies and moderation rules. Index templates live in
schemas/elasticsearch/ecoute-inbox-*.

Sessions are server side: the signed cookie carries a random session id, the sessions index its
hash (never the id itself), the user name and the user's ``session_epoch`` at login. Logout deletes
the record; a password change or disabling the user raises the epoch, which ends every session
opened before, at once and on every device.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
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
            self.names.inbox_audit,
            self.names.inbox_items,
            self.names.inbox_replies,
            self.names.inbox_rules,
            self.names.inbox_sessions,
        ):
            if not self.client.indices.exists(index=index):
                self.client.options(ignore_status=400).indices.create(index=index)
            else:  # an index of an earlier release gets the fields this one declares (strict mappings)
                template = next((n for n in schemas.index_templates() if index.startswith(n)), None)
                if template:
                    es.ensure_index_mapping(self.client, index, template)
        # Users made by an older release lack session_epoch: the strict mapping gets the new field.
        es.ensure_index_mapping(self.client, self.names.inbox_users, "ecoute-inbox-users")

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
        found: dict[str, dict[str, Any]] = {}
        for offset in range(0, len(docs), 5000):
            response = self.client.mget(docs=docs[offset : offset + 5000], source_includes=fields or None)
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
        """The user who may log in (None when unknown or disabled)."""
        user = self.get(self.names.inbox_users, username)
        return None if not user or user.get("disabled") else user

    def put_user(self, username: str, role: str, password_hash: str) -> bool:
        """Create or update a user; True when created. A new password ends the user's open sessions."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        existing = self.get(self.names.inbox_users, username)
        stamp = now_iso()
        epoch = int((existing or {}).get("session_epoch") or 0)
        if existing and existing.get("password_hash") != password_hash:
            epoch += 1
        doc = {
            "username": username,
            "role": role,
            "password_hash": password_hash,
            "disabled": bool((existing or {}).get("disabled")),
            "session_epoch": epoch,
            "created_at": (existing or {}).get("created_at", stamp),
            "updated_at": stamp,
        }
        self.put(self.names.inbox_users, username, doc)
        return existing is None

    def set_disabled(self, username: str, disabled: bool) -> bool:
        """Disable (ending every open session at once) or enable a user; False when there is no such user."""
        existing = self.get(self.names.inbox_users, username)
        if existing is None:
            return False
        fields: dict[str, Any] = {"disabled": disabled, "updated_at": now_iso()}
        if disabled:
            fields["session_epoch"] = int(existing.get("session_epoch") or 0) + 1
        self.update(self.names.inbox_users, username, fields)
        return True

    def all_users(self) -> list[dict[str, Any]]:
        """Every user, disabled ones included, without their password hashes."""
        users = self.search(self.names.inbox_users, size=1000)
        return sorted(
            ({k: v for k, v in u.items() if k != "password_hash"} for u in users), key=lambda u: u["username"]
        )

    def usernames(self) -> list[str]:
        return sorted(u["username"] for u in self.search(self.names.inbox_users, size=500) if not u.get("disabled"))

    # -- sessions -------------------------------------------------------------------------------
    @staticmethod
    def _session_key(session_id: str) -> str:
        return hashlib.sha256(session_id.encode("utf-8")).hexdigest()

    def open_session(self, user: dict[str, Any], max_age_s: float, address: str | None = None) -> str:
        """A new session of ``user``; returns the id the cookie carries."""
        session_id = secrets.token_urlsafe(32)
        created = datetime.now(UTC)
        self.put(
            self.names.inbox_sessions,
            self._session_key(session_id),
            {
                "username": user["username"],
                "epoch": int(user.get("session_epoch") or 0),
                "address": address,
                "created_at": to_rfc3339(created),
                "expires_at": to_rfc3339(created + timedelta(seconds=max_age_s)),
            },
        )
        self._forget_expired(user["username"])
        return session_id

    def session_user(self, session_id: str | None) -> dict[str, Any] | None:
        """The user of a live session: it exists, has not expired, and the user is enabled with the
        same session epoch as at login. None otherwise."""
        if not session_id:
            return None
        session = self.get(self.names.inbox_sessions, self._session_key(session_id))
        if not session or session.get("expires_at", "") <= now_iso():
            return None
        user = self.user(session["username"])
        if not user or int(user.get("session_epoch") or 0) != int(session.get("epoch") or 0):
            return None
        return user

    def close_session(self, session_id: str | None) -> None:
        if session_id:
            self.client.options(ignore_status=404).delete(
                index=self.names.inbox_sessions, id=self._session_key(session_id), refresh="wait_for"
            )

    def _forget_expired(self, username: str) -> None:
        """Expired sessions of a user leave the index at their next login (best effort)."""
        with contextlib.suppress(ApiError):
            self.client.delete_by_query(
                index=self.names.inbox_sessions,
                conflicts="proceed",
                query={
                    "bool": {"filter": [{"term": {"username": username}}, {"range": {"expires_at": {"lt": now_iso()}}}]}
                },
            )

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
        """Work state by mention id: one realtime multi-get (items are stored under their mention id)."""
        if not mention_ids:
            return {}
        response = self.client.options(ignore_status=404).mget(
            index=self.names.inbox_items, ids=list(dict.fromkeys(mention_ids))
        )
        return {d["_id"]: dict(d["_source"]) for d in response.get("docs", []) if d.get("found")}

    def assignments(self) -> dict[str, str]:
        """Mention id -> who it is assigned to, for every assigned item (a team's open assignments)."""
        query = {"exists": {"field": "assigned_to"}}
        return {
            d["id"]: d["assigned_to"]
            for d in self.search(self.names.inbox_items, query, size=10_000)
            if d.get("assigned_to")
        }

    def save_item(self, item: dict[str, Any]) -> None:
        item["updated_at"] = now_iso()
        self.put(self.names.inbox_items, item["id"], item)

    # -- saved replies and rules ----------------------------------------------------------------
    def saved_replies(self, lang: str | None = None) -> list[dict[str, Any]]:
        query = {"term": {"lang": lang}} if lang else None
        return self.search(self.names.inbox_replies, query, size=200, sort=[{"title": {"order": "asc"}}])

    def rules(self) -> list[dict[str, Any]]:
        return self.search(self.names.inbox_rules, size=200, sort=[{"created_at": {"order": "asc"}}])
