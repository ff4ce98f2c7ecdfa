"""The team digest: an HTML email with the period's figures versus the previous period, a chart,
the top topics, the most-liked criticism and the criticism still unanswered after N hours.

``run_digest(settings, last_day, period="daily"|"weekly")`` covers ``last_day`` (daily) or the 7
days ending with it (weekly), compares with the period just before, saves an HTML preview under
``<state_dir>/digests/`` and emails ``settings.alerts.recipients`` through Airflow's SMTP hook.
Additive figures and the chart come from the daily rollups; medians and rates are recomputed from
the mentions themselves (a median of medians would be wrong).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ecoute.events import to_rfc3339
from ecoute.settings import Settings
from jobs.reporting import kpis
from jobs.reporting.kpis import mood_index

log = logging.getLogger(__name__)

UNANSWERED_HOURS = 24
UNANSWERED_LOOKBACK = timedelta(days=7)
FIELDS = [
    "id",
    "kind",
    "channel",
    "author.is_brand",
    "created_at",
    "sentiment",
    "topics",
    "toxic",
    "criticism",
    "constructive",
    "question",
    "answered_by_brand",
    "brand_answered_at",
    "text",
    "url",
    "metrics.likes",
]


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _load(client: Any, settings: Settings, start: datetime, end: datetime, extra: list | None = None) -> list[dict]:
    from elasticsearch import NotFoundError

    from ecoute.es import scan_docs
    from ecoute.views.common import community

    query = community({"range": {"created_at": {"gte": to_rfc3339(start), "lt": to_rfc3339(end)}}}, *(extra or []))
    try:
        return list(scan_docs(client, settings.indices.mentions, query, FIELDS))
    except NotFoundError:
        return []


def summarise(docs: list[dict[str, Any]]) -> dict[str, float | None]:
    """Period figures of community items (the brand's own items are excluded by the query)."""
    import pandas as pd

    volume = len(docs)
    sentiments = Counter(d.get("sentiment") for d in docs)
    answerable = [d for d in docs if kpis.answerable(d)]
    answered = [d for d in answerable if kpis.answered(d)]
    delays = [m for m in map(kpis.response_minutes, answered) if m is not None]
    questions = [d for d in docs if d.get("question")]
    answered_questions = [d for d in questions if d.get("answered_by_brand")]
    return {
        "volume": volume,
        "comments": sum(d.get("kind") in ("comment", "reply") for d in docs),
        "mood_index": mood_index(sentiments["positive"], sentiments["negative"], volume),
        "negative_share": sentiments["negative"] / volume if volume else None,
        "criticism": sum(bool(d.get("criticism")) for d in docs),
        "criticism_constructive": sum(bool(d.get("criticism")) and bool(d.get("constructive")) for d in docs),
        "toxic": sum(bool(d.get("toxic")) for d in docs),
        "brand_response_rate": kpis.response_rate(len(answered), len(answerable)),
        "median_response_minutes": float(pd.Series(delays).median()) if delays else None,
        "questions": len(questions),
        "question_response_rate": len(answered_questions) / len(questions) if questions else None,
        "median_question_response_minutes": _median_minutes(answered_questions),
    }


def _median_minutes(answered: list[dict[str, Any]]) -> float | None:
    """Median minutes from an item to the brand's first answer (negative delays dropped)."""
    import pandas as pd

    delays = [
        (pd.Timestamp(d["brand_answered_at"]) - pd.Timestamp(d["created_at"])).total_seconds() / 60
        for d in answered
        if d.get("brand_answered_at") and d.get("created_at")
    ]
    delays = [x for x in delays if x >= 0]
    return float(pd.Series(delays).median()) if delays else None


# Figures where a rise is bad news (coloured red); the others are good news when they rise.
WORSE_WHEN_UP = {"negative_share", "criticism", "toxic", "median_response_minutes", "median_question_response_minutes"}
NEUTRAL = {"volume", "comments", "criticism_constructive", "questions"}
PERCENT = {"negative_share", "brand_response_rate", "question_response_rate"}


def _format(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    if key in PERCENT:
        return f"{value * 100:.1f} %"
    if key == "mood_index":
        return f"{value:+.2f}"
    if key.startswith("median_"):
        return f"{value:.0f}"
    return f"{int(value):,}".replace(",", "\u202f")


def _change(key: str, current: float | None, previous: float | None) -> tuple[str, bool, bool]:
    if current is None or previous is None:
        return "–", False, False
    delta = current - previous
    if key in PERCENT:
        text = f"{delta * 100:+.1f} pt"
    elif key == "mood_index":
        text = f"{delta:+.2f}"
    elif previous:
        text = f"{delta / previous * 100:+.0f} %"
    else:
        text = f"{delta:+.0f}"
    if abs(delta) < 1e-9 or key in NEUTRAL:
        return text, False, False
    up_is_bad = key in WORSE_WHEN_UP
    return text, (delta > 0) == up_is_bad, (delta > 0) != up_is_bad


def build_digest(
    settings: Settings, last_day: date, period: str = "daily", unanswered_hours: int = UNANSWERED_HOURS
) -> Any:
    """The digest Email for the period ending with ``last_day`` (inclusive)."""
    from ecoute.es import make_client
    from jobs.alerts import kibana_link
    from jobs.notify import Email, language_of, load_strings, render
    from jobs.notify.charts import chart_png

    strings = load_strings("emails")
    from jobs.reporting.rollups import read_rollups

    if period not in ("daily", "weekly"):
        raise ValueError(f"period must be 'daily' or 'weekly', got {period!r}")
    language = language_of(settings)
    words = strings[language]
    days = 1 if period == "daily" else 7
    first = last_day - timedelta(days=days - 1)
    prev_first, prev_last = first - timedelta(days=days), first - timedelta(days=1)
    end = _start(last_day + timedelta(days=1))
    client = make_client(settings)
    current_docs = _load(client, settings, _start(first), end)
    previous_docs = _load(client, settings, _start(prev_first), _start(first))
    current, previous = summarise(current_docs), summarise(previous_docs)

    # New members come from the rollups (first-seen needs the whole history).
    chart_days = 14 if period == "daily" else 28
    rows = read_rollups(settings, last_day - timedelta(days=chart_days - 1), last_day)
    new_authors: Counter = Counter()
    per_day_volume: Counter = Counter()
    per_day_criticism: Counter = Counter()
    for row in rows:
        day = date.fromisoformat(row["day"])
        per_day_volume[day] += row["volume"]
        per_day_criticism[day] += row["criticism"]
        if first <= day <= last_day:
            new_authors["current"] += row["new_authors"]
        elif prev_first <= day <= prev_last:
            new_authors["previous"] += row["new_authors"]
    current["new_authors"], previous["new_authors"] = new_authors["current"], new_authors["previous"]

    figures = []
    for key in (
        "volume",
        "comments",
        "mood_index",
        "negative_share",
        "criticism",
        "criticism_constructive",
        "toxic",
        "brand_response_rate",
        "median_response_minutes",
        "questions",
        "question_response_rate",
        "median_question_response_minutes",
        "new_authors",
    ):
        change, worse, better = _change(key, current[key], previous[key])
        figures.append(
            {
                "label": words[f"m_{key}"],
                "current": _format(key, current[key]),
                "previous": _format(key, previous[key]),
                "change": change,
                "worse": worse,
                "better": better,
            }
        )

    topic_now = Counter(t for d in current_docs for t in d.get("topics") or [])
    topic_before = Counter(t for d in previous_docs for t in d.get("topics") or [])
    topic_critical = Counter(t for d in current_docs if d.get("criticism") for t in d.get("topics") or [])
    topics = [
        {
            "topic": topic,
            "volume": count,
            "criticism": topic_critical[topic],
            "change": _change("volume", count, topic_before[topic])[0] if topic_before[topic] else words["new_topic"],
        }
        for topic, count in topic_now.most_common(5)
    ]

    def view(doc: dict[str, Any]) -> dict[str, Any]:
        url = doc.get("url")
        return {
            "text": doc.get("text") or "",
            "url": url if isinstance(url, str) and url.startswith(("https://", "http://")) else None,
            "likes": (doc.get("metrics") or {}).get("likes", 0) or 0,
            "channel": doc.get("channel") or "",
            "created_at": (doc.get("created_at") or "")[:16].replace("T", " "),
        }

    critical = [d for d in current_docs if d.get("criticism")]
    liked = sorted(critical, key=lambda d: -((d.get("metrics") or {}).get("likes", 0) or 0))[:5]
    cutoff = end - timedelta(hours=unanswered_hours)
    waiting = _load(
        client,
        settings,
        min(end - UNANSWERED_LOOKBACK, cutoff),
        cutoff,
        [{"term": {"criticism": True}}, {"bool": {"must_not": [{"term": {"answered_by_brand": True}}]}}],
    )
    waiting.sort(key=lambda d: d.get("created_at") or "")

    images = {}
    chart_cid = None
    chart_range = [last_day - timedelta(days=i) for i in range(chart_days - 1, -1, -1)]
    if any(per_day_volume.values()):
        chart_cid = "chart"
        images[chart_cid] = chart_png(
            [_start(d) for d in chart_range],
            [per_day_volume[d] for d in chart_range],
            [per_day_criticism[d] for d in chart_range],
            title=words["digest_chart_title"],
            observed_label=words["digest_chart_volume"],
            usual_label=words["digest_chart_criticism"],
            highlight_from=_start(first),
        )
    subject = words[f"digest_subject_{period}"].format(day=(first if period == "weekly" else last_day).isoformat())
    html, text = render(
        "digest",
        language,
        subject=subject,
        title=words[f"digest_title_{period}"],
        period={
            "start": first.isoformat(),
            "end": last_day.isoformat(),
            "prev_start": prev_first.isoformat(),
            "prev_end": prev_last.isoformat(),
        },
        figures=figures,
        topics=topics,
        liked=[view(d) for d in liked],
        unanswered=[view(d) for d in waiting[:10]],
        unanswered_total=len(waiting),
        unanswered_hours=unanswered_hours,
        chart_cid=chart_cid,
        kibana_link=kibana_link(settings, _start(first), end, None),
        alerts=alert_summary(client, settings, _start(first), end),
    )
    return Email(subject=subject, html=html, text=text, recipients=list(settings.alerts.recipients), images=images)


def alert_summary(client: Any, settings: Settings, start: datetime, end: datetime) -> dict[str, Any]:
    """Alerts of the period with the managers' verdicts (precision) and the short bursts that got
    no email (jobs/alerts/, jobs/alerts/verdicts.py)."""
    from jobs.alerts import short_bursts
    from jobs.alerts.verdicts import alert_precision

    summary = alert_precision(client, settings, start, end)
    precision = summary["precision"]
    summary["precision_text"] = f"{precision * 100:.0f} %" if precision is not None else "–"
    summary["short_bursts"] = [
        {**b, "start": b["start"][:16].replace("T", " ")} for b in short_bursts(client, settings, start, end)[:10]
    ]
    return summary


def run_digest(
    settings: Settings,
    last_day: date,
    period: str = "daily",
    send_email: bool = True,
    unanswered_hours: int = UNANSWERED_HOURS,
) -> dict[str, Any]:
    """Build the digest, save its HTML preview, send it; returns subject, preview path and sent flag."""
    from jobs.notify import save_preview
    from jobs.notify import send_email as deliver

    email = build_digest(settings, last_day, period, unanswered_hours)
    preview = save_preview(email, settings.state_dir / "digests", f"digest-{period}-{last_day.isoformat()}")
    if send_email:
        deliver(settings, email)
    return {"subject": email.subject, "preview": str(preview), "sent": send_email, "period": period}
