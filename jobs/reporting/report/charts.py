"""The report's charts (SVG data URIs), drawn with the one chart helper of jobs/notify/charts.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from ecoute.views.common import SEVERITY_COLOURS, day_start
from jobs.notify.charts import new_figure, no_data, svg_data_uri
from jobs.reporting.kpis import response_rate
from jobs.reporting.report.data import ReportData


def _bucket(start: date, end: date) -> tuple[str, str]:
    days = (end - start).days + 1
    if days <= 3:
        return "1h", "bucket_hour"
    if days <= 45:
        return "6h", "bucket_6h"
    return "1D", "bucket_day"


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def chart_mood(data: ReportData, start: date, end: date, words: dict[str, str]) -> str:
    import pandas as pd

    fig, ax = new_figure()
    frame = data.frame
    rule, _ = _bucket(start, end)
    index = pd.date_range(day_start(start), day_start(end) + timedelta(days=1), freq=rule, inclusive="left")
    if frame.empty:
        no_data(ax, words["no_data"])
        return svg_data_uri(fig)
    score = frame["sentiment"].map({"positive": 1, "negative": -1}).fillna(0)
    grouped = score.groupby(frame["created_at"].dt.floor(rule))
    volume = grouped.size().reindex(index, fill_value=0)
    mood = grouped.mean().reindex(index)
    mood[volume < 5] = float("nan")  # a handful of items is not a mood
    bars = ax.twinx()
    width = pd.Timedelta(rule) * 0.9
    bars.bar(volume.index, volume.values, width=width, color="#d9d9d9", align="edge", zorder=0)
    bars.set_ylabel(words["volume_axis"], color="#888")
    bars.spines["right"].set_visible(True)
    ax.set_zorder(bars.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot(mood.index + pd.Timedelta(rule) / 2, mood.values, color="#2166ac", linewidth=1.6, marker="o", markersize=2)
    ax.axhline(0, color="#999", linewidth=0.8, linestyle="--")
    ax.set_ylim(-1, 1)
    ax.set_ylabel(words["mood_axis"])
    for alert in data.alerts:
        begin = _parse_time(alert.get("episode_start")) or _parse_time(alert.get("bucket_start"))
        if begin is None:
            continue
        finish = _parse_time(alert.get("ended_at"))
        if finish is None:
            last = _parse_time(alert.get("bucket_start")) or begin
            finish = last + timedelta(minutes=int(alert.get("bucket_minutes") or 60))
        colour = SEVERITY_COLOURS.get(str(alert.get("severity")), "#f4a582")
        ax.axvspan(begin, max(finish, begin + timedelta(minutes=30)), color=colour, alpha=0.45, zorder=0)
        ax.annotate(str(alert.get("severity") or ""), (begin, 0.9), fontsize=8, color="#67001f")
    ax.set_xlim(index[0], index[-1] + pd.Timedelta(rule))
    fig.autofmt_xdate()
    return svg_data_uri(fig)


def _daily_index(start: date, end: date) -> Any:
    import pandas as pd

    return pd.date_range(day_start(start), day_start(end), freq="D")


def chart_criticism(data: ReportData, start: date, end: date, words: dict[str, str]) -> str:
    fig, ax = new_figure(2.8)
    frame = data.frame[data.frame["criticism"]]
    if frame.empty:
        no_data(ax, words["no_data"])
        return svg_data_uri(fig)
    index = _daily_index(start, end)
    day = frame["created_at"].dt.floor("D")
    constructive = frame["constructive"].groupby(day).sum().reindex(index, fill_value=0)
    other = (~frame["constructive"]).groupby(day).sum().reindex(index, fill_value=0)
    ax.bar(index, constructive.values, width=0.8, color="#1b7837", label=words["constructive"])
    ax.bar(index, other.values, width=0.8, bottom=constructive.values, color="#d6604d", label=words["other_criticism"])
    ax.legend(loc="upper left", frameon=False)
    fig.autofmt_xdate()
    return svg_data_uri(fig)


def chart_topics(data: ReportData, start: date, end: date, words: dict[str, str], top: int = 8) -> str:
    fig, ax = new_figure(3.2)
    exploded = data.frame[["created_at", "topics"]].explode("topics").dropna(subset=["topics"])
    if exploded.empty:
        no_data(ax, words["no_data"])
        return svg_data_uri(fig)
    leaders = list(exploded["topics"].value_counts().head(top).index)
    exploded = exploded[exploded["topics"].isin(leaders)]
    table = exploded.groupby([exploded["created_at"].dt.floor("D"), "topics"]).size().unstack(fill_value=0)
    table = table.reindex(_daily_index(start, end), fill_value=0)[leaders]
    import matplotlib

    colours = matplotlib.color_sequences["tab10"]
    ax.stackplot(
        table.index, [table[t].values for t in leaders], labels=leaders, colors=colours[: len(leaders)], alpha=0.85
    )
    ax.legend(loc="upper left", frameon=False, ncol=4, fontsize=8)
    fig.autofmt_xdate()
    return svg_data_uri(fig)


def chart_sources(data: ReportData, words: dict[str, str]) -> str:
    fig, (left, right) = new_figure(2.8, ncols=2)
    frame = data.frame
    if frame.empty:
        no_data(left, words["no_data"])
        no_data(right, words["no_data"])
        return svg_data_uri(fig)
    for ax, column, title, colour in (
        (left, "source", words["sources"], "#4393c3"),
        (right, "lang", words["languages"], "#92c5de"),
    ):
        counts = frame[column].value_counts().head(10).sort_values()
        ax.barh([str(k) for k in counts.index], counts.values, color=colour)
        ax.set_title(title, fontsize=10)
        for y, value in enumerate(counts.values):
            ax.text(value, y, f" {value}", va="center", fontsize=8)
    return svg_data_uri(fig)


def chart_response(data: ReportData, start: date, end: date, words: dict[str, str]) -> str:
    import pandas as pd

    fig, ax = new_figure(2.8)
    frame = data.frame[data.frame["criticism"] & data.frame["answerable"]]
    if frame.empty:
        no_data(ax, words["no_data"])
        return svg_data_uri(fig)
    index = _daily_index(start, end)
    day = frame["created_at"].dt.floor("D")
    per_day = frame["answered"].groupby(day).agg(["sum", "count"])
    rates = [response_rate(int(a), int(n)) for a, n in zip(per_day["sum"], per_day["count"], strict=True)]
    rate = pd.Series(rates, index=per_day.index, dtype=float).mul(100).reindex(index)
    median_hours = frame["response_hours"].groupby(day).median().reindex(index)
    ax.bar(index, median_hours.values, width=0.8, color="#fdb863", label=words["response_hours"])
    ax.set_ylabel(words["response_hours"])
    line = ax.twinx()
    line.plot(index, rate.values, color="#5e3c99", marker="o", markersize=3, label=words["response_rate"])
    line.set_ylim(0, 100)
    line.set_ylabel(words["response_rate"])
    line.spines["right"].set_visible(True)
    ax.set_xlim(index[0] - timedelta(days=1), index[-1] + timedelta(days=1))
    handles = ax.get_legend_handles_labels()[0] + line.get_legend_handles_labels()[0]
    ax.legend(handles, [words["response_hours"], words["response_rate"]], loc="upper left", frameon=False)
    fig.autofmt_xdate()
    return svg_data_uri(fig)
