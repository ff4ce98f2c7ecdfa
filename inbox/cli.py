"""`ecoute inbox …`: serve the web inbox, manage its users."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from inbox.store import Store

app = typer.Typer(
    help="The community manager's web inbox: queues, threads, actions on the platforms.",
    no_args_is_help=True,
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

    from ecoute.preflight import mask_userinfo
    from ecoute.settings import get_settings
    from inbox.app import create_app

    settings = get_settings()
    application = create_app(settings)
    console.print(
        f"[green]✔[/] inbox on http://{host}:{port} (Elasticsearch {mask_userinfo(settings.es.url)})", highlight=False
    )
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=False)


@app.command("rules-run")
def rules_run(
    hours: Annotated[int, typer.Option(min=1, help="Look at mentions of the last HOURS not handled yet.")] = 1,
) -> None:
    """Apply every enabled moderation rule now (schedule it, e.g. every 15 minutes)."""
    from ecoute.cli_support import terminal_safe
    from ecoute.settings import get_settings
    from inbox import rules
    from inbox.actions import Services

    services = Services.create(get_settings())
    services.store.ensure()
    failed_rules = 0
    for rule_id, result in rules.run_enabled(services, hours=hours).items():
        name = escape(terminal_safe(result.get("name") or rule_id))
        if "error" in result:
            failed_rules += 1
            console.print(
                f"[bold red]✘[/] rule {name} ({rule_id}) skipped: {escape(terminal_safe(result['error']))}",
                highlight=False,
            )
            continue
        console.print(
            f"[green]✔[/] rule {name} ({rule_id}): {result['matched']} matched, {result['failed']} failed",
            highlight=False,
        )
    if failed_rules:
        raise typer.Exit(1)


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


def _users_store() -> Store:
    from ecoute.settings import get_settings
    from inbox.store import Store

    store = Store(get_settings())
    store.ensure()
    return store


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Stop a user from logging in; their open sessions end at once (pages and actions alike)."""
    if not _users_store().set_disabled(name, True):
        console.print(f"[bold red]error:[/] no user {escape(name)!r}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]✔[/] {escape(name)} disabled; their sessions are ended", highlight=False)


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Let a disabled user log in again (with their password; old sessions stay ended)."""
    if not _users_store().set_disabled(name, False):
        console.print(f"[bold red]error:[/] no user {escape(name)!r}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]✔[/] {escape(name)} enabled", highlight=False)


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False) -> None:
    """Every user with their role and whether they may log in (never their password hash)."""
    import json

    from rich.table import Table

    from ecoute.cli_support import out, terminal_safe

    users = _users_store().all_users()
    if as_json:
        sys.stdout.write(json.dumps(users, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table("user", "role", "status", "created", "updated")
    for user in users:
        table.add_row(
            escape(terminal_safe(user["username"])),
            user.get("role") or "",
            "disabled" if user.get("disabled") else "active",
            str(user.get("created_at") or ""),
            str(user.get("updated_at") or ""),
        )
    out.print(table)


def register(root: typer.Typer) -> None:
    """Add `ecoute inbox …` to the root command (entry point ``ecoute.commands``: inbox)."""
    root.add_typer(app, name="inbox")
