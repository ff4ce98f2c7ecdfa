"""The jobs' commands: label, models, enrich, spikes, rollups, alerts, digest, report.

Added to the root command through the ``ecoute.commands`` entry point ``jobs``; Spark, Great
Expectations, models and pandas are imported inside the commands so `ecoute --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ecoute import cli_support
from ecoute.cli_support import console, fail, optional_day, out, parse_day, parse_time, run_view, terminal_safe


# ---------------------------------------------------------------------------------------------
# labeller (jobs/labeller/)
# ---------------------------------------------------------------------------------------------
def label_command(
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Texts labelled per batch.")] = 2000,
    check_taxonomy: Annotated[
        bool, typer.Option("--check-taxonomy", help="Only validate schemas/taxonomy.yaml and exit.")
    ] = False,
    shared_centring: Annotated[
        bool,
        typer.Option(
            "--shared-centring",
            help="Centre on the enrichment job's published per-language means (`ecoute models centring`), "
            "read-only; by default the input is centred on its own texts.",
        ),
    ] = False,
) -> None:
    """Label JSON Lines from stdin (needs `id` and `text`) → JSON Lines on stdout, one per input line, in order.

    A malformed line yields {"id": …, "error": …} on stdout and a message on stderr; the run goes on.
    """
    from jobs.labeller.cli import check_taxonomy_file, run_label

    if check_taxonomy:
        raise typer.Exit(check_taxonomy_file(console))
    raise typer.Exit(
        run_label(sys.stdin.buffer, sys.stdout.buffer, console, batch_size=batch_size, shared_centring=shared_centring)
    )


models_app = typer.Typer(help="Build the labeller's trained artefacts from installed packages (no downloads).")


@models_app.command("build")
def models_build(
    force: Annotated[bool, typer.Option("--force", help="Ship the new model even if it is worse.")] = False,
    base: Annotated[bool, typer.Option("--base", help="Rebuild the packaged model from shipped corpora.")] = False,
) -> None:
    """Retrain the labeller's heads on the shipped corpora plus every correction of the feedback index."""
    from jobs.labeller.build.commands import build_models

    raise typer.Exit(build_models(console, force=force, base=base))


@models_app.command("list")
def models_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (models and history).")] = False,
) -> None:
    """The model history: every version (packaged, built from feedback), its quality, the one in use."""
    from jobs.labeller.build.commands import list_models

    raise typer.Exit(list_models(out, as_json=as_json))


@models_app.command("rollback")
def models_rollback(
    version: Annotated[
        str | None, typer.Argument(help="A version of `ecoute models list`, or base (default: the previous one).")
    ] = None,
) -> None:
    """Put a previous model back in use; the enrichment job takes it at its next micro-batch."""
    from jobs.labeller.build.commands import rollback_model

    raise typer.Exit(rollback_model(console, version))


@models_app.command("backfill")
def models_backfill(
    days: Annotated[float, typer.Option("--days", min=0, help="Mentions of the last N days.")] = 7,
) -> None:
    """Relabel recent mentions in Elasticsearch with the newest model."""
    from jobs.labeller.build.commands import backfill

    raise typer.Exit(backfill(console, days=days))


@models_app.command("centring")
def models_centring(
    days: Annotated[float, typer.Option("--days", min=1, help="Mentions of the last N days.")] = 30,
) -> None:
    """Publish the per-language centring the enrichment labels with, from the stored mentions."""
    from jobs.labeller.build.commands import publish_centring

    raise typer.Exit(publish_centring(console, days=days))


feedback_app = typer.Typer(help="Label corrections made by people: what `ecoute models build` learns from.")


@feedback_app.command("import")
def feedback_import(
    file: Annotated[Path, typer.Argument(help='JSON Lines {"id","text","lang"?,"sentiment"?,…}; - for stdin.')],
    who: Annotated[str | None, typer.Option("--who", help="Who made the corrections (default: login).")] = None,
) -> None:
    """Store corrections in bulk; a bad line is reported with its number and skipped."""
    from jobs.labeller.build.commands import default_who, import_feedback

    raise typer.Exit(import_feedback(file, console, who=who or default_who()))


@feedback_app.command("suggest")
def feedback_suggest(
    pool: Annotated[Path, typer.Option("--pool", help='JSON Lines {"id","text",…} to choose from; - for stdin.')],
    n: Annotated[int, typer.Option("--n", min=1, help="How many mentions to choose.")] = 50,
) -> None:
    """Print the N lines of the pool the models are least sure of (diverse): the labels that teach most."""
    from jobs.labeller.cli import run_suggest

    try:
        stream = sys.stdin.buffer if str(pool) == "-" else pool.open("rb")
    except OSError as exc:
        raise fail(f"cannot read {pool}: {exc}", code=2) from None
    with stream:
        raise typer.Exit(run_suggest(stream, sys.stdout.buffer, console, n))


@feedback_app.command("export")
def feedback_export(
    alerts: Annotated[bool, typer.Option("--alerts/--no-alerts", help="Include the alert verdicts.")] = True,
) -> None:
    """Every label given (corrections, the community manager's actions, alert verdicts) as JSON Lines."""
    import orjson

    from ecoute.feedback import alert_labels, iter_corrections
    from ecoute.settings import get_settings

    settings = get_settings()
    for doc in iter_corrections(settings):
        sys.stdout.buffer.write(orjson.dumps({k: v for k, v in doc.items() if not k.startswith("_")}) + b"\n")
    if alerts:
        for doc in alert_labels(settings):
            sys.stdout.buffer.write(orjson.dumps(doc) + b"\n")
    sys.stdout.buffer.flush()


# ---------------------------------------------------------------------------------------------
# enrichment job (jobs/enrich)
# ---------------------------------------------------------------------------------------------
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
    from jobs.enrich import EnrichError, Mode, run_enrichment

    mode: Mode = "follow" if follow else "available-now"
    try:
        stats = run_enrichment(
            get_settings(),
            mode=mode,
            max_offsets_per_trigger=max_offsets_per_trigger,
            timeout_s=timeout,
            checkpoint_name=checkpoint,
            starting_offsets=starting_offsets,
            progress=lambda report: console.print(report.line(), highlight=False),  # stderr
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


def enrich_data_docs(
    sample: Annotated[int, typer.Option("--sample", min=1, help="How many stored mentions to validate.")] = 5000,
) -> None:
    """Validate a sample of stored mentions with the GX suite and build Great Expectations Data Docs."""
    from ecoute.settings import get_settings
    from jobs.enrich.validation import build_data_docs

    index = build_data_docs(get_settings(), sample_size=sample)
    console.print(f"[green]✔[/] Data Docs: {index}")


# ---------------------------------------------------------------------------------------------
# rollups, spikes, alerts, digests (jobs/ + dags/)
# ---------------------------------------------------------------------------------------------
spikes_app = typer.Typer(help="The criticism spike detector (jobs/alerts/spikes.py).")


@spikes_app.command("detect")
def spikes_detect(
    file: Annotated[str, typer.Argument(help="CSV with header 'timestamp,value' ('-' reads stdin).")],
    verbose: Annotated[bool, typer.Option("--details", help="Also print ratio, expected and severity.")] = False,
) -> None:
    """Print the timestamp of each bucket at which an alert fires (one line per alert episode)."""
    from jobs.alerts.series_csv import SeriesFormatError, read_series_csv
    from jobs.alerts.spikes import run_detector

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
                    f"severity={decision.severity} threshold={decision.threshold:.1f} fired_on={decision.fired_on} "
                    f"sustained={decision.sustained_ratio:.1f}/{decision.sustained_threshold:.1f} level={decision.level:.2f}"
                )
            print(line)


def rollups_command(
    day_from: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, UTC).")],
    day_to: Annotated[str | None, typer.Option("--to", help="Last day, inclusive (default: --from).")] = None,
) -> None:
    """Recompute the daily rollups of a range of days (safe to re-run: rows are overwritten)."""
    from ecoute.settings import get_settings
    from jobs.reporting.rollups import compute_daily_rollups

    first = parse_day(day_from, "--from")
    last = parse_day(day_to, "--to") if day_to else first
    if last < first:
        raise fail("--to is before --from", code=2)
    rows = compute_daily_rollups(get_settings(), first, last)
    console.print(f"[green]✔[/] {rows} rollup rows written for {first} → {last}")


alerts_app = typer.Typer(help="The criticism spike watch: alerts in Elasticsearch, Kafka and by email.")


@alerts_app.command("watch")
def alerts_watch(
    now: Annotated[str | None, typer.Option(help="Run as if at this time (default: now).")] = None,
    no_email: Annotated[bool, typer.Option("--no-email", help="Record alerts but send no email.")] = False,
) -> None:
    """One run of the spike watch (what the 15-minute DAG does)."""
    from ecoute.settings import get_settings
    from jobs.alerts import run_criticism_watch

    at = parse_time(now, "--now") if now else None
    alerts = run_criticism_watch(get_settings(), now=at, send_email=not no_email)
    for alert in alerts:
        sent = f"emailed {alert['email_sent_at']}" if alert.get("email_sent_at") else "not emailed"
        line = terminal_safe(f"{alert['id']}  {alert['severity']}  {alert['summary']}  ({sent})", one_line=True)
        out.print(line, markup=False, highlight=False)  # summaries name channels: the sources' text
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
        get_settings(), parse_time(start, "--from"), parse_time(end, "--to"), send_email=not no_email
    )
    for alert in alerts:
        line = terminal_safe(f"{alert['id']}  {alert['severity']}  {alert['summary']}", one_line=True)
        out.print(line, markup=False, highlight=False)
    console.print(f"[green]✔[/] {len(alerts)} alert episode(s)")


def digest_command(
    day: Annotated[str | None, typer.Option(help="Last day covered (default: yesterday, UTC).")] = None,
    weekly: Annotated[bool, typer.Option("--weekly", help="The 7 days ending with --day, vs the 7 before.")] = False,
    no_email: Annotated[bool, typer.Option("--no-email", help="Only write the HTML preview.")] = False,
) -> None:
    """Build the team digest (figures vs the previous period, chart, topics, criticism) and email it."""
    from datetime import UTC, datetime, timedelta

    from ecoute.settings import get_settings
    from jobs.reporting.digest import run_digest

    last = parse_day(day, "--day") if day else (datetime.now(UTC) - timedelta(days=1)).date()
    result = run_digest(get_settings(), last, period="weekly" if weekly else "daily", send_email=not no_email)
    subject = escape(terminal_safe(result["subject"], one_line=True))
    console.print(
        f"[green]✔[/] digest {subject!r}: preview {result['preview']}, sent={result['sent']}", highlight=False
    )


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

    from jobs.reporting.report import build_report

    if lang not in ("fr", "en"):
        raise fail(f"--lang must be fr or en, not {lang!r}", code=2)
    end = optional_day(day_to, "--to") or datetime.now(UTC).date()
    start = optional_day(day_from, "--from") or end - timedelta(days=29)
    if end < start:
        raise fail(f"--to ({end}) is before --from ({start})", code=2)
    with console.status("building the report…"):
        path = run_view(
            build_report, cli_support.views_settings(), start, end, Path(out_file), lang=lang, channel=channel
        )
    console.print(f"[green]✔[/] report {start} → {end} written to {path}")


def threats_notify_command(
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only threats posted from this UTC time (default: moderation.lookback_hours ago)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the threats that would be emailed.")] = False,
) -> None:
    """Email the moderators the threats labelled since the last run (each one once); see settings.moderation."""
    from ecoute.settings import get_settings
    from jobs.notify.threats import notify_threats

    result = notify_threats(get_settings(), since=parse_time(since, "--since") if since else None, send=not dry_run)
    for mention_id in result["ids"]:
        out.print(mention_id, markup=False, highlight=False)
    console.print(f"[green]✔[/] {result['threats']} threat(s){' emailed' if result['sent'] else ''}")


def register(app: typer.Typer) -> None:
    app.command("label")(label_command)
    app.command("enrich")(enrich_command)
    app.command("enrich-data-docs")(enrich_data_docs)
    app.command("rollups")(rollups_command)
    app.command("digest")(digest_command)
    app.command("report")(report)
    app.command("threats-notify")(threats_notify_command)
    app.add_typer(models_app, name="models")
    app.add_typer(spikes_app, name="spikes")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(feedback_app, name="feedback")
