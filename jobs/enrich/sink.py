"""The sink, on the executors: each partition upserts its own documents and dead-letters its rejects.

A writer that only writes (quix-streams style): ``PartitionSink.write`` takes a batch of staged rows
(``jobs.enrich.gate.stage``), counts them and returns the documents it stored; what else a batch
needs after its writes (brand answers, ``jobs.enrich.answers``) is a step of its own that the job
runs next (``jobs.enrich.batch.store_partition``). Every write goes through
``ecoute.es.bulk_send``, the one retry policy (clients are made with ``max_retries=0``).

- **Upsert**: an update with ``doc`` (the new fields) and ``upsert`` (the whole document, for a new
  id), by event id in the monthly index: replays rewrite the same documents, and fields other
  stages own (``handled``) or that brand answers set are never reset.
- **Dead letters**: rejected rows go to the DLQ topic and the quarantine index, keyed by origin.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from jobs.enrich.executor import ANSWER_FIELDS
from jobs.enrich.metrics import EnrichStats
from jobs.enrich.rows import Rejected, origin

if TYPE_CHECKING:
    import pyarrow as pa
    from elasticsearch import Elasticsearch

    from ecoute.settings import Settings

log = logging.getLogger("ecoute.enrich")

RETRY_FOR_S = 900.0  # how long a batch waits for Elasticsearch before the query fails (and resumes later)


@dataclass(frozen=True)
class SinkConfig:
    """What every partition needs to know (pickled to the executors with the function)."""

    settings: Settings
    refresh: bool | str = False
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
        key = hash((config.settings.model_dump_json(), config.refresh, config.retry_for_s))
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
    def write(self, batch: pa.RecordBatch, counts: EnrichStats) -> list[tuple[dict[str, Any], str]]:
        """Write the batch's documents and dead letters, count them; returns the stored (document, index)."""
        rows = batch.to_pydict()
        n = batch.num_rows
        rejected: list[Rejected] = []
        docs: list[tuple[dict[str, Any], str, bytes]] = []
        for i in range(n):
            where = origin(rows["topic"][i], rows["partition"][i], rows["offset"][i])
            if rows["error"][i] is not None:
                details = orjson.loads(rows["details"][i]) if rows["details"][i] else None
                rejected.append(
                    Rejected(
                        "enrich",
                        rows["error"][i],
                        where,
                        rows["original"][i],
                        rows["event_id"][i],
                        rows["source"][i],
                        details,
                    )
                )
            elif not rows["latest"][i]:
                counts.deduplicated += 1
            elif rows["erased"][i]:
                counts.erased += 1  # GDPR: an erased author's events are dropped before any write
            elif rows["failed"][i]:
                failed = rows["failed"][i]
                rejected.append(
                    Rejected(
                        "validate",
                        "failed expectations: " + ", ".join(failed),
                        where,
                        rows["original"][i],
                        rows["event_id"][i],
                        rows["source"][i],
                        {"failed_expectations": failed},
                    )
                )
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
        counts.rows_out += len(written)
        counts.quarantined += len(rejected)
        counts.rejected_by_stage.update(r.stage for r in rejected)
        return written

    # -- writes ----------------------------------------------------------------------------------
    def send(self, actions: list[dict[str, Any]], refresh: bool | str | None = None) -> Any:
        """Bulk ``actions`` under the one retry policy (refresh: the config's unless given)."""
        from ecoute.es import bulk_send

        refresh = self.config.refresh if refresh is None else refresh
        return bulk_send(self.es, actions, refresh=refresh, retry_for_s=self.config.retry_for_s)

    def ensure_index(self, index: str, alias: str | None) -> None:
        """Create ``index`` (in ``alias``) unless this process already knows it exists."""
        if index in self.known_indices:
            return
        from ecoute.es import write_retrying

        for attempt in write_retrying(self.config.retry_for_s, f"create index {index}"):
            with attempt:
                if not self.es.indices.exists(index=index):
                    response = self.es.options(ignore_status=400).indices.create(
                        index=index, aliases={alias: {}} if alias else None
                    )
                    body = response.body if hasattr(response, "body") else response
                    error = (body or {}).get("error")
                    if error and error.get("type") != "resource_already_exists_exception":
                        raise RuntimeError(f"cannot create index {index}: {error}")
        self.known_indices.add(index)

    def upsert(
        self, docs: list[tuple[dict[str, Any], str, bytes]]
    ) -> tuple[list[tuple[dict[str, Any], str]], list[Rejected]]:
        """Upsert ``docs`` (doc, origin, original); returns (stored (doc, index), rejections by Elasticsearch)."""
        from ecoute.events import month_index

        if not docs:
            return [], []
        alias = self.settings.indices.mentions
        index_of = {doc["id"]: month_index(alias, doc["created_at"]) for doc, _, _ in docs}
        for index in set(index_of.values()):
            self.ensure_index(index, alias)
        actions = [
            {
                "_op_type": "update",
                "_index": index_of[doc["id"]],
                "_id": doc["id"],
                "doc": {k: v for k, v in doc.items() if k not in ANSWER_FIELDS},
                "upsert": doc,
            }
            for doc, _, _ in docs
        ]
        result = self.send(actions)
        by_id = {doc["id"]: (doc, where, original) for doc, where, original in docs}
        refused: list[Rejected] = []
        for failure in result.failed:
            doc, where, original = by_id.pop(failure["action"]["_id"])
            refused.append(
                Rejected(
                    "sink",
                    f"Elasticsearch rejected the document (status {failure.get('status')})",
                    where,
                    original,
                    doc["id"],
                    doc.get("source"),
                    {"error": failure.get("error")},
                )
            )
        return [(doc, index_of[doc_id]) for doc_id, (doc, _, _) in by_id.items()], refused

    def quarantine(self, rejected: list[Rejected]) -> None:
        from ecoute.es import upsert_actions

        if not rejected:
            return
        records = [r.record() for r in rejected]
        self.producer.send_dead_letters([{k: v for k, v in r.items() if k != "id"} for r in records])
        self.ensure_index(self.settings.indices.quarantine, None)
        # Searchable at once: someone who was just told "3 quarantined" looks there next (rare writes).
        result = self.send(upsert_actions(self.settings.indices.quarantine, records), refresh=True)
        if result.failed:
            # The DLQ topic already holds them; a quarantine index that refuses them is a bug to fix.
            raise RuntimeError(f"quarantine index refused {len(result.failed)} records: {result.failed[0]['error']}")
