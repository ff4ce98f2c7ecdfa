"""Label corrections made by people: the feedback index that `ecoute models build` learns from.

Every correction — one click in the inbox, `ecoute feedback import FILE`, a CLI fix — is stored as
one document: the mention's id and text, the labels the person set (any subset), the labels the
labeller had given (when known), who made it, from where and when. The same person correcting the
same mention to the same labels twice stores one document (the id is derived from those), so
re-importing a file never duplicates.
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
LABEL_FIELDS = ("sentiment", "criticism", "constructive", "toxic", "toxic_categories", "topics")


class InvalidCorrection(ValueError):
    """A correction that cannot be stored; the message says which field and why."""


@dataclass(frozen=True)
class Correction:
    mention_id: str
    text: str
    labels: Mapping[str, Any]
    lang: str | None = None
    previous: Mapping[str, Any] = field(default_factory=dict)

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
        elif key in ("criticism", "constructive", "toxic"):
            if not isinstance(value, bool):
                raise InvalidCorrection(f"{key} must be true or false")
        elif key == "toxic_categories":
            if not isinstance(value, list) or any(c not in TOXIC_CATEGORIES for c in value):
                raise InvalidCorrection(f"toxic_categories must be a list of {', '.join(TOXIC_CATEGORIES)}")
        elif key == "topics" and (not isinstance(value, list) or not all(isinstance(t, str) for t in value)):
            raise InvalidCorrection("topics must be a list of taxonomy ids")


def correction_id(correction: Correction, who: str) -> str:
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
        doc["previous"] = {k: v for k, v in correction.previous.items() if k in (*LABEL_FIELDS, "labeller_version")}
    return doc


def record_corrections(
    settings: Settings, corrections: Iterable[Correction], *, who: str, source: str, client: Any = None
) -> es.BulkResult:
    """Store corrections (idempotent upserts by correction id); returns what was written and what failed."""
    client = client or es.make_client(settings)
    docs = [to_document(c, who=who, source=source) for c in corrections]
    if not docs:
        return es.BulkResult()
    return es.bulk_write(client, es.upsert_actions(settings.indices.feedback, docs), refresh="wait_for")


def iter_corrections(settings: Settings, *, client: Any = None) -> Iterator[dict[str, Any]]:
    """Every stored correction, oldest first is not guaranteed; callers that need the latest per mention
    keep the one with the greatest ``corrected_at``."""
    client = client or es.make_client(settings)
    if not client.indices.exists(index=settings.indices.feedback):
        return
    yield from es.scan_docs(client, settings.indices.feedback)
