"""What every `ecoute` command shares: the two consoles, the one-line failure, date/time options, ES views.

Stage commands (``connectors/cli.py``, ``jobs/cli.py``, …) import these; the root command
(``ecoute/cli.py``) composes the stages' commands through the ``ecoute.commands`` entry points.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from ecoute.safe_text import terminal_safe

__all__ = [
    "console",
    "fail",
    "optional_day",
    "out",
    "parse_day",
    "parse_time",
    "run_view",
    "terminal_safe",
    "views_settings",
]

if TYPE_CHECKING:
    from typer import _click

    from ecoute.settings import Settings

console = Console(stderr=True)  # messages, progress, errors
out = Console()  # the command's result (tables, JSON)


def _flags_take_no_value() -> None:
    """Typer 0.29 prints `<bool>` after every flag in --help, so users type `--follow true`: print nothing."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if shown.__module__ == __name__:  # already ours (this module was imported again)
        return

    def display_type_rich(self: TyperOption, ctx: _click.Context) -> str | None:
        return None if self.is_flag or self.count else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]  # the patch itself


_flags_take_no_value()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one clear error line and return the Exit to raise (``raise fail("…") from None``)."""
    from rich.markup import escape

    # One line, never wrapped, and the message (often from the input or an exception) is not markup
    # nor terminal escape sequences.
    console.print(f"[bold red]error:[/] {escape(terminal_safe(message))}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: expected a date YYYY-MM-DD, got {value!r}", code=2) from None


def parse_time(value: str, option: str) -> datetime:
    """An ISO time; naive times are UTC."""
    from datetime import UTC

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"{option}: expected a time like 2026-10-20T15:00, got {value!r}", code=2) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def optional_day(value: str | None, option: str) -> date | None:
    return None if value is None else parse_day(value, option)


def views_settings() -> Settings:
    """The settings the commands that read Elasticsearch use (tests point it at their server)."""
    from ecoute.settings import get_settings

    return get_settings()


def run_view(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Run something that reads Elasticsearch; an unreachable or refusing server becomes one clear line."""
    from elasticsearch import ApiError, TransportError

    from ecoute.preflight import ServiceUnreachable

    try:
        return action(*args, **kwargs)
    except ServiceUnreachable as exc:  # found before any request (the CLI's fail-fast check)
        raise fail(str(exc)) from None
    except TransportError as exc:
        from ecoute.preflight import mask_userinfo

        url = mask_userinfo(views_settings().es.url)
        raise fail(f"cannot reach Elasticsearch at {url} ({type(exc).__name__})") from None
    except ApiError as exc:
        raise fail(f"Elasticsearch refused the request ({exc.meta.status}): {exc.message}") from None
