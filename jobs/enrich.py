"""The enrichment job: Kafka ``ecoute.raw.v1`` → labeller → Great Expectations gate → Elasticsearch.

One Spark Structured Streaming query:

1. **Source**: Spark's built-in ``kafka`` format when its jar is on the classpath, else the
   project's Python data source (``jobs.kafka_source``); offsets live in the checkpoint under
   ``<checkpoints_dir>/enrich``.
2. **Enrichment** on the executors (``mapInArrow``): each record is parsed and checked against
   ``schemas/raw_event.schema.json``; valid events are labelled in bulk by the labeller, loaded
   once per Python worker process (``jobs.labeller.get_labeller`` is cached per process and Spark
   reuses its workers). Bad records are not dropped: they leave the executor with their reason.
3. **Gate and sink** on the driver (``foreachBatch``): duplicates within the batch collapse to the
   last one, the GX suite ``schemas/expectations/enriched_mentions.json`` runs on the batch, failing
   rows and bad records go to the quarantine index and the DLQ topic with the reason; the rest is
   bulk-upserted into the monthly mentions index (``_id`` = event id, alias attached on creation).
   Brand replies mark their parent ``answered_by_brand`` whether the parent is in this batch, an
   earlier one or a later one (looked up at write time). Every write is idempotent, so a replayed
   batch (after a crash) rewrites the same documents: exactly-once in Elasticsearch.
4. **Commit**: Spark commits the batch (its offsets) only after ``foreachBatch`` returned, i.e.
   after Elasticsearch acknowledged every document or the failures were quarantined. If
   Elasticsearch is unreachable the batch waits and retries; it never skips.
5. **Metrics**: one document per batch in the job-metrics index (rows in/out, quarantined, lag,
   duration, GX results per expectation), also logged.

``run_enrichment(settings, mode="available-now" | "follow")`` is the entry point of the CLI
(``ecoute enrich``), the demo and the Airflow DAG.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

if TYPE_CHECKING:
    import pyarrow as pa
    from elasticsearch import Elasticsearch
    from pyspark.sql import DataFrame, SparkSession

    from ecoute.settings import Settings
    from jobs.validation import BatchGate, GateResult

log = logging.getLogger("ecoute.enrich")

JOB_NAME = "enrich"
Mode = Literal["available-now", "follow"]
DEFAULT_MAX_OFFSETS_PER_TRIGGER = 20_000
# How many recent writes the driver remembers to bridge Elasticsearch's refresh delay.
RECENT_CACHE_SIZE = 200_000
LABEL_KEYS = (
    "lang",
    "lang_confidence",
    "sentiment",
    "sentiment_score",
    "topics",
    "topic_scores",
    "toxic",
    "toxic_score",
    "criticism",
    "constructive",
)
BRAND_REPLY_KINDS = ("reply", "comment")

# What leaves the executors: one row per Kafka record, either an enriched doc or a rejection.
ENRICHED_SCHEMA = (
    "topic string, partition int, offset long, kafka_ts timestamp, event_id string, source string, "
    "doc binary, error string, details binary, original binary"
)


class EnrichError(RuntimeError):
    """The enrichment query failed; the message says why. Restarting resumes from the checkpoint."""


@dataclass
class EnrichStats:
    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    batches: int = 0
    duration_s: float = 0.0
    deduplicated: int = 0
    erased: int = 0  # events of authors erased under GDPR, dropped on purpose
    source_format: str = ""
    last_lag: int | None = None
    # The most recent batches only: a follow job runs for weeks.
    batch_durations_s: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("batch_durations_s")
        return data


# ---------------------------------------------------------------------------------------------
# executor side: parse, check, label
# ---------------------------------------------------------------------------------------------
_PLAIN_SCALARS = (str, bool, int, float, type(None))


def _plain(value: Any) -> Any:
    """numpy scalars and containers → plain Python, so the doc serialises and validates."""
    if type(value) in _PLAIN_SCALARS:  # the usual case, answered first
        return value
    if hasattr(value, "item") and not isinstance(value, list | dict | str | bytes):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple) or type(value).__name__ == "ndarray":
        return [_plain(v) for v in value]
    return value


def parse_raw(value: bytes | None) -> tuple[dict[str, Any] | None, str | None, Any]:
    """(event, None, None) for a valid raw event, else (None, reason, details)."""
    from ecoute.events import raw_contract_errors

    if value is None:
        return None, "empty message (no value)", None
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return None, "invalid JSON", {"error": str(exc)}
    errors = raw_contract_errors(event)
    if errors:
        return None, "raw event violates schemas/raw_event.schema.json", {"errors": errors}
    return event, None, None


def enriched_doc(
    event: dict[str, Any], labels: dict[str, Any], version: str, enriched_at: str, store_author_names: bool
) -> dict[str, Any]:
    """Raw event (without ``raw``) + labels + brand-answer flag + labeller version + time."""
    doc = {k: v for k, v in event.items() if k != "raw"}
    author = dict(doc.get("author") or {})
    if not store_author_names and not author.get("is_brand"):
        author.pop("name", None)  # commenters' names are personal data: kept only when enabled
    doc["author"] = author
    for key in LABEL_KEYS:
        if key in labels:
            doc[key] = _plain(labels[key])
    doc["answered_by_brand"] = False
    doc["labeller_version"] = str(version)
    doc["enriched_at"] = enriched_at
    return doc


@cache
def _labels_schema() -> dict[str, Any]:
    """The fields the enrichment adds, as a schema derived from schemas/enriched_event.schema.json.

    The raw part of a doc was validated already; re-validating the whole doc through the schema's
    ``$ref`` + ``unevaluatedProperties`` costs twice as much for nothing.
    """
    import schemas

    schema = schemas.load_json("enriched_event.schema.json")
    return {"type": "object", "required": schema["required"], "properties": schema["properties"]}


@cache
def _labels_validator() -> Any:
    """Reference validator (explains violations)."""
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(_labels_schema(), format_checker=FormatChecker())


@cache
def _fast_labels_validator() -> Any:
    """Rust validator of the same schema: answers valid/invalid in microseconds on the hot path."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(_labels_schema(), validate_formats=True)


def label_errors(doc: dict[str, Any]) -> list[str]:
    """Contract violations of the enrichment's fields of ``doc`` (empty when valid)."""
    added = {key: doc[key] for key in _labels_schema()["properties"] if key in doc}
    if _fast_labels_validator().is_valid(added):
        return []
    errors = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(event)'}: {error.message[:300]}"
        for error in _labels_validator().iter_errors(added)
    ]
    return errors or ["rejected by the enriched-event schema"]


def _label(labeller: Any, events: list[dict[str, Any]]) -> list[dict[str, Any] | Exception]:
    """Labels per event; if the labeller fails on the batch, retry one by one to isolate the culprit."""

    def call(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        columns = labeller.label_columns(
            [e["text"] for e in chunk],
            kinds=[e["kind"] for e in chunk],
            is_brand=[bool((e.get("author") or {}).get("is_brand")) for e in chunk],
        )
        return [{key: columns[key][i] for key in columns} for i in range(len(chunk))]

    if not events:
        return []
    try:
        return list(call(events))
    except Exception as exc:
        log.warning("labeller failed on a batch of %d, isolating: %r", len(events), exc)
    out: list[dict[str, Any] | Exception] = []
    for event in events:
        try:
            out.append(call([event])[0])
        except Exception as exc:
            out.append(exc)
    return out


def enrich_record_batch(batch: pa.RecordBatch, labeller: Any, store_author_names: bool) -> pa.RecordBatch:
    """One Arrow batch of Kafka records → one Arrow batch of ``ENRICHED_SCHEMA`` rows."""
    import pyarrow as pa

    from ecoute.events import utc_now

    columns = batch.to_pydict()
    values: list[bytes | None] = columns["value"]
    n = len(values)
    event_ids: list[str | None] = [None] * n
    sources: list[str | None] = [None] * n
    docs: list[bytes | None] = [None] * n
    errors: list[str | None] = [None] * n
    details: list[bytes | None] = [None] * n
    valid: list[tuple[int, dict[str, Any]]] = []
    for i, value in enumerate(values):
        event, reason, info = parse_raw(value)
        if event is None:
            errors[i] = reason
            details[i] = orjson.dumps(info) if info is not None else None
            # Best effort: name the event even when it is broken, so the DLQ can be searched.
            try:
                loose = orjson.loads(value) if value else None
                if isinstance(loose, dict):
                    event_ids[i] = loose.get("id") if isinstance(loose.get("id"), str) else None
                    sources[i] = loose.get("source") if isinstance(loose.get("source"), str) else None
            except orjson.JSONDecodeError:
                pass
            continue
        event_ids[i] = event["id"]
        sources[i] = event["source"]
        valid.append((i, event))

    enriched_at = utc_now()
    labels = _label(labeller, [event for _, event in valid])
    for (i, event), label in zip(valid, labels, strict=True):
        if isinstance(label, Exception):
            errors[i] = "labeller failed"
            details[i] = orjson.dumps({"error": repr(label)[:2000]})
            continue
        doc = enriched_doc(event, label, labeller.version, enriched_at, store_author_names)
        problems = label_errors(doc)
        if problems:
            errors[i] = "enriched event violates schemas/enriched_event.schema.json"
            details[i] = orjson.dumps({"errors": problems})
            continue
        docs[i] = orjson.dumps(doc)

    return pa.RecordBatch.from_arrays(
        [
            batch.column("topic"),
            batch.column("partition"),
            batch.column("offset"),
            batch.column("timestamp"),
            pa.array(event_ids, pa.string()),
            pa.array(sources, pa.string()),
            pa.array(docs, pa.binary()),
            pa.array(errors, pa.string()),
            pa.array(details, pa.binary()),
            batch.column("value"),
        ],
        names=["topic", "partition", "offset", "kafka_ts", "event_id", "source", "doc", "error", "details", "original"],
    )


def enrich_partition(batches: Iterator[pa.RecordBatch], store_author_names: bool) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function. The labeller is cached per process: loaded once per worker."""
    from jobs.labeller import get_labeller

    labeller = get_labeller()
    for batch in batches:
        if batch.num_rows:
            yield enrich_record_batch(batch, labeller, store_author_names)


def passthrough_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Raw pass-through (benchmark baseline): parse only, no labels, no schema checks."""
    import pyarrow as pa

    for batch in batches:
        columns = batch.to_pydict()
        ids, docs, errors = [], [], []
        for value in columns["value"]:
            try:
                event = orjson.loads(value)
                event.pop("raw", None)
                ids.append(event["id"])
                docs.append(orjson.dumps(event))
                errors.append(None)
            except Exception as exc:  # the baseline still never crashes on a bad record
                ids.append(None)
                docs.append(None)
                errors.append(f"unreadable: {exc}")
        n = batch.num_rows
        yield pa.RecordBatch.from_arrays(
            [
                batch.column("topic"), batch.column("partition"), batch.column("offset"), batch.column("timestamp"),
                pa.array(ids, pa.string()), pa.array([None] * n, pa.string()), pa.array(docs, pa.binary()),
                pa.array(errors, pa.string()), pa.array([None] * n, pa.binary()), batch.column("value"),
            ],
            names=["topic", "partition", "offset", "kafka_ts", "event_id", "source", "doc", "error", "details",
                   "original"],
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# driver side: gate, brand answers, sink, metrics
# ---------------------------------------------------------------------------------------------
def quarantine_record(
    stage: str, reason: str, original: Any, *, event_id: str | None, source: str | None, details: Any, origin: str
) -> dict[str, Any]:
    """A dead-letter record plus the ``id`` the quarantine index keys it by (stable across replays)."""
    from ecoute.events import dead_letter

    if isinstance(details, list):
        details = {"items": details}
    record = dead_letter(
        stage=stage, reason=reason, original=original, event_id=event_id, source=source, details=details
    )
    record["id"] = f"{stage}:{origin}"
    return record


def read_batch_offsets(checkpoint: Path, batch_id: int) -> dict[str, dict[str, int]]:
    """The end offsets Spark logged for ``batch_id`` (``{topic: {partition: offset}}``), or {}."""
    path = checkpoint / "offsets" / str(batch_id)
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{") and '"batchWatermarkMs"' not in line:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return {t: {str(p): int(o) for p, o in parts.items()} for t, parts in value.items()}
    return {}


class MentionsSink:
    """Everything the driver does with one micro-batch. Holds the clients the batches share."""

    def __init__(
        self,
        settings: Settings,
        gate: BatchGate | None,
        checkpoint: Path,
        stats: EnrichStats,
        run_id: str,
        validate: bool = True,
        refresh: bool | str = False,
        brand_answers: bool = True,
    ):
        from ecoute.es import make_client
        from ecoute.privacy import ErasureRegistry

        self.settings = settings
        self.gate = gate
        self.validate = validate
        self.brand_answers = brand_answers
        self.checkpoint = checkpoint
        self.stats = stats
        self.run_id = run_id
        self.refresh = refresh
        self.es: Elasticsearch = make_client(settings)
        # The dead-letter producer is opened on the first dead letter: an idempotent producer
        # registers a producer id with the broker (on noida-db, a rewrite of its whole Kafka store),
        # which a run with nothing to quarantine should not pay for.
        self._producer: Any = None
        self.known_indices: set[str] = set()
        # GDPR tombstones: events of an erased author are dropped before they are written anywhere.
        self.erasures = ErasureRegistry(settings)
        # Brand replies written during this run (parent id → earliest answer): covers the moment
        # between a write and Elasticsearch's refresh, when a search would not see it yet.
        self.recent_brand_answers: OrderedDict[str, str] = OrderedDict()
        self._brand_answers_loaded = False
        # Docs written during this run (id → (index, brand_answered_at)), for the same reason.
        self.recent_docs: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._watermark_consumer: Any = None
        self.retry_for_s = 900.0

    def close(self) -> None:
        import contextlib

        if self._producer is not None:
            with contextlib.suppress(Exception):
                self._producer.close()
        if self._watermark_consumer is not None:
            with contextlib.suppress(Exception):
                self._watermark_consumer.close()
        with contextlib.suppress(Exception):
            self.es.close()

    @property
    def producer(self) -> Any:
        if self._producer is None:
            from ecoute.kafka import Producer

            self._producer = Producer(self.settings)
        return self._producer

    # -- the batch ---------------------------------------------------------------------------------
    def __call__(self, batch_df: DataFrame, batch_id: int) -> None:
        started = time.time()
        # Runs the executors' part (read, parse, label): the results arrive as one Arrow table.
        table = batch_df.toArrow()
        self.process(table, batch_id, started, enriched_in_s=time.time() - started)

    def process(
        self, table: pa.Table, batch_id: int, started: float | None = None, enriched_in_s: float | None = None
    ) -> dict[str, Any]:
        """Gate, write and account for one batch; returns its metrics document.

        ``enriched_in_s``: how long the executors took to hand the batch over (read, parse, label).
        """
        from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

        started = started or time.time()
        rows = table.to_pydict()
        rows_in = len(rows["offset"])
        quarantine: list[dict[str, Any]] = []
        docs_by_id: dict[str, dict[str, Any]] = {}
        origin_of: dict[str, tuple[str, int, int, bytes]] = {}
        for i in range(rows_in):
            origin = f"{rows['topic'][i]}:{rows['partition'][i]}:{rows['offset'][i]}"
            if rows["error"][i] is not None:
                details = orjson.loads(rows["details"][i]) if rows["details"][i] else None
                quarantine.append(
                    quarantine_record(
                        "enrich",
                        rows["error"][i],
                        rows["original"][i],
                        event_id=rows["event_id"][i],
                        source=rows["source"][i],
                        details=details,
                        origin=origin,
                    )
                )
                continue
            doc = orjson.loads(rows["doc"][i])
            # Same id twice in a batch (a connector's at-least-once replay): the later one wins.
            docs_by_id[doc["id"]] = doc
            origin_of[doc["id"]] = (rows["topic"][i], rows["partition"][i], rows["offset"][i], rows["original"][i])
        deduplicated = (rows_in - len(quarantine)) - len(docs_by_id)
        docs = [doc for doc in docs_by_id.values() if not self.erasures.is_erased(doc)]
        erased = len(docs_by_id) - len(docs)

        gate_started = time.time()
        gate_result = None
        if self.validate and self.gate is not None and docs:
            from jobs.validation import gate_frame

            gate_result = self.gate.validate(gate_frame(docs))
            if gate_result.failures:
                keep = []
                for position, doc in enumerate(docs):
                    failed = gate_result.failures.get(position)
                    if not failed:
                        keep.append(doc)
                        continue
                    topic, partition, offset, original = origin_of[doc["id"]]
                    quarantine.append(
                        quarantine_record(
                            "validate",
                            "failed expectations: " + ", ".join(failed),
                            original,
                            event_id=doc["id"],
                            source=doc.get("source"),
                            details={"failed_expectations": failed},
                            origin=f"{topic}:{partition}:{offset}",
                        )
                    )
                docs = keep

        # Elasticsearch may be down: everything below is idempotent, so retry it whole until it works.
        from elasticsearch import ConnectionError as ESConnectionError
        from elasticsearch import ConnectionTimeout

        written = 0
        write_started = time.time()
        for attempt in Retrying(
            stop=stop_after_delay(self.retry_for_s),
            wait=wait_exponential(multiplier=0.5, max=10),
            retry=retry_if_exception_type((ESConnectionError, ConnectionTimeout)),
            before_sleep=lambda state: log.warning(
                "batch %s: Elasticsearch unreachable, waiting (%s)", batch_id, state.outcome.exception()
            ),
            reraise=True,
        ):
            with attempt:
                written, sink_failures = self._write_docs(docs, origin_of)
                all_quarantined = quarantine + sink_failures
                self._quarantine(all_quarantined)
        timings = {"enrich_ms": enriched_in_s, "gate_ms": write_started - gate_started,
                   "write_ms": time.time() - write_started}  # fmt: skip
        lag = self._lag(batch_id)
        finished = time.time()
        metrics = self._metrics(
            batch_id, started, finished, rows_in, written, len(all_quarantined), lag, deduplicated, gate_result, timings
        )
        for attempt in Retrying(
            stop=stop_after_delay(self.retry_for_s), wait=wait_exponential(multiplier=0.5, max=10),
            retry=retry_if_exception_type((ESConnectionError, ConnectionTimeout)), reraise=True,
        ):  # fmt: skip
            with attempt:
                self.es.index(index=self.settings.indices.job_metrics, id=metrics["id"], document=metrics)
        self.stats.rows_in += rows_in
        self.stats.rows_out += written
        self.stats.quarantined += len(all_quarantined)
        self.stats.deduplicated += deduplicated
        self.stats.erased += erased
        self.stats.batches += 1
        self.stats.last_lag = lag
        self.stats.batch_durations_s.append(finished - started)
        log.info(
            "batch %s: %d in, %d out, %d quarantined, %d duplicates, lag %s, %.2fs (enrich %s, gate %.2fs, "
            "write %.2fs)%s",
            batch_id, rows_in, written, len(all_quarantined), deduplicated, lag, finished - started,
            "-" if enriched_in_s is None else f"{enriched_in_s:.2f}s", timings["gate_ms"], timings["write_ms"],
            f", failed: {', '.join(gate_result.failed_expectations)}" if gate_result and not gate_result.success else "",
        )  # fmt: skip
        return metrics

    # -- writes ----------------------------------------------------------------------------------
    def _ensure_index(self, index: str) -> None:
        if index in self.known_indices:
            return
        if not self.es.indices.exists(index=index):
            response = self.es.options(ignore_status=400).indices.create(
                index=index, aliases={self.settings.indices.mentions: {}}
            )
            error = (response.body if hasattr(response, "body") else response).get("error") if response else None
            if error and error.get("type") != "resource_already_exists_exception":
                raise RuntimeError(f"cannot create index {index}: {error}")
        self.known_indices.add(index)

    def _search(self, query: dict[str, Any], source: list[str], size: int) -> list[dict[str, Any]]:
        response = self.es.options(ignore_status=404).search(
            index=self.settings.indices.mentions, query=query, source=source, size=size,
            ignore_unavailable=True, allow_no_indices=True,
        )  # fmt: skip
        return list(((response.body if hasattr(response, "body") else response).get("hits") or {}).get("hits") or [])

    def _load_brand_answers(self) -> None:
        """Read the stored brand replies (parent id → earliest answer) once per sink."""
        from elasticsearch import NotFoundError

        from ecoute.es import scan_docs

        if self._brand_answers_loaded:
            return
        query = {"bool": {"filter": [
            {"term": {"author.is_brand": True}},
            {"terms": {"kind": list(BRAND_REPLY_KINDS)}},
            {"exists": {"field": "parent_id"}},
        ]}}  # fmt: skip
        loaded = 0
        try:
            for hit in scan_docs(self.es, self.settings.indices.mentions, query, source=["parent_id", "created_at"]):
                parent, at = hit.get("parent_id"), hit.get("created_at")
                if parent and at:
                    current = self.recent_brand_answers.get(parent)
                    self.recent_brand_answers[parent] = at if current is None else min(current, at)
                    loaded += 1
                    if loaded >= RECENT_CACHE_SIZE:
                        log.warning("more than %d stored brand replies: only those are remembered", loaded)
                        break
        except NotFoundError:
            pass  # nothing stored yet
        self._brand_answers_loaded = True
        log.info("%d stored brand replies loaded", loaded)

    def _brand_answers(self, docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Mark parents answered by the brand in ``docs``; returns (update actions for parents stored
        earlier, parent id → earliest brand answer in this batch)."""
        from ecoute.events import chunked

        answers: dict[str, str] = {}
        for doc in docs:
            if (
                (doc.get("author") or {}).get("is_brand")
                and doc.get("kind") in BRAND_REPLY_KINDS
                and doc.get("parent_id")
            ):
                parent = doc["parent_id"]
                if parent not in answers or doc["created_at"] < answers[parent]:
                    answers[parent] = doc["created_at"]
        # Parents in this batch whose brand answer is already stored: every brand reply stored so
        # far is in memory (loaded from Elasticsearch when the sink starts, then kept up to date),
        # so no per-batch search over all ids is needed.
        self._load_brand_answers()
        in_batch = {doc["id"]: doc for doc in docs}
        stored = {pid: self.recent_brand_answers[pid] for pid in in_batch if pid in self.recent_brand_answers}
        for parent in {**stored, **answers}:
            earliest = min(a for a in (stored.get(parent), answers.get(parent)) if a)
            doc = in_batch.get(parent)
            if doc is not None:
                doc["answered_by_brand"] = True
                doc["brand_answered_at"] = earliest
        # Parents not in this batch: update them where they are stored (a missing one is handled
        # when it arrives, by the lookup above). Parents written moments ago may not be searchable
        # yet (refresh), so recently written ones come from memory first.
        updates = []
        found: dict[str, tuple[str, str | None]] = {}
        outside = [p for p in answers if p not in in_batch]
        for parent in outside:
            if parent in self.recent_docs:
                found[parent] = self.recent_docs[parent]
        for ids in chunked([p for p in outside if p not in found], 2000):
            for hit in self._search({"terms": {"id": ids}}, ["id", "brand_answered_at"], len(ids) * 2):
                found[hit["_id"]] = (hit["_index"], hit["_source"].get("brand_answered_at"))
        for parent, (index, current) in found.items():
            at = answers[parent] if not current else min(current, answers[parent])
            if current == at:
                continue
            updates.append(
                {
                    "_op_type": "update",
                    "_index": index,
                    "_id": parent,
                    "doc": {"answered_by_brand": True, "brand_answered_at": at},
                }
            )
        return updates, answers

    def _remember(self, doc_id: str, index: str, brand_answered_at: str | None) -> None:
        self.recent_docs[doc_id] = (index, brand_answered_at)
        self.recent_docs.move_to_end(doc_id)
        while len(self.recent_docs) > RECENT_CACHE_SIZE:
            self.recent_docs.popitem(last=False)

    def _write_docs(
        self, docs: list[dict[str, Any]], origin_of: dict[str, tuple[str, int, int, bytes]]
    ) -> tuple[int, list[dict[str, Any]]]:
        from ecoute.es import bulk_write
        from ecoute.events import month_index

        if not docs:
            return 0, []
        parent_updates, answers = self._brand_answers(docs) if self.brand_answers else ([], {})
        prefix = self.settings.indices.mentions
        for index in {month_index(prefix, doc["created_at"]) for doc in docs}:
            self._ensure_index(index)
        # A partial update with doc_as_upsert creates the doc or refreshes its fields while keeping
        # fields other stages own (e.g. `handled`), so replays and retries never erase them.
        actions = [
            {"_op_type": "update", "_index": month_index(prefix, doc["created_at"]), "_id": doc["id"],
             "doc": doc, "doc_as_upsert": True}
            for doc in docs
        ]  # fmt: skip
        result = bulk_write(self.es, actions + parent_updates, refresh=self.refresh)
        failures = []
        failed_parent_updates = 0
        for failure in result.failed:
            action = failure["action"]
            if "doc_as_upsert" not in action:
                # A parent that vanished since the lookup (erased): nothing to mark.
                failed_parent_updates += 1
                log.warning("could not mark parent %s answered: %s", action["_id"], failure.get("error"))
                continue
            topic, partition, offset, original = origin_of[action["_id"]]
            failures.append(
                quarantine_record(
                    "sink",
                    f"Elasticsearch rejected the document (status {failure.get('status')})",
                    original,
                    event_id=action["_id"],
                    source=action["doc"].get("source"),
                    details={"error": failure.get("error")},
                    origin=f"{topic}:{partition}:{offset}",
                )
            )
        # Remember only what Elasticsearch accepted: a retried batch must redo the rest.
        failed_ids = {f["action"]["_id"] for f in result.failed}
        for parent, at in answers.items():
            self.recent_brand_answers[parent] = min(at, self.recent_brand_answers.get(parent, at))
            self.recent_brand_answers.move_to_end(parent)
        while len(self.recent_brand_answers) > RECENT_CACHE_SIZE:
            self.recent_brand_answers.popitem(last=False)
        for update in parent_updates:
            if update["_id"] not in failed_ids:
                self._remember(update["_id"], update["_index"], update["doc"]["brand_answered_at"])
        rejected = {f["event_id"] for f in failures}
        for doc in docs:
            if doc["id"] not in rejected:
                self._remember(doc["id"], month_index(prefix, doc["created_at"]), doc.get("brand_answered_at"))
        written = len(docs) - len(failures)
        return written, failures

    def _quarantine(self, records: list[dict[str, Any]]) -> None:
        from ecoute.es import bulk_write, upsert_actions

        if not records:
            return
        self.producer.send_dead_letters([{k: v for k, v in r.items() if k != "id"} for r in records])
        result = bulk_write(self.es, upsert_actions(self.settings.indices.quarantine, records), refresh=self.refresh)
        if result.failed:
            # The DLQ topic already holds them; a quarantine index that refuses them is a bug to fix.
            raise RuntimeError(f"quarantine index refused {len(result.failed)} records: {result.failed[0]['error']}")

    # -- metrics ---------------------------------------------------------------------------------
    def _lag(self, batch_id: int) -> int | None:
        from ecoute.kafka import high_watermarks, make_consumer

        ends = read_batch_offsets(self.checkpoint, batch_id).get(self.settings.topics.raw)
        if not ends:
            return None
        try:
            if self._watermark_consumer is None:
                self._watermark_consumer = make_consumer(
                    self.settings, max_partition_fetch_bytes=1024, fetch_max_wait_ms=50
                )
            latest = high_watermarks(
                self.settings.topics.raw, [int(p) for p in ends], timeout_s=5, consumer=self._watermark_consumer
            )
        except Exception as exc:  # lag is informative; never fail a batch over it
            log.debug("lag unavailable: %r", exc)
            return None
        return sum(max(0, latest[int(p)] - o) for p, o in ends.items())

    def _metrics(
        self,
        batch_id: int,
        started: float,
        finished: float,
        rows_in: int,
        rows_out: int,
        quarantined: int,
        lag: int | None,
        deduplicated: int,
        gate: GateResult | None,
        timings: dict[str, float | None] | None = None,
    ) -> dict[str, Any]:
        from datetime import UTC, datetime

        def iso(ts: float) -> str:
            return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

        return {
            "id": f"{JOB_NAME}:{self.run_id}:{batch_id}",
            "job": JOB_NAME,
            "batch_id": batch_id,
            "run_id": self.run_id,
            "started_at": iso(started),
            "finished_at": iso(finished),
            "duration_ms": round((finished - started) * 1000, 1),
            # where the time went: executors (read, parse, label), GX gate, Elasticsearch writes
            **{k: None if v is None else round(v * 1000, 1) for k, v in (timings or {}).items()},
            "rows_in": rows_in,
            "rows_out": rows_out,
            "quarantined": quarantined,
            "deduplicated": deduplicated,
            "lag": lag,
            "source_format": self.stats.source_format,
            "validation_success": gate.success if gate else None,
            "expectations_evaluated": gate.evaluated if gate else 0,
            "expectations_failed": len(gate.failed_expectations) if gate else 0,
            "failed_expectations": gate.failed_expectations if gate else [],
            "expectation_results": gate.as_metrics() if gate else [],
        }


# ---------------------------------------------------------------------------------------------
# the query
# ---------------------------------------------------------------------------------------------
def spark_session(settings: Settings, app_name: str = "ecoute-enrich") -> SparkSession:
    """A local SparkSession tuned for small fast micro-batches (UI off, quiet logs)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(settings.spark_master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "WARN")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        .config("spark.sql.streaming.noDataMicroBatches.enabled", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.memory", os.environ.get("ECOUTE_SPARK_DRIVER_MEMORY", "1g"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    return spark


def _load_labeller_in_worker(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    from jobs.labeller import get_labeller

    get_labeller()
    yield from batches


def _start_worker(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield from batches


def warm_up_workers(spark: SparkSession, load_labeller: bool = True) -> float:
    """Start every Python worker the query will use (with the labeller loaded) before its first batch.

    Each task of the query holds two Python workers (the Kafka reader and the enrichment), and
    either may serve either role later; a worker that loads the labeller mid-stream stalls its
    batch for seconds (a latency spike in follow mode). Two chained Python stages on as many
    tasks as cores start exactly that pool; Spark reuses its workers afterwards. Returns seconds.
    """
    started = time.monotonic()
    tasks = spark.sparkContext.defaultParallelism
    function = _load_labeller_in_worker if load_labeller else _start_worker
    spark.range(0, tasks, 1, tasks).mapInArrow(function, "id long").mapInArrow(function, "id long").collect()
    return time.monotonic() - started


def _preload_gate(holder: dict[str, Any]) -> None:
    """Import GX and compile the suite (slow: ~10 s) while Spark starts."""
    try:
        from jobs.validation import BatchGate

        holder["gate"] = BatchGate()
    except BaseException as exc:  # even SystemExit (pyspark.sql.connect exits under `python -c`)
        holder["error"] = exc


def build_query_frame(
    spark: SparkSession,
    settings: Settings,
    max_offsets_per_trigger: int | None,
    enrich: bool = True,
    starting_offsets: str = "earliest",
) -> tuple[DataFrame, str]:
    from functools import partial

    from jobs.kafka_source import kafka_options, stream_reader

    # Twice as many pieces as cores: 3 Kafka partitions on 2 cores would otherwise leave one core
    # idle for a third of every batch.
    min_partitions = 2 * spark.sparkContext.defaultParallelism
    options = kafka_options(settings, settings.topics.raw, starting_offsets, max_offsets_per_trigger, min_partitions)
    reader, fmt = stream_reader(spark, options)
    # ... and as many tasks as cores: each task costs a fixed ~0.2 s (Python workers), so a small
    # batch runs in one wave and a big one in balanced shares.
    parallelism = spark.sparkContext.defaultParallelism
    frame = reader.load().select("topic", "partition", "offset", "timestamp", "value").coalesce(parallelism)
    if enrich:
        function = partial(enrich_partition, store_author_names=settings.store_author_names)
    else:
        function = passthrough_partition
    return frame.mapInArrow(function, ENRICHED_SCHEMA), fmt


def run_enrichment(
    settings: Settings,
    mode: Mode = "available-now",
    max_offsets_per_trigger: int | None = None,
    timeout_s: float | None = None,
    *,
    trigger_interval_s: float = 0.5,
    validate: bool = True,
    enrich: bool = True,
    checkpoint_name: str = JOB_NAME,
    refresh: bool | str = False,
    stop_event: threading.Event | None = None,
    starting_offsets: str = "earliest",
) -> EnrichStats:
    """Run the enrichment query and return what it did.

    ``available-now`` processes what the topic holds when it starts, then stops; ``follow`` runs
    until ``timeout_s`` (or ``stop_event``, SIGINT/SIGTERM). Both resume from the checkpoint under
    ``settings.checkpoints_dir / checkpoint_name``. ``enrich=False, validate=False`` is the raw
    pass-through used as the benchmark baseline. ``starting_offsets`` (earliest, latest or the
    Kafka source's JSON, e.g. ``{"ecoute.raw.v1": {"0": 1200}}``) applies only to a new checkpoint:
    with another ``checkpoint_name`` it replays from those offsets (writes are idempotent upserts).
    """
    from ecoute.es import apply_templates, make_client, wait_until_up
    from ecoute.kafka import ensure_topics

    if mode not in ("available-now", "follow"):
        raise ValueError(f"mode must be 'available-now' or 'follow', not {mode!r}")
    begun = time.monotonic()
    gate_holder: dict[str, Any] = {}
    preload = None
    if validate:
        preload = threading.Thread(target=_preload_gate, args=(gate_holder,), name="gx-preload", daemon=True)
        preload.start()
    client = make_client(settings)
    try:
        wait_until_up(client, timeout_s=120)
        apply_templates(client, settings)
    finally:
        client.close()
    ensure_topics(settings)

    spark = spark_session(settings)
    stats = EnrichStats()
    frame, stats.source_format = build_query_frame(
        spark,
        settings,
        max_offsets_per_trigger or DEFAULT_MAX_OFFSETS_PER_TRIGGER,
        enrich=enrich,
        starting_offsets=starting_offsets,
    )
    log.info(
        "Python workers started%s in %.1fs", " (labeller loaded)" if enrich else "", warm_up_workers(spark, enrich)
    )
    if preload is not None:
        preload.join()
        if "gate" not in gate_holder:
            error = gate_holder.get("error")
            raise EnrichError(f"cannot load the expectation suite (Great Expectations): {error!r}") from error
    checkpoint = settings.checkpoints_dir / checkpoint_name
    checkpoint.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    sink = MentionsSink(
        settings,
        gate_holder.get("gate"),
        checkpoint,
        stats,
        run_id,
        validate=validate,
        refresh=refresh,
        brand_answers=enrich,
    )
    # Spark's clients, GX and the sink live as long as the job: keep them out of the cyclic GC's
    # full passes, which otherwise stalled a batch ~0.3 s each (GX alone holds ~200k objects).
    gc.collect()
    gc.freeze()
    writer = (
        frame.writeStream.foreachBatch(sink)
        .option("checkpointLocation", str(checkpoint))
        .queryName(f"ecoute_{checkpoint_name}_{run_id}")
    )
    if mode == "available-now":
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{int(trigger_interval_s * 1000)} milliseconds")
    log.info("enrichment %s starting (source %s, checkpoint %s, run %s)", mode, stats.source_format, checkpoint, run_id)
    query = writer.start()
    stop = stop_event or threading.Event()
    previous_sigterm = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (Airflow, systemd, Kubernetes) stops the query cleanly, like Ctrl-C.
        previous_sigterm = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while query.isActive:
            if stop.is_set():
                log.info("stop requested: stopping (an unfinished batch is replayed on the next start)")
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            query.awaitTermination(0.5)
    except KeyboardInterrupt:
        log.info("interrupted: stopping (an unfinished batch is replayed on the next start)")
    finally:
        exception = None
        try:
            if query.isActive:
                query.stop()
            exception = query.exception()
        finally:
            sink.close()
            stats.duration_s = time.monotonic() - begun
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)
    if exception is not None:
        raise EnrichError(f"enrichment query failed: {exception}")
    log.info("enrichment %s done: %s", mode, stats.as_dict())
    return stats
