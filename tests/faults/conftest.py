"""Fault tests print one table at the end: fault, events produced, events in ES, lost, duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest

FAULT_ROWS: list[tuple[str, int, int, int, int]] = []
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "fault_table.txt"


def record_fault(fault: str, produced: int, in_es: int, lost: int, duplicated: int) -> None:
    FAULT_ROWS.append((fault, produced, in_es, lost, duplicated))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter) -> None:
    if not FAULT_ROWS:
        return
    header = f"{'fault':<58} {'produced':>9} {'in ES':>7} {'lost':>5} {'dup':>4}"
    lines = [header, "-" * len(header)]
    lines += [f"{f:<58} {p:>9} {e:>7} {lo:>5} {d:>4}" for f, p, e, lo, d in FAULT_ROWS]
    terminalreporter.write_sep("=", "fault table")
    for line in lines:
        terminalreporter.write_line(line)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text("\n".join(lines) + "\n")
