"""Issue 19 item 5: `ecoute label` on hostile stdin — rich markup in ids, blank lines.

Runs the function behind the command with a real rich Console (as the CLI does); the labeller is
the real one. Every input line must yield exactly one output line, in order.
"""

from __future__ import annotations

import io

import orjson
import pytest
from rich.console import Console

from jobs.labeller.cli import run_label


def label(lines: list[bytes], batch_size: int = 2000) -> tuple[list[dict], str]:
    stdin = io.BytesIO(b"\n".join(lines) + b"\n")
    stdout = io.BytesIO()
    stderr = io.StringIO()
    console = Console(file=stderr, force_terminal=False, width=200)
    assert run_label(stdin, stdout, console, batch_size=batch_size) == 0
    return [orjson.loads(line) for line in stdout.getvalue().splitlines()], stderr.getvalue()


@pytest.mark.parametrize("ident", ["[/x]", "[/]", "[bold]", "[red]x[/red]", "[link=http://e.vil]a", "\\[x]"])
def test_rich_markup_in_an_id_neither_stops_the_batch_nor_is_eaten(ident):
    lines = [
        orjson.dumps({"id": "ok:1", "text": "Merci, colis bien reçu"}),
        orjson.dumps({"id": ident, "text": 5}),
        orjson.dumps({"id": "ok:3", "text": "Toujours pas de remboursement"}),
    ]
    out, err = label(lines)
    assert [o.get("id") for o in out] == ["ok:1", ident, "ok:3"]
    assert "error" in out[1] and "error" not in out[0] and "error" not in out[2]
    assert repr(ident) in err  # shown as given, not read as markup


def test_blank_lines_get_their_own_output_line():
    lines = [orjson.dumps({"id": "a", "text": "bonjour"}), b"", b"   ", orjson.dumps({"id": "b", "text": "merci"})]
    out, err = label(lines, batch_size=2)
    assert [(o.get("id"), o.get("error")) for o in out] == [
        ("a", None),
        (None, "blank line"),
        (None, "blank line"),
        ("b", None),
    ]
    assert [o["line"] for o in out if "error" in o] == [2, 3]
    assert "line 2" in err
