"""Labels given by people: the feedback index that `ecoute models build` learns from.

Every correction — one click in the inbox, `ecoute feedback import FILE`, a CLI fix — is stored as
one document: the mention's id and text, the labels the person set (any subset), the labels the
labeller had given (when known), who made it, from where and when. The same person correcting the
same mention to the same labels twice stores one document (the id is derived from those), so
re-importing a file never duplicates.

What the community manager *does* is a label too (``ACTION_LABELS``): hiding or deleting a comment
says it is toxic, restoring it or "OK" that it is not, replying that it needed an answer, "Traité"
without a reply that it did not, "pas une critique" that it is no criticism. Such a label carries its
provenance (who, when, which action, which model version had labelled the mention, the author's
pseudonymous id so that `ecoute erase` removes it with the author) and is kept once per mention and
label: its id is ``<mention id>:action:<label>``, so the latest action on a mention is its label.
Alert verdicts (jobs/alerts/verdicts.py, their own index) are read as labels by ``alert_labels``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ecoute import es
from ecoute.events import to_rfc3339
from ecoute.settings import Settings

SENTIMENTS = ("negative", "neutral", "positive")
TOXIC_CATEGORIES = ("insult", "threat", "hate", "harassment", "sexual")
LABEL_FIELDS = ("sentiment", "criticism", "constructive", "toxic", "toxic_categories", "topics", "needs_answer")
# What each action of the community manager teaches (inbox/learning.py writes them).
ACTION_LABELS: dict[str, dict[str, Any]] = {
    "hide": {"toxic": True},
    "delete": {"toxic": True},
    "unhide": {"toxic": False},  # restored
    "not_toxic": {"toxic": False},  # "OK" in the moderation queue
    "not_criticism": {"criticism": False},  # "pas une critique"
    "reply": {"needs_answer": True},
    "done_without_reply": {"needs_answer": False},  # "Traité" with no reply
}


class InvalidCorrection(ValueError):
    """A correction that cannot be stored; the message says which field and why."""


@dataclass(frozen=True)
class Correction:
    mention_id: str
    text: str
    labels: Mapping[str, Any]
    lang: str | None = None
    previous: Mapping[str, Any] = field(default_factory=dict)
    action: str | None = None  # the community manager's action this label comes from (ACTION_LABELS)
    author_id: str | None = None  # the mention's pseudonymous author: `ecoute erase` removes the label
    model_version: str | None = None  # the model whose labels the person saw

    def __post_init__(self) -> None:
        if not isinstance(self.mention_id, str) or not self.mention_id.strip():
            raise InvalidCorrection("id must be a non-empty string")
        if not isinstance(self.text, str) or not self.text.strip():
            raise InvalidCorrection("text must be a non-empty string")
        if self.lang is not None and not (isinstance(self.lang, str) and 2 <= len(self.lang) <= 3):
            raise InvalidCorrection("lang must be an ISO 639-1 code")
        unknown = set(self.labels) - set(LABEL_FIELDS)
        if unknown:
            raise InvalidCorrection(f"unknown label(s): {', '.join(sorted(unknown))}")
        if not self.labels:
            raise InvalidCorrection(f"no label given (any of {', '.join(LABEL_FIELDS)})")
        check_labels(self.labels)


def check_labels(labels: Mapping[str, Any]) -> None:
    """Raise InvalidCorrection unless every given label has a valid value."""
    for key, value in labels.items():
        if key == "sentiment":
            if value not in SENTIMENTS:
                raise InvalidCorrection(f"sentiment must be one of {', '.join(SENTIMENTS)}")
        elif key in ("criticism", "constructive", "toxic", "needs_answer"):
            if not isinstance(value, bool):
                raise InvalidCorrection(f"{key} must be true or false")
        elif key == "toxic_categories":
            if not isinstance(value, list) or any(c not in TOXIC_CATEGORIES for c in value):
                raise InvalidCorrection(f"toxic_categories must be a list of {', '.join(TOXIC_CATEGORIES)}")
        elif key == "topics" and (not isinstance(value, list) or not all(isinstance(t, str) for t in value)):
            raise InvalidCorrection("topics must be a list of taxonomy ids")


def correction_id(correction: Correction, who: str) -> str:
    if correction.action:  # one label per mention and label from actions: the latest action decides
        return f"{correction.mention_id}:action:{','.join(sorted(correction.labels))}"
    digest = hashlib.sha256(orjson.dumps(dict(correction.labels), option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return f"{correction.mention_id}:{who}:{digest}"


def to_document(correction: Correction, *, who: str, source: str, at: datetime | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": correction_id(correction, who),
        "mention_id": correction.mention_id,
        "text": correction.text,
        "labels": dict(correction.labels),
        "who": who,
        "source": source,
        "corrected_at": to_rfc3339(at or datetime.now(UTC)),
    }
    if correction.lang:
        doc["lang"] = correction.lang
    if correction.previous:
        doc["previous"] = {
            k: v for k, v in correction.previous.items() if k in (*LABEL_FIELDS, "labeller_version", "model_version")
        }
    for key in ("action", "author_id", "model_version"):
        if getattr(correction, key):
            doc[key] = getattr(correction, key)
    return doc


def action_correction(action: str, mention: Mapping[str, Any]) -> Correction:
    """The label an action of the community manager gives a mention (an indexed mention document)."""
    if action not in ACTION_LABELS:
        raise InvalidCorrection(f"no label for action {action!r}")
    previous = {k: mention.get(k) for k in (*LABEL_FIELDS, "labeller_version", "model_version")}
    return Correction(
        mention_id=str(mention.get("id") or ""),
        text=str(mention.get("text") or ""),
        labels=ACTION_LABELS[action],
        lang=mention.get("lang") if mention.get("lang") not in (None, "und") else None,
        previous={k: v for k, v in previous.items() if v is not None},
        action=action,
        author_id=(mention.get("author") or {}).get("id"),
        model_version=mention.get("model_version") or mention.get("labeller_version"),
    )


def record_corrections(
    settings: Settings, corrections: Iterable[Correction], *, who: str, source: str, client: Any = None
) -> es.BulkResult:
    """Store corrections (idempotent upserts by correction id); returns what was written and what failed."""
    client = client or es.make_client(settings)
    docs = [to_document(c, who=who, source=source) for c in corrections]
    if not docs:
        return es.BulkResult()
    _ensure_mapping(client, settings.indices.feedback)
    return es.bulk_write(client, es.upsert_actions(settings.indices.feedback, docs), refresh="wait_for")


def iter_corrections(settings: Settings, *, client: Any = None) -> Iterator[dict[str, Any]]:
    """Every stored correction, oldest first is not guaranteed; callers that need the latest per mention
    keep the one with the greatest ``corrected_at``."""
    client = client or es.make_client(settings)
    if not client.indices.exists(index=settings.indices.feedback):
        return
    yield from es.scan_docs(client, settings.indices.feedback)


_mapped: set[tuple[int, str]] = set()


def _ensure_mapping(client: Any, index: str) -> None:
    """An index created by an older release gets the fields added since (once per client and index)."""
    key = (id(client), index)
    if key not in _mapped:
        es.ensure_index_mapping(client, index, "ecoute-feedback")
        _mapped.add(key)


def count_labels(settings: Settings, *, client: Any = None, query: dict[str, Any] | None = None) -> int:
    """How many labels the page has given (documents of the feedback index matching ``query``)."""
    client = client or es.make_client(settings)
    if not client.indices.exists(index=settings.indices.feedback):
        return 0
    return es.count(client, settings.indices.feedback, query)


def alert_labels(settings: Settings, *, client: Any = None) -> Iterator[dict[str, Any]]:
    """The managers' verdicts on alert emails as labels, one per alert and manager (jobs/alerts/verdicts.py
    stores them and the spike detector reads them there): ``{"alert_id", "labels": {"spike": bool}, …}``."""
    client = client or es.make_client(settings)
    index = settings.indices.alert_feedback
    if not client.indices.exists(index=index):
        return
    for doc in es.scan_docs(client, index):
        yield {
            "id": f"alert:{doc.get('alert_id')}:{doc.get('manager') or ''}",
            "alert_id": doc.get("alert_id"),
            "scope": doc.get("scope"),
            "episode_start": doc.get("episode_start"),
            "labels": {"spike": doc.get("verdict") == "useful"},
            "action": f"alert_{doc.get('verdict')}",
            "who": doc.get("manager") or "alert email link",
            "source": "alert-email",
            "corrected_at": doc.get("recorded_at"),
        }


def erase_labels(client: Any, settings: Settings, author_id: str, mention_ids: Iterable[str]) -> int:
    """Delete the labels of an author's mentions (by the author's id, and by the mentions' ids for labels
    stored without it, e.g. imported ones); returns how many (GDPR erasure, ecoute.privacy)."""
    index = settings.indices.feedback
    if not client.indices.exists(index=index):
        return 0
    should: list[dict[str, Any]] = [{"term": {"author_id": author_id}}]
    ids = sorted(set(mention_ids))
    for start in range(0, len(ids), 1000):
        should.append({"terms": {"mention_id": ids[start : start + 1000]}})
    response = client.delete_by_query(
        index=index, query={"bool": {"should": should, "minimum_should_match": 1}}, refresh=True, conflicts="proceed"
    )
    result = response.body if hasattr(response, "body") else response
    return int(result.get("deleted") or 0)
