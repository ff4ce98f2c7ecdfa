"""Issue 28 item 15: commenters' texts never drive the terminal: escape sequences (screen clear,
colours, hyperlinks, window titles) and control characters are stripped from every table and line
the commands print (real Elasticsearch for `ecoute queue`)."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from ecoute.cli import app
from ecoute.safe_text import header_safe, terminal_safe
from tests.ecoute.views.synthetic import index_mentions, mention

HOSTILE = (
    "\x1b[2J\x1b[HColis perdu \x1b[31mrouge\x1b[0m \x1b]8;;https://evil.example\x1b\\cliquez\x1b]8;;\x1b\\ "
    "\x1b]0;titre volé\x07fin\rréécrit\x08\x9b31m \x00\x7f"
)


def test_queue_tables_print_no_escape_sequences(settings, monkeypatch) -> None:
    when = datetime(2026, 10, 17, 9, tzinfo=UTC)
    index_mentions(
        settings,
        [
            mention("facebook:p1", when, kind="post", author_id="brand", is_brand=True, text="\x1b[5mPost\x1b[0m"),
            mention(
                "facebook:c1",
                when,
                parent_id="facebook:p1",
                thread_id="facebook:p1",
                author_id="a_x\x1b[1m",
                text=HOSTILE,
                criticism=True,
                sentiment="negative",
            ),
        ],
    )
    monkeypatch.setattr("ecoute.cli_support.views_settings", lambda: settings)
    result = CliRunner().invoke(app, ["queue", "answer"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    printed = result.stdout
    assert not any(ch in printed for ch in "\x1b\x07\x08\x9b\r\x00\x7f"), repr(printed)
    for words in ("Colis perdu", "rouge", "cliquez", "fin", "réécrit", "Post"):
        assert words in printed
    assert "evil.example" not in printed and "titre volé" not in printed


def test_the_helpers_strip_sequences_and_keep_the_words() -> None:
    assert terminal_safe(HOSTILE) == "Colis perdu rouge cliquez finréécrit "
    assert terminal_safe("ligne 1\nligne 2\tfin") == "ligne 1\nligne 2\tfin"
    assert terminal_safe("a\nb\x1b[K", one_line=True) == "a b"
    assert header_safe("Le Monde\n— Économie\r\n") == "Le Monde — Économie"
    assert header_safe("x" * 1000).endswith("…") and len(header_safe("x" * 1000)) == 250
    assert header_safe("sep\u2028arateur\x85") == "sep arateur"


def test_log_lines_are_terminal_safe_and_redacted() -> None:
    import logging

    from ecoute.logs import RedactingFormatter

    record = logging.LogRecord(
        "connectors",
        logging.WARNING,
        __file__,
        1,
        "dead-lettered %s: %s",
        ("rss:1", "channel \x1b]0;owned\x07Le Monde\x1b[2J token=abc123"),
        None,
    )
    line = RedactingFormatter("%(message)s").format(record)
    assert line == "dead-lettered rss:1: channel Le Monde token=***"
