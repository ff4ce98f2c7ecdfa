"""``run_enrichment``: the enrichment query, top to bottom.

preflight → session → source → foreachBatch → trigger → stop. Each step lives in its own module:
``source`` (session, workers, Kafka), ``executor`` (label), ``gate`` (the suite on Spark), ``sink``
(per-partition writes), ``batch`` (the driver's part of a batch), ``metrics``, ``progress``.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from jobs.enrich.metrics import JOB_NAME, EnrichStats
from jobs.enrich.progress import AVAILABLE_NOW_BATCH, BacklogProgress, ProgressReport, log_report

if TYPE_CHECKING:
    from pyspark.errors import StreamingQueryException
    from pyspark.sql.streaming import StreamingQuery

    from ecoute.settings import Settings

log = logging.getLogger("ecoute.enrich")

Mode = Literal["available-now", "follow"]
DEFAULT_MAX_OFFSETS_PER_TRIGGER = 20_000
TRANSIENT_START_ERROR = "Python worker failed to connect back"
TRANSIENT_RESTARTS = 5
TRANSIENT_BACKOFF_S = (2.0, 5.0, 10.0, 20.0, 30.0)  # a load spike passes; a restart reloads nothing lost


class EnrichError(RuntimeError):
    """The enrichment query failed; the message says why. Restarting resumes from the checkpoint."""


def preflight(settings: Settings) -> None:
    """Elasticsearch up (major versions match), templates and indices in place, topics created."""
    from ecoute.es import apply_templates, brand_answers_index, make_client, wait_until_up
    from ecoute.kafka import ensure_topics

    client = make_client(settings)
    try:
        wait_until_up(client, timeout_s=120)
        apply_templates(client, settings)
        if not client.indices.exists(index=brand_answers_index(settings)):
            client.options(ignore_status=400).indices.create(index=brand_answers_index(settings))
    finally:
        client.close()
    ensure_topics(settings)


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
    progress: Callable[[ProgressReport], None] | None = None,
) -> EnrichStats:
    """Run the enrichment query and return what it did.

    ``available-now`` processes what the topic holds when it starts, then stops; ``follow`` runs
    until ``timeout_s`` (or ``stop_event``, SIGINT/SIGTERM). Both resume from the checkpoint
    ``checkpoint_name`` (under ``settings.checkpoints_uri`` or ``<state_dir>/checkpoints``).
    ``enrich=False, validate=False`` is the raw pass-through used as the benchmark baseline.
    ``starting_offsets`` (earliest, latest or JSON ``{"ecoute.raw.v1": {"0": 1200}}``) applies only
    to a new checkpoint: with another name it replays from there (writes are idempotent upserts).
    An available-now run reads its backlog in batches of ``AVAILABLE_NOW_BATCH`` records (unless
    ``max_offsets_per_trigger`` says otherwise) and reports docs done, rate and time left after each
    batch and every few seconds (jobs.enrich.progress) to ``progress``, or to the log.
    """
    from jobs.enrich.batch import BatchStep
    from jobs.enrich.source import checkpoint_location, enriched_rows, kafka_rows, spark_session, warm_up_workers
    from jobs.labeller.config import LabellerConfig

    if mode not in ("available-now", "follow"):
        raise ValueError(f"mode must be 'available-now' or 'follow', not {mode!r}")
    begun = time.monotonic()
    preflight(settings)
    spark = spark_session(settings)
    stats = EnrichStats()
    per_batch = max_offsets_per_trigger or (
        AVAILABLE_NOW_BATCH if mode == "available-now" else DEFAULT_MAX_OFFSETS_PER_TRIGGER
    )
    frame, stats.source_format = kafka_rows(spark, settings, per_batch, starting_offsets)
    # The labeller's config is read once, here: every executor of this run labels with the same
    # published centring (a newer one is picked up by the next run).
    labeller = LabellerConfig.from_settings(settings) if enrich else None
    stats.centring = labeller.centring_version if labeller else None
    rows = enriched_rows(frame, settings, labeller)
    started = warm_up_workers(spark, labeller)
    log.info(
        "Python workers started%s in %.1fs", f" (labeller loaded, {labeller.describe()})" if labeller else "", started
    )
    checkpoint = checkpoint_location(settings, checkpoint_name)
    run_id = uuid.uuid4().hex[:12]
    # In follow mode every batch refreshes the mention indices once it is written (fresh mentions
    # are searchable at once), unless its bulk writes already refresh; a backlog run leaves it to
    # Elasticsearch's periodic refresh.
    backlog = BacklogProgress(progress or log_report) if mode == "available-now" else None
    step = BatchStep(
        spark,
        settings,
        checkpoint,
        stats,
        run_id,
        validate=validate,
        refresh=refresh,
        brand_answers=enrich,
        refresh_after_batch=mode == "follow" and not refresh,
        progress=backlog,
    )
    # Spark's clients live as long as the job: keep them out of the cyclic GC's full passes.
    gc.collect()
    gc.freeze()
    writer = rows.writeStream.foreachBatch(step.run).option("checkpointLocation", checkpoint)
    writer = writer.queryName(f"ecoute_{checkpoint_name}_{run_id}")
    if mode == "available-now":
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{int(trigger_interval_s * 1000)} milliseconds")
    log.info("enrichment %s starting (source %s, checkpoint %s, run %s)", mode, stats.source_format, checkpoint, run_id)
    stop = stop_event or threading.Event()
    if backlog is not None:
        backlog.start()
    try:
        for restart in range(TRANSIENT_RESTARTS + 1):
            exception = _run_until_done(writer.start(), stop, timeout_s)
            if exception is None or TRANSIENT_START_ERROR not in str(exception) or restart == TRANSIENT_RESTARTS:
                break
            # A fresh Python worker missed Spark's fixed 10 s connect-back timeout (an overloaded host):
            # the query resumes from its checkpoint, as a restarted job would.
            pause = TRANSIENT_BACKOFF_S[min(restart, len(TRANSIENT_BACKOFF_S) - 1)]
            log.warning(
                "enrichment query stopped (%s); resuming from the checkpoint in %.0fs", TRANSIENT_START_ERROR, pause
            )
            if stop.wait(pause):
                exception = None  # asked to stop while waiting: nothing failed
                break
    finally:
        if backlog is not None:
            backlog.stop()
        step.close()
        stats.duration_s = time.monotonic() - begun
    if exception is not None:
        raise EnrichError(f"enrichment query failed: {exception}")
    log.info("enrichment %s done: %s", mode, stats.as_dict())
    return stats


def _run_until_done(
    query: StreamingQuery, stop: threading.Event, timeout_s: float | None
) -> StreamingQueryException | None:
    """Wait for the query to end (available-now), the timeout, a stop request or a signal; stop it."""
    from pyspark.errors import StreamingQueryException

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
            try:
                query.awaitTermination(0.5)  # type: ignore[arg-type]  # annotated int, takes float seconds
            except StreamingQueryException:
                break  # the query failed: its exception is returned below, so a transient one restarts it
    except KeyboardInterrupt:
        log.info("interrupted: stopping (an unfinished batch is replayed on the next start)")
    finally:
        try:
            if query.isActive:
                query.stop()
        finally:
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)
    return query.exception()
