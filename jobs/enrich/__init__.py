"""The enrichment job: Kafka ``ecoute.raw.v1`` → labeller → Great Expectations gate → Elasticsearch.

Read it in this order (one role per module):

- ``job``      ``run_enrichment``: preflight → session → source → foreachBatch → trigger → stop
- ``source``   Spark session, Python-worker warm-up, Kafka source (built-in ``kafka`` or ours)
- ``executor`` per record: decode → validate raw → label → build document → validate labels
- ``rows``     the one Arrow schema of executor rows, and ``Rejected``
- ``gate``     the suite on Spark: dedupe, erased authors, failed expectations per row
- ``sink``     the writer, per partition on the executors: upserts and dead letters (one retry policy)
- ``answers``  the brand-answers step that follows each partition's writes: record, look up, mark
- ``batch``    the driver's part of a batch: plan, run (writer then answers per partition), counts, metrics
- ``metrics``  run totals, the job-metrics document, the lag from the checkpoint

Executors label, validate and write their own partitions; the driver receives counts only and
Spark commits a batch's offsets after every partition's writes succeeded or were quarantined.
Every write is an idempotent upsert by event id, so a replayed batch changes nothing:
exactly-once in Elasticsearch. ``run_enrichment`` is the entry point of ``ecoute enrich``, the demo
and the Airflow DAG.
"""

from jobs.enrich.executor import enriched_doc, label_errors, parse_raw
from jobs.enrich.job import DEFAULT_MAX_OFFSETS_PER_TRIGGER, EnrichError, Mode, run_enrichment
from jobs.enrich.metrics import JOB_NAME, EnrichStats, read_batch_offsets

__all__ = [
    "DEFAULT_MAX_OFFSETS_PER_TRIGGER",
    "JOB_NAME",
    "EnrichError",
    "EnrichStats",
    "Mode",
    "enriched_doc",
    "label_errors",
    "parse_raw",
    "read_batch_offsets",
    "run_enrichment",
]
