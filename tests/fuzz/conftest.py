"""The fuzz suite prints one accounting table at the end, per entry point:
inputs tried / enriched (or accepted into the raw topic) / quarantined / dead-lettered / rejected
at the door (HTTP 4xx, error line) / lost — and lost must be 0."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

COLUMNS = ("tried", "enriched", "quarantined", "dead-lettered", "rejected", "lost")
ACCOUNTS: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "fuzz_accounting.txt"


def account(entry_point: str, **counts: int) -> None:
    row = ACCOUNTS[entry_point]
    for key, value in counts.items():
        row[key.replace("_", "-")] += value


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter) -> None:
    if not ACCOUNTS:
        return
    header = (
        f"{'entry point':<34} {'inputs tried':>12} {'enriched*':>9} {'quarantined':>11} "
        f"{'dead-lettered':>13} {'rejected':>8} {'lost (0)':>8}"
    )
    lines = [header, "-" * len(header)]
    for name, row in sorted(ACCOUNTS.items()):
        lines.append(
            f"{name:<34} {row['tried']:>12} {row['enriched']:>9} {row['quarantined']:>11} "
            f"{row['dead-lettered']:>13} {row['rejected']:>8} {row['lost']:>8}"
        )
    lines.append(
        "* enriched: labelled rows for the executor and `ecoute label`; accepted into the raw topic "
        "for the import and the webhook. rejected: refused at the door with a reason (HTTP 4xx, an error line)."
    )
    terminalreporter.write_sep("=", "fuzz accounting")
    for line in lines:
        terminalreporter.write_line(line)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text("\n".join(lines) + "\n")
