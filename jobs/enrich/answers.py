"""Brand answers, on the executors, after a partition's documents are written (``jobs.enrich.sink``).

Order-independent and without memory:

- a brand reply records its answer in the brand-answers index (keyed by the parent's id; the
  earliest answer is kept by a script), then marks its parent if a realtime multi-get finds it in a
  mention index;
- every document, once written, multi-gets its own answer record and marks itself.

Whatever the order across partitions and batches, one of the two sees the other: each side writes
(its document, its answer record) before it reads the other's key, realtime on the same shards.
Marks are scripted updates that only ever move ``brand_answered_at`` earlier, so a replay or a
reply seen twice changes nothing. The writes go through the sink's writer (one retry policy).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ecoute.es import brand_answers_index
from jobs.enrich.executor import is_brand_reply

if TYPE_CHECKING:
    from jobs.enrich.sink import PartitionSink

log = logging.getLogger("ecoute.enrich")

EARLIEST_ANSWER = (
    "if (ctx._source.answered_at == null || params.at < ctx._source.answered_at) { ctx._source.answered_at = params.at; }"
    " ctx._source.parent_id = params.parent;"
)
MARK_ANSWERED = (
    "if (ctx._source.brand_answered_at == null || params.at < ctx._source.brand_answered_at)"
    " { ctx._source.brand_answered_at = params.at; } ctx._source.answered_by_brand = true;"
)


class BrandAnswers:
    """The brand-answers step of one partition: records replies' answers, marks answered documents."""

    def __init__(self, writer: PartitionSink) -> None:
        self.writer = writer
        self.settings = writer.settings
        self.index = brand_answers_index(self.settings)

    def record(self, written: list[tuple[dict[str, Any], str]]) -> None:
        """After ``written`` (document, its mention index) were stored: answers recorded, marks set."""
        if not written:
            return
        replies = [doc for doc, _ in written if is_brand_reply(doc)]
        if replies:
            self._record_answers(replies)
        self._mark_answered(dict((doc["id"], index) for doc, index in written), replies)

    def _record_answers(self, replies: list[dict[str, Any]]) -> None:
        self.writer.ensure_index(self.index, None)
        actions = [
            {
                "_op_type": "update",
                "_index": self.index,
                "_id": doc["parent_id"],
                "scripted_upsert": True,
                "upsert": {},
                "script": {"source": EARLIEST_ANSWER, "params": {"at": doc["created_at"], "parent": doc["parent_id"]}},
            }
            for doc in replies
        ]
        for failure in self.writer.send(actions).failed:
            # The reply itself is stored; its parent will not be marked. Worth a look, not a batch.
            log.warning("could not record the brand answer to %s: %s", failure["action"]["_id"], failure.get("error"))

    def _mark_answered(self, index_of: dict[str, str], replies: list[dict[str, Any]]) -> None:
        """Mark parents answered: written docs whose answer is recorded, and stored parents of ``replies``."""
        from ecoute.es import mget_found

        es, retry_for_s = self.writer.es, self.writer.config.retry_for_s
        marks: dict[tuple[str, str], str] = {}
        # the answers index exists: created before the query starts
        for hit in mget_found(es, [{"_index": self.index, "_id": i} for i in index_of], retry_for_s=retry_for_s):
            if hit["_source"].get("answered_at"):
                marks[(index_of[hit["_id"]], hit["_id"])] = hit["_source"]["answered_at"]
        if replies:
            months = self._mention_indices()
            lookups = [
                {"_index": i, "_id": r["parent_id"]}
                for r in replies
                for i in months
                if i[-7:] <= _next_month(r["created_at"])
            ]
            earliest: dict[str, str] = {}
            for reply in replies:
                parent = reply["parent_id"]
                earliest[parent] = min(reply["created_at"], earliest.get(parent, reply["created_at"]))
            for hit in mget_found(es, lookups, retry_for_s=retry_for_s):
                at = earliest[hit["_id"]]
                key = (hit["_index"], hit["_id"])
                marks[key] = min(at, marks.get(key, at))
        if not marks:
            return
        result = self.writer.send(
            [
                {
                    "_op_type": "update",
                    "_index": index,
                    "_id": doc_id,
                    "script": {"source": MARK_ANSWERED, "params": {"at": at}},
                }
                for (index, doc_id), at in marks.items()
            ]
        )
        for failure in result.failed:
            # A parent erased since the lookup: nothing to mark.
            log.warning("could not mark %s answered: %s", failure["action"]["_id"], failure.get("error"))

    def _mention_indices(self) -> list[str]:
        from ecoute.es import write_retrying

        es = self.writer.es
        for attempt in write_retrying(self.writer.config.retry_for_s, "listing the mention indices"):
            with attempt:
                response = es.options(ignore_status=404).indices.get_alias(name=self.settings.indices.mentions)
        body = response.body if hasattr(response, "body") else response
        return sorted(i for i in (body or {}) if isinstance(body.get(i), dict))


def _next_month(created_at: str) -> str:
    """``YYYY.MM`` of the month after ``created_at`` (a parent may be dated a little after its reply)."""
    year, month = int(created_at[0:4]), int(created_at[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}.{month:02d}"
