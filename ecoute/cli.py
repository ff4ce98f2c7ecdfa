"""The `ecoute` command: the single entry point of Écoute.

This root holds the platform's own commands (stack, config, erase, retention, …) and composes the
stages' commands without importing them: every package that declares an ``ecoute.commands`` entry
point (pyproject.toml) gets ``register(app)`` called at start. Heavy libraries (Spark, Airflow,
Great Expectations, models) are imported inside the commands, so `ecoute --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ecoute import cli_support
from ecoute.cli_support import console, fail, optional_day, out, run_view, terminal_safe

app = typer.Typer(
    name="ecoute",
    help="Écoute — social listening pipeline: connectors → Kafka → Spark enrichment → Elasticsearch → alerts.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
_verbose = False  # --verbose, set by the callback (an error before it runs gets no traceback)


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log more (DEBUG), and tracebacks on errors.")
    ] = False,
) -> None:
    """Écoute — listen to everything said on a brand's pages, label it, alert on criticism spikes."""
    global _verbose
    from ecoute import preflight
    from ecoute.logs import configure_logging

    _verbose = verbose
    configure_logging("DEBUG" if verbose else None, quiet_libraries=not verbose)
    preflight.set_fail_fast(True)  # `stack up` and `demo` turn it off: they wait for what they start
    ctx.call_on_close(lambda: preflight.set_fail_fast(False))  # in-process callers (tests) get the default back
    _check_pseudonym_key(ctx.invoked_subcommand)


# Commands that pseudonymise authors' ids as they go: they refuse the public default key off the embedded stack.
_PSEUDONYMISING = ("connect",)


def _check_pseudonym_key(command: str | None) -> None:
    from ecoute.settings import get_settings

    problem = get_settings().pseudonym_key_problem()
    if problem is None:
        return
    if command in _PSEUDONYMISING:
        raise fail(f"{problem}; `ecoute {command}` refuses to start with it", code=2)
    console.print(f"[bold yellow]warning:[/] {problem}", soft_wrap=True, highlight=False)


# ---------------------------------------------------------------------------------------------
# stack: the embedded local stack
# ---------------------------------------------------------------------------------------------
stack_app = typer.Typer(help="Start, stop and inspect the embedded stack (noida-db Kafka+ES, SMTP sink).")
app.add_typer(stack_app, name="stack")


@stack_app.command("up")
def stack_up() -> None:
    """Start noida-db and the SMTP sink, create topics, apply index templates (idempotent)."""
    from ecoute import preflight
    from ecoute.stack import EmbeddedStack, StackError

    preflight.set_fail_fast(False)
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
# views: queues, report, kibana (issue 8)
# ---------------------------------------------------------------------------------------------
queue_app = typer.Typer(help="The community manager's queues: moderate, answer, welcome; mark items done.")
app.add_typer(queue_app, name="queue")
kibana_app = typer.Typer(help="Kibana saved objects (data views, dashboard, queue searches).")
app.add_typer(kibana_app, name="kibana")


def _print_queue(rows: list[dict], title: str, as_json: bool, columns: list[tuple[str, str]]) -> None:
    if as_json:  # plain stdout: rich would wrap long strings; JSON escapes control characters itself
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str, indent=1) + "\n")
        return

    def cell(value: object, limit: int | None = None) -> str:
        """Texts and names are the commenters': no markup, no terminal escape sequences."""
        text = terminal_safe("" if value is None else value)
        return escape(text[:limit] if limit else text)

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
                    parts.append(f"[dim]post:[/] {cell(row['post']['text'], 100)}")
                if row.get("parent"):
                    parts.append(f"[dim]↳ {cell(row['parent']['author'])}:[/] {cell(row['parent']['text'], 100)}")
                cells.append("\n".join(parts) or "-")
            elif key == "text":
                cells.append(cell(value, 280))
            elif isinstance(value, bool):
                cells.append("✔" if value else "")
            elif isinstance(value, list):
                cells.append(cell(", ".join(map(str, value))))
            else:
                cells.append(cell(value))
        table.add_row(*cells)
    out.print(table, highlight=False)


@queue_app.command("moderate")
def queue_moderate(
    limit: Annotated[int, typer.Option(min=1, help="How many items.")] = 50,
    channel: Annotated[str | None, typer.Option(help="Only this channel, e.g. facebook:maison-aurore.")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Only items of the last N days.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False,
) -> None:
    """Toxic or shocking comments not handled yet: threats first, counter-speech to review last."""
    from ecoute.views.queues import moderate_queue, queue_since

    rows = run_view(moderate_queue, cli_support.views_settings(), limit=limit, channel=channel, since=queue_since(days))
    columns = [
        ("id", "id"),
        ("when (UTC)", "created_at"),
        ("author", "author"),
        ("text", "text"),
        ("score", "score"),
        ("categories", "categories"),
        ("review", "review"),
        ("link", "url"),
    ]
    _print_queue(rows, "to moderate", as_json, columns)


@queue_app.command("answer")
def queue_answer(
    limit: Annotated[int, typer.Option(min=1, help="How many items.")] = 50,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Only items of the last N days.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False,
) -> None:
    """Criticism without a brand reply: waiting then stale; constructive first; reach × a capped wait."""
    from ecoute.views.queues import answer_queue, queue_since

    rows = run_view(answer_queue, cli_support.views_settings(), limit=limit, channel=channel, since=queue_since(days))
    columns = [
        ("id", "id"),
        ("constructive", "constructive"),
        ("when (UTC)", "created_at"),
        ("author", "author"),
        ("text", "text"),
        ("why", "reason"),
        ("context", "context"),
        ("link", "url"),
    ]
    _print_queue(rows, "to answer", as_json, columns)


@queue_app.command("questions")
def queue_questions(
    limit: Annotated[int, typer.Option(min=1, help="How many items.")] = 50,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Only items of the last N days.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False,
) -> None:
    """Members' questions without a brand reply: newest first, those the community answered last."""
    from ecoute.views.queues import questions_queue, queue_since

    rows = run_view(
        questions_queue, cli_support.views_settings(), limit=limit, channel=channel, since=queue_since(days)
    )
    columns = [
        ("id", "id"),
        ("when (UTC)", "created_at"),
        ("author", "author"),
        ("text", "text"),
        ("why", "reason"),
        ("link", "url"),
    ]
    _print_queue(rows, "questions to answer", as_json, columns)


@queue_app.command("welcome")
def queue_welcome(
    day: Annotated[str | None, typer.Option(help="UTC day YYYY-MM-DD (default: today).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False,
) -> None:
    """First-time commenters of the day, so they can be welcomed."""
    from ecoute.views.queues import welcome_queue

    rows = run_view(welcome_queue, cli_support.views_settings(), day=optional_day(day, "--day"), channel=channel)
    columns = [
        ("id", "id"),
        ("when (UTC)", "created_at"),
        ("author", "author"),
        ("items today", "items_today"),
        ("text", "text"),
        ("link", "url"),
    ]
    _print_queue(rows, "new members", as_json, columns)


@queue_app.command("done")
def queue_done(
    ids: Annotated[list[str], typer.Argument(help="Event ids (e.g. facebook:123_456), as the queues show them.")],
    undo: Annotated[bool, typer.Option("--undo", help="Put the items back in their queue.")] = False,
) -> None:
    """Mark items handled (stored in Elasticsearch: handled, handled_at)."""
    from ecoute.views.queues import UnknownItems, mark_handled

    try:
        done = run_view(mark_handled, cli_support.views_settings(), ids, handled=not undo)
    except UnknownItems as exc:
        raise fail(str(exc)) from None
    for event_id in done:
        line = f"{terminal_safe(event_id, one_line=True)} {'back in its queue' if undo else 'handled'}"
        console.print(f"[green]✔[/] {escape(line)}", highlight=False)


@kibana_app.command("import")
def kibana_import(
    url: Annotated[
        str | None, typer.Option(help="Kibana URL (default: ECOUTE_KIBANA__URL or alerts.kibana_url).")
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
        answer = import_saved_objects(cli_support.views_settings(), ndjson=ndjson, url=url, space=space)
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

    path = export_saved_objects(cli_support.views_settings(), Path(out_file) if out_file else DEFAULT_FILE)
    console.print(f"[green]✔[/] saved objects written to {path}")


# ---------------------------------------------------------------------------------------------
# personal data: erasure and retention (ecoute/privacy.py)
# ---------------------------------------------------------------------------------------------
@app.command("erase")
def erase(
    author: Annotated[
        str, typer.Option("--author", help="Pseudonymous author id (a_…), or the platform's id with --native.")
    ],
    native: Annotated[
        bool, typer.Option("--native", help="AUTHOR is the platform's own id; it is hashed with the pseudonym key.")
    ] = False,
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
    erased = result.mentions_deleted + result.quarantine_deleted
    console.print(
        f"[green]✔[/] author {result.author_id}: {erased} document(s) erased ({result.mentions_deleted} mentions, "
        f"{result.quarantine_deleted} quarantined records, {result.labels_deleted} labels), "
        f"{result.alerts_scrubbed} alerts scrubbed; tombstone written"
    )


@app.command("retention")
def retention(
    days: Annotated[
        int | None, typer.Option(min=1, help="Keep this many days (default: ECOUTE_RETENTION_DAYS).")
    ] = None,
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


def add_stage_commands(root: typer.Typer) -> list[str]:
    """Let each installed stage add its commands (entry points ``ecoute.commands``); returns their names.

    A stage whose package is absent (the demo lives in a checkout, not in the wheel) is skipped.
    """
    from importlib.metadata import entry_points

    added = []
    for entry in sorted(entry_points(group="ecoute.commands"), key=lambda e: e.name):
        try:
            register = entry.load()
        except ModuleNotFoundError as exc:
            if exc.name and entry.value.startswith(exc.name.split(".")[0]):
                continue
            raise
        register(root)
        added.append(entry.name)
    return added


add_stage_commands(app)


def _error_line(exc: BaseException) -> str:
    """One line for an error no command handled: an unreachable service names itself and how to start it."""
    from ecoute import preflight

    try:
        from ecoute.settings import get_settings

        settings = get_settings()
    except Exception:  # the settings themselves may be what is broken
        settings = None
    failure = preflight.describe(exc, settings)
    if failure is not None:
        return failure.line
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return (
            f"{exc.strerror or exc}{where}; check the path and free space, "
            "or point ECOUTE_STATE_DIR to a writable folder"
        )
    message = " ".join(str(exc).split())[:500] or "(no message)"
    return f"{type(exc).__name__}: {message} (run `ecoute -v …` for the traceback)"


def run() -> None:
    """The `ecoute` entry point: problems end in one clear line (the traceback only with -v)."""
    try:
        app()
    except KeyboardInterrupt:
        console.print("[bold red]interrupted[/]")
        sys.exit(130)
    except Exception as exc:  # the last line of defence of every command
        if _verbose:
            console.print_exception(show_locals=False)
        line = terminal_safe(_error_line(exc), one_line=True)
        console.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True, highlight=False)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()
