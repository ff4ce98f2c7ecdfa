"""What every `ecoute` command shares: the two consoles, the one-line failure, date/time options.

Stage commands (``connectors/cli.py``, ``jobs/cli.py``, …) import these; the root command
(``ecoute/cli.py``) composes the stages' commands through the ``ecoute.commands`` entry points.
"""

from __future__ import annotations

from datetime import date, datetime

import typer
from rich.console import Console

console = Console(stderr=True)  # messages, progress, errors
out = Console()  # the command's result (tables, JSON)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one clear error line and return the Exit to raise (``raise fail("…") from None``)."""
    console.print(f"[bold red]error:[/] {message}")
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
