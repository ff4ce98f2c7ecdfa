"""The self-contained HTML report for analysts and the team (``ecoute report``).

``build_report(settings, start, end, out, lang="fr", channel=None)`` reads the enriched mentions of
[start, end] (whole UTC days) and the alert episodes from Elasticsearch (``data``), computes the
figures with pandas, draws the charts with the one chart helper (``charts``, SVG data URIs) and
renders one HTML file with the Jinja templates of ``jobs/notify/templates`` (``page``): it opens
offline, with no external URL, script or font, and every piece of user text is escaped.
"""

from __future__ import annotations

import logging
import time as clock
from datetime import date
from pathlib import Path

from ecoute.settings import Settings
from jobs.reporting.report.data import ReportData, kpis, load_data
from jobs.reporting.report.page import WORDS, render

log = logging.getLogger(__name__)


def build_report(
    settings: Settings,
    start: date,
    end: date,
    out: Path,
    lang: str = "fr",
    channel: str | None = None,
) -> Path:
    """Write the HTML report of [start, end] (UTC days, inclusive) to ``out``; return its path."""
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {', '.join(WORDS)}, not {lang!r}")
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    began = clock.perf_counter()
    data = load_data(settings, start, end, channel)
    page = render(data, start, end, lang, channel, inbox_url=settings.inbox.url)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # readers never see half a report
    data.timings["total"] = round(clock.perf_counter() - began, 2)
    log.info("report written to %s (%s)", out, data.timings)
    return out


__all__ = ["WORDS", "ReportData", "build_report", "kpis", "load_data"]
