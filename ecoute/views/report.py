"""The self-contained HTML report for analysts and the team (``ecoute report``).

``build_report(settings, start, end, out, lang="fr", channel=None)`` reads the enriched mentions of
[start, end] (whole UTC days) and the alert episodes from Elasticsearch, computes the figures with
pandas, draws the charts with matplotlib (SVG, embedded as data URIs) and writes one HTML file that
opens offline: no external URL, no external script or font. Every piece of user text is escaped.

Why one slim scan rather than aggregations: noida-db (the embedded stack) has no percentiles and
answers nested aggregations slowly, so the community items of the period are read once with only
the fields the figures need; medians, first-seen and the rest are computed in Python.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import time as clock
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import ApiError

from ecoute.es import make_client, scan_docs
from ecoute.settings import Settings
from ecoute.views.common import NOT_BRAND, SEVERITY_COLOURS, day_start, fetch_by_ids, iso, period_filters

log = logging.getLogger(__name__)

SCAN_FIELDS = [
    "created_at", "source", "lang", "sentiment", "topics", "criticism", "constructive", "toxic",
    "answered_by_brand", "brand_answered_at", "handled", "thread_id",
]  # fmt: skip
POST_FIELDS = ["id", "text", "url", "created_at", "channel", "source", "metrics"]
TOP_N = 5

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Rapport Écoute",
        "subtitle": "Du {start} au {end} (UTC){channel}",
        "all_channels": "",
        "channel": " · canal {channel}",
        "generated": "Généré le {now} à partir d'Elasticsearch ({n} éléments de la communauté).",
        "kpi_items": "Éléments de la communauté",
        "kpi_mood": "Indice d'humeur",
        "kpi_criticism": "Critiques",
        "kpi_constructive": "dont constructives",
        "kpi_toxic": "Toxiques",
        "kpi_response_rate": "Taux de réponse aux critiques",
        "kpi_response_time": "Délai de réponse médian",
        "kpi_unanswered": "Critiques sans réponse (file)",
        "kpi_moderate": "À modérer (file)",
        "kpi_alerts": "Épisodes d'alerte",
        "mood_title": "Indice d'humeur dans le temps",
        "mood_help": "(positifs − négatifs) / volume, par tranche de {bucket}. Les bandes colorées sont les épisodes d'alerte.",
        "mood_axis": "indice d'humeur",
        "volume_axis": "volume",
        "criticism_title": "Volume de critiques par jour",
        "constructive": "constructives",
        "other_criticism": "autres critiques",
        "topics_title": "Thèmes dans le temps",
        "topics_help": "Nombre d'éléments par thème et par jour (les {n} thèmes principaux).",
        "sources_title": "Sources et langues",
        "sources": "Sources",
        "languages": "Langues",
        "response_title": "Réponses de la marque",
        "response_help": "Part des critiques ayant reçu une réponse de la marque, et délai médian de réponse (heures).",
        "response_rate": "taux de réponse (%)",
        "response_hours": "délai médian (h)",
        "top_critical": "Publications les plus critiquées",
        "top_positive": "Publications les plus appréciées",
        "post": "Publication",
        "count_critical": "critiques",
        "count_positive": "positifs",
        "date": "Date",
        "channel_column": "Canal",
        "alerts_title": "Épisodes d'alerte",
        "severity": "Gravité",
        "start": "Début",
        "summary": "Résumé",
        "no_alerts": "Aucun épisode d'alerte sur la période.",
        "no_data": "Aucune donnée sur la période.",
        "open": "ouvrir",
        "hours": "h",
        "minutes": "min",
        "bucket_hour": "1 heure",
        "bucket_6h": "6 heures",
        "bucket_day": "1 jour",
        "queues_title": "Files du community manager",
        "queues_help": "À traiter aujourd'hui : `ecoute queue answer` et `ecoute queue moderate`.",
        "post_missing": "(publication non collectée)",
    },
    "en": {
        "title": "Écoute report",
        "subtitle": "From {start} to {end} (UTC){channel}",
        "all_channels": "",
        "channel": " · channel {channel}",
        "generated": "Generated on {now} from Elasticsearch ({n} community items).",
        "kpi_items": "Community items",
        "kpi_mood": "Mood index",
        "kpi_criticism": "Criticism",
        "kpi_constructive": "of which constructive",
        "kpi_toxic": "Toxic",
        "kpi_response_rate": "Response rate to criticism",
        "kpi_response_time": "Median response time",
        "kpi_unanswered": "Unanswered criticism (queue)",
        "kpi_moderate": "To moderate (queue)",
        "kpi_alerts": "Alert episodes",
        "mood_title": "Mood index over time",
        "mood_help": "(positive − negative) / volume, per {bucket}. Shaded bands are alert episodes.",
        "mood_axis": "mood index",
        "volume_axis": "volume",
        "criticism_title": "Criticism volume per day",
        "constructive": "constructive",
        "other_criticism": "other criticism",
        "topics_title": "Topics over time",
        "topics_help": "Items per topic and day (top {n} topics).",
        "sources_title": "Sources and languages",
        "sources": "Sources",
        "languages": "Languages",
        "response_title": "Brand responses",
        "response_help": "Share of criticism the brand answered, and median response time (hours).",
        "response_rate": "response rate (%)",
        "response_hours": "median delay (h)",
        "top_critical": "Most criticised posts",
        "top_positive": "Most liked posts",
        "post": "Post",
        "count_critical": "critical",
        "count_positive": "positive",
        "date": "Date",
        "channel_column": "Channel",
        "alerts_title": "Alert episodes",
        "severity": "Severity",
        "start": "Start",
        "summary": "Summary",
        "no_alerts": "No alert episode in the period.",
        "no_data": "No data in the period.",
        "open": "open",
        "hours": "h",
        "minutes": "min",
        "bucket_hour": "hour",
        "bucket_6h": "6 hours",
        "bucket_day": "day",
        "queues_title": "Community manager queues",
        "queues_help": "To handle today: `ecoute queue answer` and `ecoute queue moderate`.",
        "post_missing": "(post not collected)",
    },
}


@dataclass
class ReportData:
    frame: Any  # pandas DataFrame of the community items
    alerts: list[dict[str, Any]]
    posts: dict[str, dict[str, Any]]
    timings: dict[str, float]


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
    page = render(data, start, end, lang, channel)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # readers never see half a report
    data.timings["total"] = round(clock.perf_counter() - began, 2)
    log.info("report written to %s (%s)", out, data.timings)
    return out


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------
def load_data(settings: Settings, start: date, end: date, channel: str | None) -> ReportData:
    import pandas as pd

    client = make_client(settings)
    timings: dict[str, float] = {}
    query = {"bool": {"filter": period_filters(start, end, channel), "must_not": [NOT_BRAND]}}

    def scan() -> list[dict[str, Any]]:
        t0 = clock.perf_counter()
        try:
            docs = list(scan_docs(client, settings.indices.mentions, query, SCAN_FIELDS, size=5000))
        except ApiError as exc:
            if exc.meta.status != 404:
                raise
            docs = []
        timings["scan"] = round(clock.perf_counter() - t0, 2)
        return docs

    # The alert episodes and the period's posts are read while the (longer) scan runs.
    with ThreadPoolExecutor(max_workers=2) as pool:
        alerts_future = pool.submit(load_alerts, client, settings, start, end, channel)
        posts_future = pool.submit(load_posts, client, settings, start, end, channel)
        docs = scan()
        alerts = alerts_future.result()
        posts = posts_future.result()

    t0 = clock.perf_counter()
    frame = pd.DataFrame(
        {
            "created_at": pd.to_datetime([d.get("created_at") for d in docs], utc=True, format="ISO8601"),
            "source": [d.get("source") or "unknown" for d in docs],
            "lang": [d.get("lang") or "und" for d in docs],
            "sentiment": [d.get("sentiment") or "neutral" for d in docs],
            "topics": [list(d.get("topics") or []) for d in docs],
            "criticism": [bool(d.get("criticism")) for d in docs],
            "constructive": [bool(d.get("criticism")) and bool(d.get("constructive")) for d in docs],
            "toxic": [bool(d.get("toxic")) for d in docs],
            "answered_at": pd.to_datetime([d.get("brand_answered_at") for d in docs], utc=True, format="ISO8601"),
            "handled": [bool(d.get("handled")) for d in docs],
            "answered": [bool(d.get("answered_by_brand")) for d in docs],
            "thread_id": [d.get("thread_id") for d in docs],
        }
    )
    # Explicit dtypes: an empty period must still give boolean masks, not object columns.
    # "answered" is the queues' definition (answered_by_brand), so the report and the queues agree.
    frame = frame.astype({"criticism": bool, "constructive": bool, "toxic": bool, "handled": bool, "answered": bool})
    frame["response_hours"] = (frame["answered_at"] - frame["created_at"]).dt.total_seconds() / 3600
    frame.loc[frame["response_hours"] < 0, "response_hours"] = float("nan")
    timings["frame"] = round(clock.perf_counter() - t0, 2)

    t0 = clock.perf_counter()
    top_ids = set(_top_threads(frame, frame["criticism"])) | set(_top_threads(frame, frame["sentiment"] == "positive"))
    missing = sorted(top_ids - set(posts))  # threads whose post was published before the period
    if missing:
        posts.update(fetch_by_ids(client, settings.indices.mentions, missing, POST_FIELDS))
    timings["posts"] = round(clock.perf_counter() - t0, 2)
    return ReportData(frame, alerts, posts, timings)


def load_posts(
    client: Any, settings: Settings, start: date, end: date, channel: str | None
) -> dict[str, dict[str, Any]]:
    """The posts published in the period (the usual threads of its comments), by id."""
    query = {"bool": {"filter": [{"term": {"kind": "post"}}, *period_filters(start, end, channel)]}}
    try:
        response = client.search(index=settings.indices.mentions, query=query, size=10_000, _source=POST_FIELDS)
    except ApiError as exc:
        if exc.meta.status == 404:
            return {}
        raise
    return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}


def load_alerts(client: Any, settings: Settings, start: date, end: date, channel: str | None) -> list[dict[str, Any]]:
    """Alert episodes that started in the period: overall ones, plus the channel's own for a channel report
    (channel-scope alerts are optional in the spike watch; an overall episode concerns every channel)."""
    scopes = ["overall", f"channel:{channel}"] if channel else ["overall"]
    lo, hi = iso(day_start(start)), iso(day_start(end) + timedelta(days=1))
    query = {"bool": {"filter": [{"terms": {"scope": scopes}}, {"range": {"episode_start": {"gte": lo, "lt": hi}}}]}}
    try:
        response = client.search(index=settings.indices.alerts, query=query, size=500, sort=[{"episode_start": "asc"}])
    except ApiError as exc:
        if exc.meta.status in (400, 404):  # no alerts index yet (or no mapping for the sort field)
            return []
        raise
    return [hit["_source"] for hit in response["hits"]["hits"]]


def _top_threads(frame: Any, mask: Any) -> list[str]:
    threads = frame.loc[mask, "thread_id"].dropna()
    return list(threads.value_counts().head(TOP_N).index)


# ------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------
def _bucket(start: date, end: date) -> tuple[str, str]:
    days = (end - start).days + 1
    if days <= 3:
        return "1h", "bucket_hour"
    if days <= 45:
        return "6h", "bucket_6h"
    return "1D", "bucket_day"


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_figure(height: float = 3.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt.subplots(figsize=(10, height))


def _no_data(ax: Any, words: dict[str, str]) -> None:
    ax.text(0.5, 0.5, words["no_data"], ha="center", va="center", transform=ax.transAxes, color="#777")
    ax.set_xticks([])
    ax.set_yticks([])


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def chart_mood(data: ReportData, start: date, end: date, words: dict[str, str]) -> str:
    import pandas as pd

    fig, ax = _new_figure()
    frame = data.frame
    rule, _ = _bucket(start, end)
    index = pd.date_range(day_start(start), day_start(end) + timedelta(days=1), freq=rule, inclusive="left")
    if frame.empty:
        _no_data(ax, words)
        return _svg(fig)
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
    return _svg(fig)


def _daily_index(start: date, end: date) -> Any:
    import pandas as pd

    return pd.date_range(day_start(start), day_start(end), freq="D")


def chart_criticism(data: ReportData, start: date, end: date, words: dict[str, str]) -> str:
    fig, ax = _new_figure(2.8)
    frame = data.frame[data.frame["criticism"]]
    if frame.empty:
        _no_data(ax, words)
        return _svg(fig)
    index = _daily_index(start, end)
    day = frame["created_at"].dt.floor("D")
    constructive = frame["constructive"].groupby(day).sum().reindex(index, fill_value=0)
    other = (~frame["constructive"]).groupby(day).sum().reindex(index, fill_value=0)
    ax.bar(index, constructive.values, width=0.8, color="#1b7837", label=words["constructive"])
    ax.bar(index, other.values, width=0.8, bottom=constructive.values, color="#d6604d", label=words["other_criticism"])
    ax.legend(loc="upper left", frameon=False)
    fig.autofmt_xdate()
    return _svg(fig)


def chart_topics(data: ReportData, start: date, end: date, words: dict[str, str], top: int = 8) -> str:
    fig, ax = _new_figure(3.2)
    exploded = data.frame[["created_at", "topics"]].explode("topics").dropna(subset=["topics"])
    if exploded.empty:
        _no_data(ax, words)
        return _svg(fig)
    leaders = list(exploded["topics"].value_counts().head(top).index)
    exploded = exploded[exploded["topics"].isin(leaders)]
    table = exploded.groupby([exploded["created_at"].dt.floor("D"), "topics"]).size().unstack(fill_value=0)
    table = table.reindex(_daily_index(start, end), fill_value=0)[leaders]
    import matplotlib

    colours = matplotlib.colormaps["tab10"].colors
    ax.stackplot(
        table.index, [table[t].values for t in leaders], labels=leaders, colors=colours[: len(leaders)], alpha=0.85
    )
    ax.legend(loc="upper left", frameon=False, ncol=4, fontsize=8)
    fig.autofmt_xdate()
    return _svg(fig)


def chart_sources(data: ReportData, words: dict[str, str]) -> str:
    import matplotlib.pyplot as plt

    _new_figure()  # sets the style
    plt.close("all")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 2.8))
    frame = data.frame
    if frame.empty:
        _no_data(left, words)
        _no_data(right, words)
        return _svg(fig)
    for ax, column, title, colour in (
        (left, "source", words["sources"], "#4393c3"),
        (right, "lang", words["languages"], "#92c5de"),
    ):
        counts = frame[column].value_counts().head(10).sort_values()
        ax.barh([str(k) for k in counts.index], counts.values, color=colour)
        ax.set_title(title, fontsize=10)
        for y, value in enumerate(counts.values):
            ax.text(value, y, f" {value}", va="center", fontsize=8)
    return _svg(fig)


def chart_response(data: ReportData, start: date, end: date, words: dict[str, str]) -> str:
    fig, ax = _new_figure(2.8)
    frame = data.frame[data.frame["criticism"]]
    if frame.empty:
        _no_data(ax, words)
        return _svg(fig)
    index = _daily_index(start, end)
    day = frame["created_at"].dt.floor("D")
    rate = (frame["answered"].groupby(day).mean() * 100).reindex(index)
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
    return _svg(fig)


# ------------------------------------------------------------------------------------------------
# html
# ------------------------------------------------------------------------------------------------
def kpis(data: ReportData) -> dict[str, Any]:
    frame = data.frame
    n = len(frame)
    critical = frame[frame["criticism"]]
    positives = int((frame["sentiment"] == "positive").sum())
    negatives = int((frame["sentiment"] == "negative").sum())
    response_hours = critical.loc[critical["answered"], "response_hours"].dropna()
    return {
        "items": n,
        "mood": round((positives - negatives) / n, 3) if n else None,
        "criticism": len(critical),
        "constructive": int(critical["constructive"].sum()),
        "toxic": int(frame["toxic"].sum()),
        "response_rate": round(float(critical["answered"].mean()) * 100, 1) if len(critical) else None,
        "median_response_hours": round(float(response_hours.median()), 2) if len(response_hours) else None,
        "p90_response_hours": round(float(response_hours.quantile(0.9)), 2) if len(response_hours) else None,
        "unanswered": int((~critical["answered"] & ~critical["handled"]).sum()),
        "moderate": int((frame["toxic"] & ~frame["handled"]).sum()),
        "alerts": len(data.alerts),
    }


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
    if threads.empty:
        return f"<p class='muted'>{html.escape(words['no_data'])}</p>"
    rows = []
    for thread_id, count in threads.items():
        post = data.posts.get(thread_id) or {}
        text = _excerpt(post.get("text") or words["post_missing"])
        url = _safe_url(post.get("url"))
        link = f"<a href='{html.escape(url, quote=True)}'>{html.escape(words['open'])}</a>" if url else ""
        rows.append(
            "<tr>"
            f"<td class='num'>{int(count)}</td>"
            f"<td>{html.escape(text)}<div class='muted'>{html.escape(str(thread_id))}</div></td>"
            f"<td>{html.escape(str(post.get('channel') or ''))}</td>"
            f"<td>{html.escape(str(post.get('created_at') or '')[:10])}</td>"
            f"<td>{link}</td>"
            "</tr>"
        )
    head = (
        f"<tr><th>{html.escape(count_label)}</th><th>{html.escape(words['post'])}</th>"
        f"<th>{html.escape(words['channel_column'])}</th><th>{html.escape(words['date'])}</th><th></th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _alerts_table(data: ReportData, words: dict[str, str]) -> str:
    if not data.alerts:
        return f"<p class='muted'>{html.escape(words['no_alerts'])}</p>"
    rows = []
    for alert in data.alerts:
        severity = str(alert.get("severity") or "")
        colour = SEVERITY_COLOURS.get(severity, "#eee")
        rows.append(
            "<tr>"
            f"<td>{html.escape(str(alert.get('episode_start') or ''))}</td>"
            f"<td><span class='badge' style='background:{colour}'>{html.escape(severity)}</span></td>"
            f"<td>{html.escape(str(alert.get('summary') or ''))}</td>"
            "</tr>"
        )
    head = (
        f"<tr><th>{html.escape(words['start'])}</th><th>{html.escape(words['severity'])}</th>"
        f"<th>{html.escape(words['summary'])}</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;background:#f6f6f4;color:#222}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:26px}h2{font-size:18px;margin:28px 0 8px}
.muted{color:#777;font-size:12px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin-top:16px}
.kpi{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kpi b{display:block;font-size:22px}.kpi span{font-size:12px;color:#555}
figure{background:#fff;border-radius:8px;margin:0;padding:10px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
figure img{width:100%;height:auto;display:block}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:6px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-weight:bold}
.badge{padding:1px 6px;border-radius:4px}
"""

# Tells a reader (and the browser test) whether every chart decoded; reports nothing external.
SELF_CHECK = """
window.addEventListener('load', function () {
  var charts = document.querySelectorAll('img.chart');
  var ok = 0;
  charts.forEach(function (img) { if (img.complete && img.naturalWidth > 0) { ok += 1; } });
  document.body.setAttribute('data-charts-rendered', ok + '/' + charts.length);
  console.log('ecoute-report: charts rendered ' + ok + '/' + charts.length);
});
"""


def render(data: ReportData, start: date, end: date, lang: str, channel: str | None) -> str:
    words = WORDS[lang]
    t0 = clock.perf_counter()
    _, bucket_word = _bucket(start, end)
    charts = [
        ("mood", words["mood_title"], words["mood_help"].format(bucket=words[bucket_word]), chart_mood(data, start, end, words)),
        ("criticism", words["criticism_title"], "", chart_criticism(data, start, end, words)),
        ("topics", words["topics_title"], words["topics_help"].format(n=8), chart_topics(data, start, end, words)),
        ("sources", words["sources_title"], "", chart_sources(data, words)),
        ("response", words["response_title"], words["response_help"], chart_response(data, start, end, words)),
    ]  # fmt: skip
    data.timings["charts"] = round(clock.perf_counter() - t0, 2)
    figures = kpis(data)
    mood = "–" if figures["mood"] is None else f"{figures['mood']:+.2f}"
    rate = "–" if figures["response_rate"] is None else f"{figures['response_rate']:.0f} %"
    cards = [
        (words["kpi_items"], f"{figures['items']:,}".replace(",", " ")),
        (words["kpi_mood"], mood),
        (words["kpi_criticism"], f"{figures['criticism']}"),
        (words["kpi_constructive"], f"{figures['constructive']}"),
        (words["kpi_toxic"], f"{figures['toxic']}"),
        (words["kpi_response_rate"], rate),
        (words["kpi_response_time"], _fmt_hours(figures["median_response_hours"], words)),
        (words["kpi_unanswered"], f"{figures['unanswered']}"),
        (words["kpi_moderate"], f"{figures['moderate']}"),
        (words["kpi_alerts"], f"{figures['alerts']}"),
    ]
    kpi_html = "".join(f"<div class='kpi'><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>" for k, v in cards)
    chart_html = "".join(
        f"<section id='{key}'><h2>{html.escape(title)}</h2>"
        + (f"<p class='muted'>{html.escape(help_text)}</p>" if help_text else "")
        + f"<figure><img class='chart' alt='{html.escape(title, quote=True)}' src='{uri}'></figure></section>"
        for key, title, help_text, uri in charts
    )
    subtitle = words["subtitle"].format(
        start=start.isoformat(), end=end.isoformat(),
        channel=words["channel"].format(channel=channel) if channel else words["all_channels"],
    )  # fmt: skip
    generated = words["generated"].format(
        now=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), n=f"{figures['items']:,}".replace(",", " ")
    )
    critical_mask = data.frame["criticism"]
    positive_mask = data.frame["sentiment"] == "positive"
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{html.escape(words["title"])} {start.isoformat()} – {end.isoformat()}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>{html.escape(words["title"])}</h1>
<div class="muted">{html.escape(subtitle)}</div>
<div class="muted">{html.escape(generated)}</div>
<div class="kpis">{kpi_html}</div>
{chart_html}
<section id="top-critical"><h2>{html.escape(words["top_critical"])}</h2>
{_posts_table(data, critical_mask, words["count_critical"], words)}</section>
<section id="top-positive"><h2>{html.escape(words["top_positive"])}</h2>
{_posts_table(data, positive_mask, words["count_positive"], words)}</section>
<section id="alerts"><h2>{html.escape(words["alerts_title"])}</h2>{_alerts_table(data, words)}</section>
<section id="queues"><h2>{html.escape(words["queues_title"])}</h2>
<p>{html.escape(words["kpi_unanswered"])}: <b>{figures["unanswered"]}</b> · {html.escape(words["kpi_moderate"])}: <b>{figures["moderate"]}</b></p>
<p class="muted">{html.escape(words["queues_help"])}</p></section>
</main>
<script>{SELF_CHECK}</script>
</body>
</html>
"""
