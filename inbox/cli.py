"""`ecoute inbox …`: serve the web inbox, manage its users."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="The community manager's web inbox: queues, threads, actions on the platforms.", no_args_is_help=True,
    add_completion=False,
)
user_app = typer.Typer(help="People who may log in to the inbox.", no_args_is_help=True)
app.add_typer(user_app, name="user")
console = Console(stderr=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Serve the inbox (log in with a user made by `ecoute inbox user add`)."""
    import uvicorn

    from ecoute.settings import get_settings
    from inbox.app import create_app

    settings = get_settings()
    application = create_app(settings)
    console.print(f"[green]✔[/] inbox on http://{host}:{port} (Elasticsearch {settings.es.url})")
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=False)


@app.command("rules-run")
def rules_run(
    hours: Annotated[int, typer.Option(min=1, help="Look at mentions of the last HOURS not handled yet.")] = 1,
) -> None:
    """Apply every enabled moderation rule now (schedule it, e.g. every 15 minutes)."""
    from ecoute.settings import get_settings
    from inbox import rules
    from inbox.actions import Services

    services = Services.create(get_settings())
    services.store.ensure()
    for rule_id, result in rules.run_enabled(services, hours=hours).items():
        console.print(f"[green]✔[/] rule {rule_id}: {result['matched']} matched, {result['failed']} failed")


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise typer.BadParameter("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (what they type at login).")],
    role: Annotated[str, typer.Option(help="viewer (reads), moderator (acts), admin (also rules, saved replies).")],
) -> None:
    """Create a user or change their password and role; the password is read from stdin."""
    from ecoute.settings import get_settings
    from inbox.auth import WeakPassword, hash_password
    from inbox.store import ROLES, Store

    if role not in ROLES:
        console.print(f"[bold red]error:[/] --role must be one of {', '.join(ROLES)}")
        raise typer.Exit(2)
    if not name.strip() or any(c.isspace() for c in name):
        console.print("[bold red]error:[/] the user name must be one word")
        raise typer.Exit(2)
    try:
        password_hash = hash_password(_read_password())
    except WeakPassword as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    store = Store(get_settings())
    store.ensure()
    created = store.put_user(name, role, password_hash)
    console.print(f"[green]✔[/] {'created' if created else 'updated'} {name} ({role})")


def register(root: typer.Typer) -> None:
    """Add `ecoute inbox …` to the root command (entry point ``ecoute.commands``: inbox)."""
    root.add_typer(app, name="inbox")
