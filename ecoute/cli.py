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


@app.command("config")
def show_config() -> None:
    """Print the effective settings (secrets masked)."""
    from ecoute.settings import get_settings

    out.print_json(json.dumps(get_settings().redacted()))


# ---------------------------------------------------------------------------------------------
# connectors (connectors/)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# labeller (jobs/labeller/)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# enrichment job (jobs/enrich)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# rollups, spikes, alerts, digests (jobs/ + dags/)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# views: queues, report, kibana (issue 8)
# ---------------------------------------------------------------------------------------------


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

