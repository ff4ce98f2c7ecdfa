"""The `ecoute` command: the single entry point of Écoute.

Heavy libraries (Spark, Airflow, Great Expectations, models) are imported inside the commands,
so `ecoute --help` stays fast. Each stage registers its commands in its own section below.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="ecoute",
    help="Écoute — social listening pipeline: connectors → Kafka → Spark enrichment → Elasticsearch → alerts.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more (DEBUG).")] = False,
) -> None:
    """Écoute — listen to everything said on a brand's pages, label it, alert on criticism spikes."""
    from ecoute.logs import configure_logging

    configure_logging("DEBUG" if verbose else None)


# ---------------------------------------------------------------------------------------------
# stack: the embedded local stack
# ---------------------------------------------------------------------------------------------
stack_app = typer.Typer(help="Start, stop and inspect the embedded stack (noida-db Kafka+ES, SMTP sink).")
app.add_typer(stack_app, name="stack")


@stack_app.command("up")
def stack_up() -> None:
    """Start noida-db and the SMTP sink, create topics, apply index templates (idempotent)."""
    from ecoute.stack import EmbeddedStack, StackError

    try:
        with console.status("starting the embedded stack…"):
            lines = EmbeddedStack().up()
    except StackError as exc:
        raise fail(str(exc)) from None
    for line in lines:
        console.print(f"[green]✔[/] {line}")


@stack_app.command("down")
def stack_down() -> None:
    """Stop only the processes `ecoute stack up` started (data is kept)."""
    from ecoute.stack import EmbeddedStack

    for line in EmbeddedStack().down():
        console.print(f"[green]✔[/] {line}")


@stack_app.command("status")
def stack_status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show each service of the embedded stack: pid, address, health."""
    from ecoute.stack import EmbeddedStack

    rows = EmbeddedStack().status()
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("service", "pid", "address", "status")
    for row in rows:
        table.add_row(str(row["service"]), str(row["pid"] or "-"), str(row["address"]), str(row["status"]))
    out.print(table)
    if any(row["status"] != "running" for row in rows):
        raise typer.Exit(3)


@stack_app.command("provision")
def stack_provision() -> None:
    """Create the topics and apply the index templates on the configured Kafka/Elasticsearch (any stack)."""
    from ecoute.settings import get_settings
    from ecoute.stack import provision

    for line in provision(get_settings()):
        console.print(f"[green]✔[/] {line}")


@app.command("config")
def show_config() -> None:
    """Print the effective settings (secrets masked)."""
    from ecoute.settings import get_settings

    out.print_json(json.dumps(get_settings().redacted()))


# ---------------------------------------------------------------------------------------------
# connectors (connectors/)
# ---------------------------------------------------------------------------------------------
connect_app = typer.Typer(
    help="Run a connector: sources → Kafka ecoute.raw.v1 (bad records → ecoute.dlq.v1), resuming from checkpoints.",
    no_args_is_help=True,
)
app.add_typer(connect_app, name="connect")


def _print_run_stats(name: str, stats: object) -> None:
    out.print(
        f"[green]✔[/] {name}: {stats.produced} produced, {stats.dead_lettered} dead-lettered, "  # type: ignore[attr-defined]
        f"{stats.skipped} skipped (already checkpointed) in {stats.duration_s:.1f}s"  # type: ignore[attr-defined]
    )


@connect_app.command("import")
def connect_import(
    path: Annotated[str, typer.Argument(help="CSV, TSV or JSONL file (optionally .gz) in the Écoute import format.")],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--mapping", "-m", help="Rename a column: 'THEIR COLUMN=field' (repeatable)."),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Source of rows without one (default 'import').")] = None,
    channel: Annotated[str | None, typer.Option(help="Channel of rows without one.")] = None,
    batch_size: Annotated[int, typer.Option(help="Records per acknowledged batch (and checkpoint).")] = 1000,
    restart: Annotated[bool, typer.Option("--restart", help="Forget this file's checkpoint and send it all again.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    workers: Annotated[
        int | None, typer.Option(help="Mapping processes (default: 1 for big files when a CPU is idle, else 0).")
    ] = None,
) -> None:
    """Import a CSV/JSONL export; re-running the same file sends only what was not acknowledged."""
    from pathlib import Path

    from kafka.errors import KafkaError

    from connectors.base import ConnectorError
    from connectors.file_import import import_file, parse_mapping
    from ecoute.kafka import DeliveryError
    from ecoute.settings import get_settings

    try:
        stats = import_file(
            Path(path), get_settings(), mapping=parse_mapping(mapping), source=source, channel=channel,
            batch_size=batch_size, progress=progress, restart=restart, workers=workers,
        )  # fmt: skip
    except ConnectorError as exc:
        raise fail(str(exc)) from None
    except (KafkaError, DeliveryError) as exc:
        raise fail(f"Kafka did not acknowledge ({exc}); run the same command again to resume") from None
    _print_run_stats(f"import {path}", stats)


def _register_polled_connector(name: str) -> None:
    def command(
        follow: Annotated[
            bool, typer.Option("--follow/--once", help="Poll every poll_interval_s until Ctrl-C, or one sweep (default).")
        ] = False,
    ) -> None:
        import signal
        import threading

        from kafka.errors import KafkaError

        from connectors import run_connector
        from connectors.base import ConnectorError
        from ecoute.kafka import DeliveryError
        from ecoute.settings import get_settings

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stats = run_connector(name, get_settings(), once=not follow, stop=stop)
        except ConnectorError as exc:
            raise fail(str(exc)) from None
        except (KafkaError, DeliveryError) as exc:
            raise fail(f"{name}: Kafka did not acknowledge ({exc}); the next run resumes from the checkpoint") from None
        except KeyboardInterrupt:
            raise fail(f"{name}: interrupted; the next run resumes from the last checkpoint", 130) from None
        _print_run_stats(name, stats)

    command.__doc__ = f"Poll {name} from its checkpoint (credentials from ECOUTE_{name.upper()}__* or Airflow connection ecoute_{name})."
    connect_app.command(name)(command)


for _connector_name in ("facebook", "instagram", "youtube", "reddit", "x", "rss"):
    _register_polled_connector(_connector_name)


@connect_app.command("webhook")
def connect_webhook(
    host: Annotated[str | None, typer.Option(help="Listen address (default ECOUTE_WEBHOOK__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default ECOUTE_WEBHOOK__PORT).")] = None,
) -> None:
    """Receive Facebook/Instagram webhooks (hub.challenge handshake, X-Hub-Signature-256 check) → Kafka."""
    from connectors.base import ConnectorError
    from connectors.webhooks import serve
    from ecoute.settings import get_settings

    try:
        serve(get_settings(), host=host, port=port)
    except ConnectorError as exc:
        raise fail(str(exc)) from None


# ---------------------------------------------------------------------------------------------
# labeller (jobs/labeller/)
# ---------------------------------------------------------------------------------------------
@app.command("label")
def label_command(
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Texts labelled per batch.")] = 2000,
    check_taxonomy: Annotated[
        bool, typer.Option("--check-taxonomy", help="Only validate schemas/taxonomy.yaml and exit.")
    ] = False,
) -> None:
    """Label JSON Lines from stdin (needs `id` and `text`) → JSON Lines on stdout, one per input line, in order.

    A malformed line yields {"id": …, "error": …} on stdout and a message on stderr; the run goes on.
    """
    from jobs.labeller.cli import check_taxonomy_file, run_label

    if check_taxonomy:
        raise typer.Exit(check_taxonomy_file(console))
    raise typer.Exit(run_label(sys.stdin.buffer, sys.stdout.buffer, console, batch_size=batch_size))


models_app = typer.Typer(help="Build the labeller's trained artefacts from installed packages (no downloads).")
app.add_typer(models_app, name="models")


@models_app.command("build")
def models_build(
    force: Annotated[bool, typer.Option("--force", help="Ship the new model even if it is worse.")] = False,
    base: Annotated[bool, typer.Option("--base", help="Rebuild the packaged model from shipped corpora.")] = False,
) -> None:
    """Retrain the labeller's heads on the shipped corpora plus every correction of the feedback index."""
    from jobs.labeller.feedback_cli import build_models

    raise typer.Exit(build_models(console, force=force, base=base))


@models_app.command("backfill")
def models_backfill(days: Annotated[float, typer.Option("--days", min=0, help="Mentions of the last N days.")] = 7) -> None:
    """Relabel recent mentions in Elasticsearch with the newest model."""
    from jobs.labeller.feedback_cli import backfill

    raise typer.Exit(backfill(console, days=days))


feedback_app = typer.Typer(help="Label corrections made by people: what `ecoute models build` learns from.")
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("import")
def feedback_import(
    file: Annotated[Path, typer.Argument(help='JSON Lines {"id","text","lang"?,"sentiment"?,…}; - for stdin.')],
    who: Annotated[str | None, typer.Option("--who", help="Who made the corrections (default: login).")] = None,
) -> None:
    """Store corrections in bulk; a bad line is reported with its number and skipped."""
    from jobs.labeller.feedback_cli import default_who, import_feedback

    raise typer.Exit(import_feedback(file, console, who=who or default_who()))



# ---------------------------------------------------------------------------------------------
# enrichment job (jobs/enrich)
# ---------------------------------------------------------------------------------------------
@app.command("enrich")
def enrich_command(
    available_now: Annotated[
        bool, typer.Option("--available-now", help="Process what the raw topic holds now, then stop (default).")
    ] = False,
    follow: Annotated[bool, typer.Option("--follow", help="Keep running: low-latency continuous enrichment.")] = False,
    max_offsets_per_trigger: Annotated[
        int | None, typer.Option("--max-offsets-per-trigger", min=1, help="Cap on records per micro-batch.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0, help="Stop after this many seconds (default: never).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's figures as JSON.")] = False,
    checkpoint: Annotated[
        str, typer.Option(help="Checkpoint name under <state_dir>/checkpoints; a new name starts a replay.")
    ] = "enrich",
    starting_offsets: Annotated[
        str,
        typer.Option(help='For a new checkpoint: earliest, latest, or JSON {"ecoute.raw.v1": {"0": 1200}}.'),
    ] = "earliest",
) -> None:
    """Enrich ecoute.raw.v1 into Elasticsearch (labeller → Great Expectations gate → upsert), resumably.

    Rejected records go to the quarantine index and the DLQ topic with their reason; per-batch
    figures go to the job-metrics index. The checkpoint lives under <state_dir>/checkpoints/enrich.
    """
    if available_now and follow:
        raise fail("choose one of --available-now and --follow", code=2)
    from ecoute.settings import get_settings
    from jobs.enrich import EnrichError, run_enrichment

    mode = "follow" if follow else "available-now"
    try:
        stats = run_enrichment(
            get_settings(),
            mode=mode,
            max_offsets_per_trigger=max_offsets_per_trigger,
            timeout_s=timeout,
            checkpoint_name=checkpoint,
            starting_offsets=starting_offsets,
        )
    except EnrichError as exc:
        raise fail(f"{exc}\nRe-run the same command to resume from the checkpoint.") from None
    if as_json:
        out.print_json(json.dumps(stats.as_dict()))
        return
    console.print(
        f"[green]✔[/] enrichment ({mode}): {stats.rows_in} read, {stats.rows_out} stored, "
        f"{stats.quarantined} quarantined, {stats.batches} batches in {stats.duration_s:.1f}s"
    )


@app.command("enrich-data-docs")
def enrich_data_docs(
    sample: Annotated[int, typer.Option("--sample", min=1, help="How many stored mentions to validate.")] = 5000,
) -> None:
    """Validate a sample of stored mentions with the GX suite and build Great Expectations Data Docs."""
    from ecoute.settings import get_settings
    from jobs.validation import build_data_docs

    index = build_data_docs(get_settings(), sample_size=sample)
    console.print(f"[green]✔[/] Data Docs: {index}")


# ---------------------------------------------------------------------------------------------
# rollups, spikes, alerts, digests (jobs/ + dags/)
# ---------------------------------------------------------------------------------------------
spikes_app = typer.Typer(help="The criticism spike detector (jobs/spikes.py).")
app.add_typer(spikes_app, name="spikes")


@spikes_app.command("detect")
def spikes_detect(
    file: Annotated[str, typer.Argument(help="CSV with header 'timestamp,value' ('-' reads stdin).")],
    verbose: Annotated[bool, typer.Option("--details", help="Also print ratio, expected and severity.")] = False,
) -> None:
    """Print the timestamp of each bucket at which an alert fires (one line per alert episode)."""
    from jobs.spikes import SeriesFormatError, read_series_csv, run_detector

    try:
        if file == "-":
            timestamps, values, bucket = read_series_csv(sys.stdin, "<stdin>")
        else:
            with open(file, encoding="utf-8", newline="") as handle:
                timestamps, values, bucket = read_series_csv(handle, file)
    except SeriesFormatError as exc:
        raise fail(str(exc), code=2) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}", code=2) from None
    for decision in run_detector(timestamps, values, bucket):
        if decision.alert:
            line = decision.timestamp.strftime("%Y-%m-%d %H:%M:%S")
            if verbose:
                line += (
                    f"  observed/expected={decision.ratio:.1f} window={decision.window_minutes}min "
                    f"severity={decision.severity} p={decision.p_value:.1e}"
                )
            print(line)


def _parse_day(value: str, option: str):  # -> date (imported lazily)
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: expected a date YYYY-MM-DD, got {value!r}", code=2) from None


def _parse_time(value: str, option: str):  # -> datetime
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"{option}: expected a time like 2026-10-20T15:00, got {value!r}", code=2) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("rollups")
def rollups_command(
    day_from: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, UTC).")],
    day_to: Annotated[str | None, typer.Option("--to", help="Last day, inclusive (default: --from).")] = None,
) -> None:
    """Recompute the daily rollups of a range of days (safe to re-run: rows are overwritten)."""
    from ecoute.settings import get_settings
    from jobs.rollups import compute_daily_rollups

    first = _parse_day(day_from, "--from")
    last = _parse_day(day_to, "--to") if day_to else first
    if last < first:
        raise fail("--to is before --from", code=2)
    rows = compute_daily_rollups(get_settings(), first, last)
    console.print(f"[green]✔[/] {rows} rollup rows written for {first} → {last}")


alerts_app = typer.Typer(help="The criticism spike watch: alerts in Elasticsearch, Kafka and by email.")
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("watch")
def alerts_watch(
    now: Annotated[str | None, typer.Option(help="Run as if at this time (default: now).")] = None,
    no_email: Annotated[bool, typer.Option("--no-email", help="Record alerts but send no email.")] = False,
) -> None:
    """One run of the spike watch (what the 15-minute DAG does)."""
    from ecoute.settings import get_settings
    from jobs.alerts import run_criticism_watch

    at = _parse_time(now, "--now") if now else None
    alerts = run_criticism_watch(get_settings(), now=at, send_email=not no_email)
    for alert in alerts:
        sent = f"emailed {alert['email_sent_at']}" if alert.get("email_sent_at") else "not emailed"
        out.print(f"{alert['id']}  {alert['severity']}  {alert['summary']}  ({sent})", markup=False, highlight=False)
    console.print(f"[green]✔[/] {len(alerts)} alert(s) opened or emailed")


@alerts_app.command("replay")
def alerts_replay(
    start: Annotated[str, typer.Option("--from", help="Start time (e.g. 2026-10-01).")],
    end: Annotated[str, typer.Option("--to", help="End time, exclusive.")],
    no_email: Annotated[bool, typer.Option("--no-email", help="Record alerts but send no email.")] = False,
) -> None:
    """Replay the spike watch over a past period in one pass (as hourly runs would have)."""
    from ecoute.settings import get_settings
    from jobs.alerts import replay_criticism_watch

    alerts = replay_criticism_watch(
        get_settings(), _parse_time(start, "--from"), _parse_time(end, "--to"), send_email=not no_email
    )
    for alert in alerts:
        out.print(f"{alert['id']}  {alert['severity']}  {alert['summary']}", markup=False, highlight=False)
    console.print(f"[green]✔[/] {len(alerts)} alert episode(s)")


@app.command("digest")
def digest_command(
    day: Annotated[str | None, typer.Option(help="Last day covered (default: yesterday, UTC).")] = None,
    weekly: Annotated[bool, typer.Option("--weekly", help="The 7 days ending with --day, vs the 7 before.")] = False,
    no_email: Annotated[bool, typer.Option("--no-email", help="Only write the HTML preview.")] = False,
) -> None:
    """Build the team digest (figures vs the previous period, chart, topics, criticism) and email it."""
    from datetime import UTC, datetime, timedelta

    from ecoute.settings import get_settings
    from jobs.digest import run_digest

    last = _parse_day(day, "--day") if day else (datetime.now(UTC) - timedelta(days=1)).date()
    result = run_digest(get_settings(), last, period="weekly" if weekly else "daily", send_email=not no_email)
    console.print(f"[green]✔[/] digest {result['subject']!r}: preview {result['preview']}, sent={result['sent']}")



# ---------------------------------------------------------------------------------------------
# views: queues, report, kibana (issue 8)
# ---------------------------------------------------------------------------------------------
queue_app = typer.Typer(help="The community manager's queues: moderate, answer, welcome; mark items done.")
app.add_typer(queue_app, name="queue")
kibana_app = typer.Typer(help="Kibana saved objects (data views, dashboard, queue searches).")
app.add_typer(kibana_app, name="kibana")


def _views_day(value: str | None, option: str):  # -> date | None (datetime imported lazily)
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: expected a date YYYY-MM-DD, got {value!r}", code=2) from None


def _views_settings():  # -> Settings
    from ecoute.settings import get_settings

    return get_settings()


def _views_run(action, *args, **kwargs):  # -> whatever the view returns
    """Run a view; an unreachable or failing Elasticsearch becomes one clear line, not a traceback."""
    from elasticsearch import ApiError, TransportError

    try:
        return action(*args, **kwargs)
    except TransportError as exc:
        raise fail(f"cannot reach Elasticsearch at {_views_settings().es.url} ({type(exc).__name__})") from None
    except ApiError as exc:
        raise fail(f"Elasticsearch refused the request ({exc.meta.status}): {exc.message}") from None


def _print_queue(rows: list[dict], title: str, as_json: bool, columns: list[tuple[str, str]]) -> None:
    if as_json:  # plain stdout: rich would wrap long strings
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str, indent=1) + "\n")
        return
    from rich.markup import escape

    table = Table(title=f"{title} ({len(rows)})", show_lines=True)
    for header, _ in columns:  # fold, never ellipsize: the id is what `ecoute queue done` needs
        table.add_column(header, overflow="fold", min_width=len(header) if header != "text" else 20)
    for row in rows:
        cells = []
        for _, key in columns:
            value = row.get(key)
            if key == "context":
                parts = []
                if row.get("post"):
                    parts.append(f"[dim]post:[/] {escape(row['post']['text'][:100])}")
                if row.get("parent"):
                    parts.append(f"[dim]↳ {escape(row['parent']['author'])}:[/] {escape(row['parent']['text'][:100])}")
                cells.append("\n".join(parts) or "-")
            elif key == "text":
                cells.append(escape(str(value or ""))[:280])
            elif isinstance(value, bool):
                cells.append("✔" if value else "")
            else:
                cells.append(escape("" if value is None else str(value)))
        table.add_row(*cells)
    out.print(table)


@queue_app.command("moderate")
def queue_moderate(
    limit: Annotated[int, typer.Option(help="How many items.")] = 50,
    channel: Annotated[str | None, typer.Option(help="Only this channel, e.g. facebook:maison-aurore.")] = None,
    days: Annotated[int | None, typer.Option(help="Only items of the last N days.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False,
) -> None:
    """Toxic or shocking comments not handled yet, newest first."""
    from ecoute.views.queues import moderate_queue, queue_since

    rows = _views_run(moderate_queue, _views_settings(), limit=limit, channel=channel, since=queue_since(days))
    columns = [("id", "id"), ("when (UTC)", "created_at"), ("author", "author"), ("text", "text"),
               ("score", "score"), ("link", "url")]  # fmt: skip
    _print_queue(rows, "to moderate", as_json, columns)


@queue_app.command("answer")
def queue_answer(
    limit: Annotated[int, typer.Option(help="How many items.")] = 50,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    days: Annotated[int | None, typer.Option(help="Only items of the last N days.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False,
) -> None:
    """Criticism without a brand reply: constructive first, then oldest first, with the thread context."""
    from ecoute.views.queues import answer_queue, queue_since

    rows = _views_run(answer_queue, _views_settings(), limit=limit, channel=channel, since=queue_since(days))
    columns = [("id", "id"), ("constructive", "constructive"), ("when (UTC)", "created_at"), ("author", "author"),
               ("text", "text"), ("context", "context"), ("link", "url")]  # fmt: skip
    _print_queue(rows, "to answer", as_json, columns)


@queue_app.command("welcome")
def queue_welcome(
    day: Annotated[str | None, typer.Option(help="UTC day YYYY-MM-DD (default: today).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False,
) -> None:
    """First-time commenters of the day, so they can be welcomed."""
    from ecoute.views.queues import welcome_queue

    rows = _views_run(welcome_queue, _views_settings(), day=_views_day(day, "--day"), channel=channel)
    columns = [("id", "id"), ("when (UTC)", "created_at"), ("author", "author"), ("items today", "items_today"),
               ("text", "text"), ("link", "url")]  # fmt: skip
    _print_queue(rows, "new members", as_json, columns)


@queue_app.command("done")
def queue_done(
    ids: Annotated[list[str], typer.Argument(help="Event ids (e.g. facebook:123_456), as the queues show them.")],
    undo: Annotated[bool, typer.Option("--undo", help="Put the items back in their queue.")] = False,
) -> None:
    """Mark items handled (stored in Elasticsearch: handled, handled_at)."""
    from ecoute.views.queues import UnknownItems, mark_handled

    try:
        done = _views_run(mark_handled, _views_settings(), ids, handled=not undo)
    except UnknownItems as exc:
        raise fail(str(exc)) from None
    for event_id in done:
        console.print(f"[green]✔[/] {event_id} {'back in its queue' if undo else 'handled'}")


@app.command("report")
def report(
    out_file: Annotated[str, typer.Option("--out", help="Where to write the HTML report.")] = "report.html",
    day_from: Annotated[
        str | None, typer.Option("--from", help="First UTC day (default: 29 days before --to).")
    ] = None,
    day_to: Annotated[str | None, typer.Option("--to", help="Last UTC day, inclusive (default: today).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    lang: Annotated[str, typer.Option(help="Report language: fr or en.")] = "fr",
) -> None:
    """Build a self-contained HTML report (opens offline) from Elasticsearch."""
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from ecoute.views.report import build_report

    if lang not in ("fr", "en"):
        raise fail(f"--lang must be fr or en, not {lang!r}", code=2)
    end = _views_day(day_to, "--to") or datetime.now(UTC).date()
    start = _views_day(day_from, "--from") or end - timedelta(days=29)
    if end < start:
        raise fail(f"--to ({end}) is before --from ({start})", code=2)
    with console.status("building the report…"):
        path = _views_run(build_report, _views_settings(), start, end, Path(out_file), lang=lang, channel=channel)
    console.print(f"[green]✔[/] report {start} → {end} written to {path}")


@kibana_app.command("import")
def kibana_import(
    url: Annotated[
        str | None, typer.Option(help="Kibana URL (default: ECOUTE_KIBANA_URL or alerts.kibana_url).")
    ] = None,
    space: Annotated[str | None, typer.Option(help="Kibana space (default: the default space).")] = None,
    file: Annotated[
        str | None, typer.Option(help="NDJSON to import (default: built for the configured indices).")
    ] = None,
) -> None:
    """Load the saved objects into Kibana (POST /api/saved_objects/_import?overwrite=true)."""
    from pathlib import Path

    from ecoute.views.kibana import KibanaImportError, import_saved_objects

    ndjson = Path(file).read_text(encoding="utf-8") if file else None
    try:
        answer = import_saved_objects(_views_settings(), ndjson=ndjson, url=url, space=space)
    except KibanaImportError as exc:
        raise fail(str(exc)) from None
    console.print(f"[green]✔[/] Kibana imported {answer.get('successCount', 0)} saved objects")


@kibana_app.command("export")
def kibana_export(
    out_file: Annotated[str | None, typer.Option("--out", help="Where to write the NDJSON.")] = None,
) -> None:
    """Write the saved objects for the configured index names as NDJSON."""
    from pathlib import Path

    from ecoute.views.kibana import DEFAULT_FILE, export_saved_objects

    path = export_saved_objects(_views_settings(), Path(out_file) if out_file else DEFAULT_FILE)
    console.print(f"[green]✔[/] saved objects written to {path}")



# ---------------------------------------------------------------------------------------------
# personal data: erasure and retention (ecoute/privacy.py)
# ---------------------------------------------------------------------------------------------
@app.command("erase")
def erase(
    author: Annotated[str, typer.Option("--author", help="Pseudonymous author id (a_…), or the platform's id with --native.")],
    native: Annotated[bool, typer.Option("--native", help="AUTHOR is the platform's own id; it is hashed with the pseudonym key.")] = False,
    reason: Annotated[str, typer.Option(help="Why (e.g. the request reference); stored with the tombstone.")] = "",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase an author's documents from every index and tombstone them so re-imports stay out (GDPR)."""
    from ecoute.privacy import author_key, erase_author
    from ecoute.settings import get_settings

    settings = get_settings()
    try:
        author_id = author_key(settings, author, native=native)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    if not yes and not typer.confirm(f"Erase every document of author {author_id}?"):
        raise typer.Exit(1)
    result = erase_author(settings, author_id, reason=reason)
    console.print(
        f"[green]✔[/] author {result.author_id}: {result.mentions_deleted} mentions and {result.quarantine_deleted} "
        f"quarantined records deleted, {result.alerts_scrubbed} alerts scrubbed; tombstone written"
    )


@app.command("retention")
def retention(
    days: Annotated[int | None, typer.Option(help="Keep this many days (default: ECOUTE_RETENTION_DAYS).")] = None,
) -> None:
    """Delete mentions and quarantined records older than the retention period."""
    from ecoute.privacy import purge_older_than
    from ecoute.settings import get_settings

    try:
        result = purge_older_than(get_settings(), days)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    console.print(
        f"[green]✔[/] before {result.cutoff}: {result.mentions_deleted} mentions and {result.quarantine_deleted} "
        f"quarantined records deleted; indices dropped: {', '.join(result.indices_dropped) or 'none'}"
    )


# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------
@app.command("demo")
def demo(
    sample: Annotated[
        Path | None, typer.Option(help="Import file (Écoute import format); default: the bundled sample month.")
    ] = None,
) -> None:
    """Run the whole pipeline on the embedded stack with the bundled sample month, then summarise."""
    from ecoute.demo import SAMPLE, print_summary, run_demo
    from ecoute.settings import get_settings
    from ecoute.stack import StackError

    settings = get_settings()
    try:
        summary = run_demo(settings, console, sample or SAMPLE)
    except StackError as exc:
        raise fail(str(exc)) from None
    print_summary(summary, settings, out)


def run() -> None:
    """The `ecoute` entry point: environment problems end in one clear line, not a traceback."""
    try:
        app()
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        console.print(f"[bold red]error:[/] {exc.strerror or exc}{where}")
        console.print("Check the path and free space, or point ECOUTE_STATE_DIR to a writable folder.")
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()

