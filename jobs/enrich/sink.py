"""The sink, on the executors: each partition upserts its own documents and dead-letters its rejects.

``write_partition`` is a ``mapInArrow`` function over the staged rows (``jobs.enrich.gate.stage``);
it yields one row of counts (JSON) per partition — the only thing the driver receives. Every write
goes through ``ecoute.es.bulk_send``, the one retry policy (clients are made with ``max_retries=0``).

- **Upsert**: an update with ``doc`` (the new fields) and ``upsert`` (the whole document, for a new
  id), by event id in the monthly index: replays rewrite the same documents, and fields other
  stages own (``handled``) or that brand replies set are never reset.
- **Brand answers**, order-independent and without memory: a brand reply records its answer in the
  brand-answers index (keyed by the parent's id, earliest answer kept by a script) and then marks
  its parent if a realtime multi-get finds it; every document, once written, multi-gets its own
  answer record and marks itself. Whatever the order across partitions and batches, one of the
  two sees the other (both are write-then-realtime-read on the same keys).
- **Dead letters**: rejected rows go to the DLQ topic and the quarantine index, keyed by origin.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from ecoute.es import brand_answers_index
from jobs.enrich.executor import ANSWER_FIELDS
from jobs.enrich.metrics import EnrichStats
from jobs.enrich.rows import COUNTS_SCHEMA, Rejected, origin

if TYPE_CHECKING:
    import pyarrow as pa
    from elasticsearch import Elasticsearch

    from ecoute.settings import Settings

log = logging.getLogger("ecoute.enrich")

RETRY_FOR_S = 900.0  # how long a batch waits for Elasticsearch before the query fails (and resumes later)
EARLIEST_ANSWER = (
    "if (ctx._source.answered_at == null || params.at < ctx._source.answered_at) { ctx._source.answered_at = params.at; }"
    " ctx._source.parent_id = params.parent;"
)
MARK_ANSWERED = (
    "if (ctx._source.brand_answered_at == null || params.at < ctx._source.brand_answered_at)"
    " { ctx._source.brand_answered_at = params.at; } ctx._source.answered_by_brand = true;"
)


@dataclass(frozen=True)
class SinkConfig:
    """What every partition needs to know (pickled to the executors with the function)."""

    settings: Settings
    refresh: bool | str = False
    brand_answers: bool = True
    retry_for_s: float = RETRY_FOR_S


class PartitionSink:
    """Clients of one Python worker process, reused by every partition it writes (cached per config)."""

    _cache: ClassVar[dict[int, PartitionSink]] = {}

    def __init__(self, config: SinkConfig):
        from ecoute.es import make_client

        self.config = config
        self.settings = config.settings
        self.es: Elasticsearch = make_client(self.settings, max_retries=0)
        # Opened on the first dead letter: an idempotent producer registers a producer id with the
        # broker (on noida-db, a rewrite of its whole Kafka store), which a clean run should not pay.
        self._producer: Any = None
        self.known_indices: set[str] = set()

    @classmethod
    def for_process(cls, config: SinkConfig) -> PartitionSink:
        key = hash((config.settings.model_dump_json(), config.refresh, config.brand_answers, config.retry_for_s))
        sink = cls._cache.get(key)
        if sink is None:
            sink = cls._cache[key] = cls(config)
        return sink

    @property
    def producer(self) -> Any:
        if self._producer is None:
            from ecoute.kafka import Producer

            self._producer = Producer(self.settings)
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):
                self._producer.close()
            self._producer = None
        with contextlib.suppress(Exception):
            self.es.close()

    # -- one Arrow batch of staged rows ----------------------------------------------------------
    def write(self, batch: pa.RecordBatch, counts: EnrichStats) -> None:
        rows = batch.to_pydict()
        n = batch.num_rows
        rejected: list[Rejected] = []
        docs: list[tuple[dict[str, Any], str, bytes]] = []
        for i in range(n):
            where = origin(rows["topic"][i], rows["partition"][i], rows["offset"][i])
            if rows["error"][i] is not None:
                details = orjson.loads(rows["details"][i]) if rows["details"][i] else None
                rejected.append(Rejected("enrich", rows["error"][i], where, rows["original"][i],
                                         rows["event_id"][i], rows["source"][i], details))  # fmt: skip
            elif not rows["latest"][i]:
                counts.deduplicated += 1
            elif rows["erased"][i]:
                counts.erased += 1  # GDPR: an erased author's events are dropped before any write
            elif rows["failed"][i]:
                failed = rows["failed"][i]
                rejected.append(Rejected("validate", "failed expectations: " + ", ".join(failed), where,
                                         rows["original"][i], rows["event_id"][i], rows["source"][i],
                                         {"failed_expectations": failed}))  # fmt: skip
            else:
                docs.append((orjson.loads(rows["doc"][i]), where, rows["original"][i]))
            if rows["checked"][i]:
                counts.checked += 1
                counts.unexpected.update(rows["failed"][i])
        counts.rows_in += n
        started = time.monotonic()
        written, refused = self.upsert(docs)
        rejected += refused
        self.quarantine(rejected)
        counts.write_s += time.monotonic() - started
        counts.rows_out += written
        counts.quarantined += len(rejected)
        counts.rejected_by_stage.update(r.stage for r in rejected)

    # -- writes ----------------------------------------------------------------------------------
    def _send(self, actions: list[dict[str, Any]], refresh: bool | str | None = None) -> Any:
        from ecoute.es import bulk_send

        refresh = self.config.refresh if refresh is None else refresh
        return bulk_send(self.es, actions, refresh=refresh, retry_for_s=self.config.retry_for_s)

    def _ensure_index(self, index: str, alias: str | None) -> None:
        if index in self.known_indices:
            return
        from ecoute.es import write_retrying

        for attempt in write_retrying(self.config.retry_for_s, f"create index {index}"):
            with attempt:
                if not self.es.indices.exists(index=index):
                    response = self.es.options(ignore_status=400).indices.create(
                        index=index, **({"aliases": {alias: {}}} if alias else {})
                    )
                    body = response.body if hasattr(response, "body") else response
                    error = (body or {}).get("error")
                    if error and error.get("type") != "resource_already_exists_exception":
                        raise RuntimeError(f"cannot create index {index}: {error}")
        self.known_indices.add(index)

    def upsert(self, docs: list[tuple[dict[str, Any], str, bytes]]) -> tuple[int, list[Rejected]]:
        """Upsert ``docs`` (doc, origin, original); returns (written, rejections by Elasticsearch)."""
        from ecoute.events import month_index

        if not docs:
            return 0, []
        alias = self.settings.indices.mentions
        index_of = {doc["id"]: month_index(alias, doc["created_at"]) for doc, _, _ in docs}
        for index in set(index_of.values()):
            self._ensure_index(index, alias)
        actions = [
            {"_op_type": "update", "_index": index_of[doc["id"]], "_id": doc["id"],
             "doc": {k: v for k, v in doc.items() if k not in ANSWER_FIELDS}, "upsert": doc}
            for doc, _, _ in docs
        ]  # fmt: skip
        replies = [doc for doc, _, _ in docs if self.config.brand_answers and _is_brand_reply(doc)]
        answers = brand_answers_index(self.settings)
        if replies:
            self._ensure_index(answers, None)
        actions += [
            {"_op_type": "update", "_index": answers, "_id": doc["parent_id"], "scripted_upsert": True, "upsert": {},
             "script": {"source": EARLIEST_ANSWER, "params": {"at": doc["created_at"], "parent": doc["parent_id"]}}}
            for doc in replies
        ]  # fmt: skip
        result = self._send(actions)
        by_id = {doc["id"]: (doc, where, original) for doc, where, original in docs}
        refused: list[Rejected] = []
        for failure in result.failed:
            action = failure["action"]
            if action["_index"] == answers:
                # The reply itself is stored; its parent will not be marked. Worth a look, not a batch.
                log.warning("could not record the brand answer to %s: %s", action["_id"], failure.get("error"))
                continue
            doc, where, original = by_id.pop(action["_id"])
            refused.append(Rejected("sink", f"Elasticsearch rejected the document (status {failure.get('status')})",
                                    where, original, doc["id"], doc.get("source"), {"error": failure.get("error")}))  # fmt: skip
        if self.config.brand_answers:
            self._mark_answered(by_id, index_of, [d for d in replies if d["id"] in by_id])
        return len(by_id), refused

    def _mark_answered(
        self, written: dict[str, Any], index_of: dict[str, str], replies: list[dict[str, Any]]
    ) -> None:
        """Mark parents answered: written docs whose answer is recorded, and stored parents of ``replies``."""
        from ecoute.es import mget_found

        answers = brand_answers_index(self.settings)
        marks: dict[tuple[str, str], str] = {}
        if written:  # the answers index exists: created before the query starts
            for hit in mget_found(self.es, [{"_index": answers, "_id": i} for i in written],
                                  retry_for_s=self.config.retry_for_s):  # fmt: skip
                if hit["_source"].get("answered_at"):
                    marks[(index_of[hit["_id"]], hit["_id"])] = hit["_source"]["answered_at"]
        if replies:
            months = self._mention_indices()
            lookups = [{"_index": i, "_id": r["parent_id"]} for r in replies for i in months
                       if i[-7:] <= _next_month(r["created_at"])]  # fmt: skip
            earliest: dict[str, str] = {}
            for reply in replies:
                parent = reply["parent_id"]
                earliest[parent] = min(reply["created_at"], earliest.get(parent, reply["created_at"]))
            for hit in mget_found(self.es, lookups, retry_for_s=self.config.retry_for_s):
                at = earliest[hit["_id"]]
                key = (hit["_index"], hit["_id"])
                marks[key] = min(at, marks.get(key, at))
        if not marks:
            return
        result = self._send([
            {"_op_type": "update", "_index": index, "_id": doc_id,
             "script": {"source": MARK_ANSWERED, "params": {"at": at}}}
            for (index, doc_id), at in marks.items()
        ])  # fmt: skip
        for failure in result.failed:
            # A parent erased since the lookup: nothing to mark.
            log.warning("could not mark %s answered: %s", failure["action"]["_id"], failure.get("error"))

    def _mention_indices(self) -> list[str]:
        from ecoute.es import write_retrying

        for attempt in write_retrying(self.config.retry_for_s, "listing the mention indices"):
            with attempt:
                response = self.es.options(ignore_status=404).indices.get_alias(name=self.settings.indices.mentions)
        body = response.body if hasattr(response, "body") else response
        return sorted(i for i in (body or {}) if isinstance(body.get(i), dict))

    def quarantine(self, rejected: list[Rejected]) -> None:
        from ecoute.es import upsert_actions

        if not rejected:
            return
        records = [r.record() for r in rejected]
        self.producer.send_dead_letters([{k: v for k, v in r.items() if k != "id"} for r in records])
        self._ensure_index(self.settings.indices.quarantine, None)
        # Searchable at once: someone who was just told "3 quarantined" looks there next (rare writes).
        result = self._send(upsert_actions(self.settings.indices.quarantine, records), refresh=True)
        if result.failed:
            # The DLQ topic already holds them; a quarantine index that refuses them is a bug to fix.
            raise RuntimeError(f"quarantine index refused {len(result.failed)} records: {result.failed[0]['error']}")


def _is_brand_reply(doc: dict[str, Any]) -> bool:
    from jobs.enrich.executor import is_brand_reply

    return is_brand_reply(doc)


def _next_month(created_at: str) -> str:
    """``YYYY.MM`` of the month after ``created_at`` (a parent may be dated a little after its reply)."""
    year, month = int(created_at[0:4]), int(created_at[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}.{month:02d}"


def write_partition(batches: Iterator[pa.RecordBatch], config: SinkConfig) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function of the sink: write this partition, yield its counts (one row)."""
    import pyarrow as pa

    sink = PartitionSink.for_process(config)
    # Indices may be deleted between batches (the rebuild runbook does it): check them again per partition.
    sink.known_indices.clear()
    counts = EnrichStats()
    for batch in batches:
        if batch.num_rows:
            sink.write(batch, counts)
    yield pa.RecordBatch.from_arrays([pa.array([counts.as_json()], pa.binary())], schema=COUNTS_SCHEMA)
