"""`ecoute demo`: the whole pipeline on the embedded stack with the bundled sample month.

The demo lives beside its data (a checkout's infra/demo/) and sits on top of the house: it runs the
connectors' import, the jobs and the views in turn. It registers its command through the
``ecoute.commands`` entry point ``demo``; an installed wheel has no demo (and no sample month).

stack up → file import into Kafka → Spark enrichment (available-now) with the GX gate → Elasticsearch
→ daily rollups → criticism spike watch replayed over the month (alert email to the outbox) → report.
Every stage is the real one; re-running the demo is safe (checkpoints and idempotent upserts).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ecoute.settings import Settings

SAMPLE = Path(__file__).resolve().parent / "ecoute-demo-2026-10.jsonl.gz"
MONTH_START = date(2026, 10, 1)
MONTH_END = date(2026, 10, 31)


@dataclass
class DemoSummary:
    stages: list[tuple[str, str, float]] = field(default_factory=list)  # (stage, figures, seconds)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    emails: list[Path] = field(default_factory=list)
    report: Path | None = None
    mentions: int = 0
    rollups: int = 0
    wall_s: float = 0.0


def run_demo(settings: Settings, console: Console, sample: Path = SAMPLE) -> DemoSummary:
    from connectors.file_import import import_file
    from ecoute import es
    from ecoute.stack import EmbeddedStack
    from jobs.alerts import replay_criticism_watch
    from jobs.enrich import run_enrichment
    from jobs.reporting.rollups import compute_daily_rollups

    # Airflow's SMTP code path sends the alert; keep its home inside the state folder, not in ~/airflow.
    os.environ.setdefault("AIRFLOW_HOME", str(settings.state_dir / "airflow"))
    summary = DemoSummary()
    started = time.monotonic()

    def stage(name: str):
        console.rule(f"[bold]{name}")
        return time.monotonic()

    t = stage("1/6 embedded stack")
    for line in EmbeddedStack(settings).up():
        console.print(f"[green]✔[/] {line}")
    summary.stages.append(("stack up", "noida-db (Kafka + ES) and SMTP sink on 127.0.0.1", time.monotonic() - t))

    t = stage(f"2/6 import {sample.name} into Kafka ({settings.topics.raw})")
    imported = import_file(sample, settings, progress=True)
    summary.stages.append(
        (
            "import → Kafka",
            f"{imported.produced} produced, {imported.dead_lettered} to DLQ, {imported.skipped} already imported",
            time.monotonic() - t,
        )
    )

    t = stage("3/6 Spark enrichment + Great Expectations gate → Elasticsearch")
    # docs done, rate and time left, after each batch and every few seconds (jobs.enrich.progress)
    enriched = run_enrichment(settings, mode="available-now", progress=lambda p: console.print(f"  {p.line()}"))
    summary.stages.append(
        (
            "enrich → ES",
            f"{enriched.rows_in} read, {enriched.rows_out} upserted, {enriched.quarantined} quarantined, "
            f"{enriched.batches} batches",
            time.monotonic() - t,
        )
    )
    client = es.make_client(settings)
    client.indices.refresh(index=settings.indices.mentions)
    summary.mentions = es.count(client, settings.indices.mentions)

    t = stage("4/6 daily rollups")
    summary.rollups = compute_daily_rollups(settings, MONTH_START, MONTH_END)
    summary.stages.append(
        ("daily rollups", f"{summary.rollups} rows in {settings.indices.rollups_daily}", time.monotonic() - t)
    )

    t = stage("5/6 criticism spike watch, replayed hour by hour over the month")
    before = set(settings.outbox_dir.glob("*.eml")) if settings.outbox_dir.exists() else set()
    summary.alerts = replay_criticism_watch(
        settings,
        datetime.combine(MONTH_START, datetime.min.time(), UTC),
        datetime.combine(MONTH_END + timedelta(days=1), datetime.min.time(), UTC),
    )
    _wait_for_outbox(settings, before, expect=bool(summary.alerts))
    summary.emails = sorted(set(settings.outbox_dir.glob("*.eml")) - before)
    days = Counter(str(a.get("episode_start") or a.get("bucket_start"))[:10] for a in summary.alerts)
    summary.stages.append(
        (
            "spike watch",
            f"{len(summary.alerts)} alert(s) on {', '.join(sorted(days)) or 'no day'}; {len(summary.emails)} email(s) sent",
            time.monotonic() - t,
        )
    )

    t = stage("6/6 report")
    try:
        from jobs.reporting.report import build_report
    except ImportError:  # the report arrives with the views; the pipeline itself is complete without it
        build_report = None
    if build_report is not None:
        summary.report = build_report(settings, MONTH_START, MONTH_END, settings.state_dir / "report-2026-10.html")
        summary.stages.append(("report", str(summary.report), time.monotonic() - t))

    summary.wall_s = time.monotonic() - started
    return summary


def _wait_for_outbox(settings: Settings, before: set[Path], expect: bool, timeout_s: float = 10.0) -> None:
    """The SMTP sink writes files asynchronously; give it a moment so the summary is exact."""
    if not expect:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if set(settings.outbox_dir.glob("*.eml")) - before:
            return
        time.sleep(0.1)


def print_summary(summary: DemoSummary, settings: Settings, console: Console) -> None:
    table = Table(title=f"Écoute demo — done in {summary.wall_s:.0f} s", show_lines=False)
    table.add_column("stage")
    table.add_column("result")
    table.add_column("time", justify="right")
    for name, figures, seconds in summary.stages:
        table.add_row(name, figures, f"{seconds:.1f} s")
    console.print(table)
    es_url = settings.es.url
    console.print(
        "\n[bold]Where to look[/]\n"
        f"  • Mentions in Elasticsearch: {summary.mentions} documents in alias [cyan]{settings.indices.mentions}[/] ({es_url})\n"
        f"  • Alert emails: {settings.outbox_dir} (.eml, and .html to open in a browser)\n"
        + (f"  • Report: {summary.report}\n" if summary.report else "")
        + f"  • Stack: `ecoute stack status`, logs in {settings.state_dir / 'logs'}; stop with `ecoute stack down`\n"
        "\n[bold]Example queries[/]\n"
        f"  curl -s '{es_url}/{settings.indices.mentions}/_count?q=criticism:true'\n"
        f"  curl -s -H 'Content-Type: application/json' '{es_url}/{settings.indices.mentions}/_search' -d "
        '\'{"size":0,"query":{"term":{"criticism":true}},'
        '"aggs":{"per_day":{"date_histogram":{"field":"created_at","calendar_interval":"day"}}}}\'\n'
        f"  curl -s '{es_url}/{settings.indices.rollups_daily}/_search?q=topic:_all&sort=day:asc&size=31'\n"
        f"  curl -s '{es_url}/{settings.indices.alerts}/_search?pretty'"
    )


def demo(
    sample: Annotated[
        Path | None, typer.Option(help="Import file (Écoute import format); default: the bundled sample month.")
    ] = None,
) -> None:
    """Run the whole pipeline on the embedded stack with the bundled sample month, then summarise."""
    from ecoute import preflight
    from ecoute.cli_support import console, fail, out
    from ecoute.settings import get_settings
    from ecoute.stack import StackError

    preflight.set_fail_fast(False)  # the demo waits for the stack it starts
    settings = get_settings()
    try:
        summary = run_demo(settings, console, sample or SAMPLE)
    except StackError as exc:
        raise fail(str(exc)) from None
    print_summary(summary, settings, out)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
