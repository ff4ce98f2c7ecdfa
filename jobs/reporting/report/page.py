"""The report page: headline cards, charts and tables rendered by Jinja (jobs/notify/templates/report*)."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup

from ecoute.views.common import SEVERITY_COLOURS
from jobs.notify import load_strings, render_page
from jobs.reporting.report.charts import (
    _bucket,
    chart_criticism,
    chart_mood,
    chart_response,
    chart_sources,
    chart_topics,
)
from jobs.reporting.report.data import TOP_N, ReportData, kpis

WORDS: dict[str, dict[str, str]] = load_strings("report")


def _fmt_hours(hours: float | None, words: dict[str, str]) -> str:
    if hours is None:
        return "–"
    if hours < 1:
        return f"{hours * 60:.0f} {words['minutes']}"
    return f"{hours:.1f} {words['hours']}"


def _excerpt(text: str, limit: int = 220) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _safe_url(url: Any) -> str | None:
    """Only http(s) links become anchors (a javascript: URL in the data must not)."""
    url = str(url or "")
    return url if url.startswith(("https://", "http://")) else None


def _posts_table(data: ReportData, mask: Any, count_label: str, words: dict[str, str]) -> str:
    threads = data.frame.loc[mask, "thread_id"].dropna().value_counts().head(TOP_N)
    rows = []
    for thread_id, count in threads.items():
        post = data.posts.get(thread_id) or {}
        rows.append(
            {
                "count": int(count),
                "text": _excerpt(post.get("text") or words["post_missing"]),
                "thread_id": str(thread_id),
                "channel": str(post.get("channel") or ""),
                "date": str(post.get("created_at") or "")[:10],
                "url": _safe_url(post.get("url")),
            }
        )
    return Markup(render_page("report_posts.html.j2", t=words, rows=rows, count_label=count_label))


def _alerts(data: ReportData) -> list[dict[str, str]]:
    return [
        {
            "start": str(alert.get("episode_start") or ""),
            "severity": str(alert.get("severity") or ""),
            "colour": SEVERITY_COLOURS.get(str(alert.get("severity") or ""), "#eee"),
            "summary": str(alert.get("summary") or ""),
        }
        for alert in data.alerts
    ]


def _number(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def render(
    data: ReportData, start: date, end: date, lang: str, channel: str | None, inbox_url: str | None = None
) -> str:
    words = WORDS[lang]
    t0 = clock.perf_counter()
    _, bucket_word = _bucket(start, end)
    charts = [
        {
            "key": "mood",
            "title": words["mood_title"],
            "help": words["mood_help"].format(bucket=words[bucket_word]),
            "uri": chart_mood(data, start, end, words),
        },
        {
            "key": "criticism",
            "title": words["criticism_title"],
            "help": "",
            "uri": chart_criticism(data, start, end, words),
        },
        {
            "key": "topics",
            "title": words["topics_title"],
            "help": words["topics_help"].format(n=8),
            "uri": chart_topics(data, start, end, words),
        },
        {"key": "sources", "title": words["sources_title"], "help": "", "uri": chart_sources(data, words)},
        {
            "key": "response",
            "title": words["response_title"],
            "help": words["response_help"],
            "uri": chart_response(data, start, end, words),
        },
    ]
    data.timings["charts"] = round(clock.perf_counter() - t0, 2)
    figures = kpis(data)
    cards = [
        (words["kpi_items"], _number(figures["items"])),
        (words["kpi_mood"], "–" if figures["mood"] is None else f"{figures['mood']:+.2f}"),
        (words["kpi_criticism"], f"{figures['criticism']}"),
        (words["kpi_constructive"], f"{figures['constructive']}"),
        (words["kpi_toxic"], f"{figures['toxic']}"),
        (words["kpi_response_rate"], "–" if figures["response_rate"] is None else f"{figures['response_rate']:.0f} %"),
        (words["kpi_response_time"], _fmt_hours(figures["median_response_hours"], words)),
        (words["kpi_unanswered"], f"{figures['unanswered']}"),
        (words["kpi_questions"], f"{figures['questions']}"),
        (
            words["kpi_question_response_rate"],
            "–" if figures["question_response_rate"] is None else f"{figures['question_response_rate']:.0f} %",
        ),
        (words["kpi_question_response_time"], _fmt_hours(figures["median_question_response_hours"], words)),
        (words["kpi_unanswered_questions"], f"{figures['unanswered_questions']}"),
        (words["kpi_moderate"], f"{figures['moderate']}"),
        (words["kpi_alerts"], f"{figures['alerts']}"),
    ]
    subtitle = words["subtitle"].format(
        start=start.isoformat(),
        end=end.isoformat(),
        channel=words["channel"].format(channel=channel) if channel else words["all_channels"],
    )
    generated = words["generated"].format(
        now=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), n=_number(figures["items"])
    )
    return render_page(
        "report.html.j2",
        t=words,
        lang=lang,
        start=start.isoformat(),
        end=end.isoformat(),
        subtitle=subtitle,
        generated=generated,
        cards=cards,
        charts=charts,
        figures=figures,
        top_critical=_posts_table(data, data.frame["criticism"], words["count_critical"], words),
        top_positive=_posts_table(data, data.frame["sentiment"] == "positive", words["count_positive"], words),
        alerts=_alerts(data),
        inbox_url=_safe_url(inbox_url.rstrip("/")) if inbox_url else None,
        complaints=[
            {
                "label": c["label"],
                "size": c["size"],
                "share": f"{c['share'] * 100:.0f} %",
                "examples": [_excerpt(e, 160) for e in c["examples"]],
            }
            for c in data.complaints
        ],
    )
