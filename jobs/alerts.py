"""Criticism spike watch: count distinct critical voices per bucket, detect spikes, record, email.

``run_criticism_watch(settings, now)`` is what the 15-minute DAG calls; each run:

1. counts critical community mentions (``criticism: true``, not written by the brand) per bucket of
   ``settings.alerts.bucket_minutes`` over the last ``HISTORY`` (overall, and per channel when there
   is more than one), up to the last *complete* bucket before ``now``. A mention counts only when
   it adds a voice (``voice_weights``: an author or an identical text already counted within
   ``REPEAT_WINDOW`` counts zero); messages and distinct authors are kept for the explanation;
2. runs the causal detector of ``jobs.spikes`` on each series (parameters from the settings: the
   alert budget, the pages' time zone; the margin moved by the managers' verdicts); an alert the
   detector raised in the last few buckets opens an episode document in ``ecoute-alerts``
   (``_id = scope|episode start``) with its explanation, unless an episode (of any scope) was
   recorded within the last hours, and is produced to ``ecoute.alerts.v1``;
3. re-alerts an announced open episode only when it grew by a severity step or a second page
   joined it; otherwise the episode extends silently;
4. marks open episodes whose burst is over as ``ended`` and says so in a short email;
5. emails every alert whose ``email_sent_at`` is still empty (one email per run, grouping the
   alerts; held during quiet hours and sent as one morning summary after them), then stamps
   ``email_sent_at``. If SMTP is down the alert keeps ``email_error`` and is sent by the next run;
   a stamped alert is never sent again.

``replay_criticism_watch(settings, start, end)`` does the same over a past period in one pass (the
detector is causal, so one pass gives the decisions hourly runs would have taken). See
docs/alerts.md.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ecoute.events import to_rfc3339
from ecoute.settings import Settings
from ecoute.views.common import KQL_COMMUNITY, community
from jobs.rollups import ensure_index_mapping
from jobs.spikes import Decision, SpikeParams, run_detector, severity_of

log = logging.getLogger(__name__)

HISTORY = timedelta(days=28)  # the baseline learns daily and weekly rhythms from this much data
LOOKBACK = timedelta(hours=3)  # alerts raised this recently are (re)considered: survives missed runs
SAME_EPISODE = timedelta(hours=3)  # a stored alert of the scope this recent means "same episode"
EMAIL_MAX_AGE = timedelta(hours=24)  # pending emails older than this are no longer worth sending
RESOLVED_MAX_AGE = timedelta(hours=6)  # an end noticed later than this gets no "resolved" email
SECOND_PAGE_SHARE = 0.3  # a page with this share of the excess "joins" an episode (escalation)
OVERALL = "overall"
# Alerts are raised on the overall series; per-channel series give the breakdown ("mostly on
# facebook:…"). Per-channel alerts fired on small channels' handfuls of comments (measured on the
# demo month: false alarms on Instagram and YouTube on calm days), so they are off unless asked for.
CHANNEL_ALERTS = False
CHART_HOURS = 48
REPEAT_WINDOW = timedelta(hours=6)  # an author or a text counts once within this long
MIN_REPEAT_WORDS = 4  # shorter texts are not treated as copies of each other
MOSTLY_REPEATS = 0.5  # the alert says "mostly repeats" from this share of repeated messages
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class ScopeSeries:
    scope: str  # "overall" or "channel:<name>"
    channel: str | None
    times: list[datetime]
    counts: list[float]
    decisions: list[Decision]
    messages: list[int] = field(default_factory=list)  # critical messages per bucket (counts: distinct voices)
    authors: list[set[str]] = field(default_factory=list)  # authors per bucket



def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """A plain, aware UTC datetime (naive means UTC; pendulum's DateTime from Airflow is converted)."""
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(value.timestamp(), UTC)


def floor_time(value: datetime, minutes: int) -> datetime:
    value = as_utc(value)
    epoch = int(value.timestamp()) // (minutes * 60) * minutes * 60
    return datetime.fromtimestamp(epoch, UTC)


def critical_query(start: datetime, end: datetime, channel: str | None = None) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"term": {"criticism": True}},
        {"range": {"created_at": {"gte": to_rfc3339(start), "lt": to_rfc3339(end)}}},
    ]
    if channel:
        filters.append({"term": {"channel": channel}})
    return community(*filters)


@dataclass(frozen=True)
class CriticalMention:
    """What the watch needs of one critical community mention."""

    created_at: datetime
    channel: str
    author: str | None  # pseudonymous author id
    text_key: str | None  # normalised text, None when too short to be a copy-paste signature


_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"[@#]\w+")
_NON_WORD = re.compile(r"[^\w]+")


def text_key(text: str | None) -> str | None:
    """The text as a bot or a copy-paste campaign repeats it: case, accents' case, links, handles
    and punctuation ignored. Texts of fewer than ``MIN_REPEAT_WORDS`` words get no key: many people
    write "honteux !" without copying anyone."""
    if not text:
        return None
    words = _NON_WORD.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", text.casefold()))).split()
    return " ".join(words) if len(words) >= MIN_REPEAT_WORDS else None


def load_critical_times(client: Any, settings: Settings, start: datetime, end: datetime) -> list[CriticalMention]:
    """Every critical community mention in [start, end), oldest first."""
    from elasticsearch import NotFoundError

    from ecoute.es import scan_docs

    fields = ["created_at", "channel", "author.id", "text"]
    try:
        docs = scan_docs(client, settings.indices.mentions, critical_query(start, end), fields)
        found = [
            CriticalMention(
                _parse(d["created_at"]), d.get("channel") or "unknown", (d.get("author") or {}).get("id"), text_key(d.get("text"))
            )
            for d in docs
            if d.get("created_at")
        ]
    except NotFoundError:
        return []
    return sorted(found, key=lambda m: m.created_at)


def voice_weights(mentions: list[CriticalMention]) -> list[float]:
    """1 for a mention that adds a voice, 0 for a repeat: an author already counted within
    ``REPEAT_WINDOW``, or a text already counted within it (bots, copy-paste campaigns). Mentions
    must be oldest first. A crisis is many people complaining, not one account posting a lot."""
    authors: dict[str, datetime] = {}
    texts: dict[str, datetime] = {}
    weights = []
    for m in mentions:
        repeat = (m.author is not None and m.created_at - authors.get(m.author, _NEVER) < REPEAT_WINDOW) or (
            m.text_key is not None and m.created_at - texts.get(m.text_key, _NEVER) < REPEAT_WINDOW
        )
        if not repeat:  # a repeat does not renew the window: a bot posting every hour stays one voice
            if m.author is not None:
                authors[m.author] = m.created_at
            if m.text_key is not None:
                texts[m.text_key] = m.created_at
        weights.append(0.0 if repeat else 1.0)
    return weights


def detector_params(settings: Settings, client: Any = None) -> SpikeParams:
    """The detector's parameters for the pages: the alert budget and the clock of the settings,
    and the margin the managers' verdicts on past alerts moved (jobs/alert_feedback.py)."""
    params = replace(
        SpikeParams(),
        false_alerts_per_14d=settings.alerts.false_alerts_per_page_per_14d,
        timezone=settings.alerts.timezone,
    )
    if client is not None:
        from jobs.alert_feedback import sensitivity_margin

        params = replace(params, margin=sensitivity_margin(client, settings, params.margin))
    return params


def build_series(
    mentions: list[CriticalMention], end: datetime, bucket_minutes: int, params: SpikeParams | None = None
) -> list[ScopeSeries]:
    """Per-scope bucket counts of distinct voices (see ``voice_weights``) from the first bucket with
    data up to ``end`` (exclusive), decided. Raw message counts and the authors are kept too, for
    the explanation ("120 messages from 35 authors, mostly repeats")."""
    if not mentions:
        return []
    mentions = sorted(mentions, key=lambda m: m.created_at)
    weights = voice_weights(mentions)
    step = timedelta(minutes=bucket_minutes)
    first = floor_time(mentions[0].created_at, bucket_minutes)
    n = int((end - first) / step)
    if n <= 0:
        return []
    times = [first + i * step for i in range(n)]
    channels = sorted({m.channel for m in mentions})
    scopes = [OVERALL] + ([f"channel:{c}" for c in channels] if len(channels) > 1 else [])
    counts = {scope: [0.0] * n for scope in scopes}
    messages = {scope: [0] * n for scope in scopes}
    authors: dict[str, list[set[str]]] = {scope: [set() for _ in range(n)] for scope in scopes}
    for mention, weight in zip(mentions, weights, strict=True):
        i = int((mention.created_at - first) / step)
        if not 0 <= i < n:
            continue
        for scope in (OVERALL, f"channel:{mention.channel}") if len(channels) > 1 else (OVERALL,):
            counts[scope][i] += weight
            messages[scope][i] += 1
            authors[scope][i].add(mention.author or f"?{id(mention)}")
    naive = [t.replace(tzinfo=None) for t in times]
    result = []
    for scope in scopes:
        decisions = run_detector(naive, counts[scope], bucket_minutes, params)
        channel = scope.split(":", 1)[1] if scope.startswith("channel:") else None
        result.append(ScopeSeries(scope, channel, times, counts[scope], decisions, messages[scope], authors[scope]))
    return result


def voices(series: ScopeSeries, index: int, minutes: int) -> dict[str, Any]:
    """Messages, distinct authors and the share of repeats over the ``minutes`` ending with bucket
    ``index``; ``mostly_repeats`` when repeats are at least half of the messages."""
    bucket = int(series_step(series).total_seconds() // 60)
    start = series.times[index] - timedelta(minutes=max(minutes, bucket) - bucket)
    messages, counted, authors = 0, 0.0, set()
    for j in range(index, -1, -1):
        if series.times[j] < start:
            break
        messages += series.messages[j]
        counted += series.counts[j]
        authors |= series.authors[j]
    repeats = 1 - counted / messages if messages else 0.0
    return {
        "messages": messages,
        "distinct_authors": len(authors),
        "repeat_share": round(repeats, 3),
        "mostly_repeats": repeats >= MOSTLY_REPEATS,
    }


def _window_sums(series: ScopeSeries, index: int, minutes: int, bucket_minutes: int) -> tuple[float, float]:
    """Observed and expected counts over the ``minutes`` ending with bucket ``index``."""
    start = series.times[index] - timedelta(minutes=max(minutes, bucket_minutes) - bucket_minutes)
    observed = expected = 0.0
    for j in range(index, -1, -1):
        if series.times[j] < start:
            break
        observed += series.counts[j]
        expected += series.decisions[j].expected
    return observed, expected


def channel_breakdown(series_list: list[ScopeSeries], index: int, window: int, bucket: int) -> list[tuple[str, float]]:
    """(channel, share of the window's excess) for each channel with an excess, largest first."""
    excess = {}
    for series in series_list:
        if series.channel is None or index >= len(series.times):
            continue
        observed, expected = _window_sums(series, index, window, bucket)
        if observed > expected:
            excess[series.channel] = observed - expected
    total = sum(excess.values())
    return sorted(((c, e / total) for c, e in excess.items()), key=lambda x: -x[1]) if total else []


def explanation(series: ScopeSeries, index: int) -> dict[str, Any]:
    """Why the detector decided what it did at bucket ``index``, in the words of the email."""
    decision = series.decisions[index]
    window = decision.window_minutes or int(series_step(series).total_seconds() // 60)
    finite = decision.threshold if math.isfinite(decision.threshold) else None
    return {
        "window_minutes": window,
        "observed": round(decision.observed, 3),  # distinct voices over the window
        "baseline": round(decision.baseline, 3),  # median of the same window on the previous days
        "ratio": round(decision.raw_ratio, 3),
        "score": round(decision.ratio, 3),
        "short_ratio": round(decision.short_ratio, 3),
        "long_ratio": round(decision.long_ratio, 3),
        "yesterday": decision.yesterday,
        "last_week": decision.last_week,
        "threshold": round(finite, 3) if finite is not None else None,
        "usual_peak": round(decision.usual_peak, 3) if decision.usual_peak is not None else None,
        **voices(series, index, window),
    }


def _alert_doc(
    settings: Settings, series: ScopeSeries, index: int, detected_at: datetime, breakdown: list[tuple[str, float]] | None = None
) -> dict[str, Any]:
    decision = series.decisions[index]
    bucket = settings.alerts.bucket_minutes
    why = explanation(series, index)
    window = why["window_minutes"]
    observed, expected = why["observed"], why["baseline"]
    start = series.times[index]
    scope_words = f"channel {series.channel}" if series.channel else "all channels"
    repeats = f"; {why['repeat_share']:.0%} repeats (mostly repeats)" if why["mostly_repeats"] else ""
    return {
        "id": f"{series.scope}|{to_rfc3339(start)}",
        "scope": series.scope,
        "channel": series.channel,
        "severity": decision.severity or "warning",
        "status": "open",
        "bucket_start": to_rfc3339(start),
        "bucket_minutes": bucket,
        "window_minutes": window,
        "episode_start": to_rfc3339(start),
        "observed": observed,
        "expected": expected,
        "ratio": round(decision.raw_ratio, 3),
        "peak_ratio": round(decision.raw_ratio, 3),
        "score": round(decision.ratio, 3),
        "messages": why["messages"],
        "distinct_authors": why["distinct_authors"],
        "repeat_share": why["repeat_share"],
        "explanation": why,
        "top_mentions": [],
        "breakdown": [{"channel": c, "share": round(share, 3)} for c, share in (breakdown or [])],
        "summary": (
            f"{why['messages']} critical messages from {why['distinct_authors']} authors in {window} min on "
            f"{scope_words} vs {expected:.1f} usually (x{decision.raw_ratio:.1f}; yesterday {_count(why['yesterday'])}, "
            f"last week {_count(why['last_week'])}){repeats}"
            + "".join(f"; {share:.0%} of the excess on {channel}" for channel, share in (breakdown or [])[:3])
        ),
        "detected_at": to_rfc3339(detected_at),
        "email_sent_at": None,
        "email_recipients": [],
        "email_error": None,
    }


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _stored_alerts(client: Any, settings: Settings, query: dict[str, Any]) -> list[dict[str, Any]]:
    from ecoute.es import scan_docs

    if not client.indices.exists(index=settings.indices.alerts):
        return []
    return list(scan_docs(client, settings.indices.alerts, query))


def top_mentions(
    client: Any, settings: Settings, start: datetime, end: datetime, channel: str | None, size: int = 5
) -> list[dict[str, Any]]:
    """The most-liked critical community mentions of [start, end) (sorted in Python: works anywhere)."""
    from elasticsearch import NotFoundError

    from ecoute.es import scan_docs

    fields = ["id", "text", "url", "channel", "created_at", "metrics.likes", "metrics.replies", "source"]
    try:
        docs = list(scan_docs(client, settings.indices.mentions, critical_query(start, end, channel), fields))
    except NotFoundError:
        return []
    docs.sort(key=lambda d: (-(d.get("metrics") or {}).get("likes", 0) or 0, d.get("created_at", "")))
    return docs[:size]


def _safe_url(url: Any) -> str | None:
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def kibana_link(settings: Settings, start: datetime, end: datetime, channel: str | None) -> str:
    query = f"criticism:true and {KQL_COMMUNITY}" + (f' and channel:"{channel}"' if channel else "")
    app_state = f"(query:(language:kuery,query:'{query}'))"
    global_state = f"(time:(from:'{to_rfc3339(start)}',to:'{to_rfc3339(end)}'))"
    return (
        f"{settings.alerts.kibana_url.rstrip('/')}/app/discover#/?_g={quote(global_state, safe='():,')}"
        f"&_a={quote(app_state, safe='():,')}"
    )


def es_query_text(settings: Settings, channel: str | None) -> str:
    channel_part = f' AND channel:"{channel}"' if channel else ""
    return f"GET {settings.indices.mentions}/_search?q=criticism:true{channel_part}"


# -- email ------------------------------------------------------------------------------------------
def _scope_label(words: dict[str, str], alert: dict[str, Any]) -> str:
    return words["scope_channel"].format(channel=alert["channel"]) if alert.get("channel") else words["scope_overall"]


def alert_email(
    settings: Settings,
    alerts: list[dict[str, Any]],
    series: ScopeSeries | None,
    posts: list[dict[str, Any]],
    now: datetime,
    kind: str = "opened",
) -> Any:
    """The Email (HTML + text + chart) announcing ``alerts`` (the first is the primary one).

    ``kind``: "opened" (a new episode), "morning" (alerts held over the quiet hours), "escalated"
    (an announced episode grew by a severity step or reached a second page), "resolved" (short:
    the episode is over)."""
    from jobs.alert_feedback import feedback_links
    from jobs.notify import Email, language_of, load_strings, render
    from jobs.notify.charts import chart_png

    strings = load_strings("emails")

    language = language_of(settings)
    words = strings[language]
    rank = {"critical": 0, "high": 1, "warning": 2}
    ordered = sorted(alerts, key=lambda a: (rank.get(a["severity"], 3), -(a.get("ratio") or 0)))
    views = []
    for alert in ordered:
        minutes = _window_minutes(alert)
        views.append(
            {
                "scope_label": _scope_label(words, alert),
                "severity": alert["severity"],
                "severity_label": words.get(f"severity_{alert['severity']}", alert["severity"]),
                "observed": alert["observed"],
                "expected": alert["expected"],
                "ratio": alert.get("ratio") or 0.0,
                "window_minutes": minutes,
                "episode_start": _parse(alert["episode_start"]).strftime("%Y-%m-%d %H:%M UTC"),
                "breakdown": [
                    {"channel": b["channel"], "share": f"{b['share'] * 100:.0f} %"} for b in alert.get("breakdown") or []
                ][:4],
                **_explanation_view(alert),
            }
        )
    primary, others = views[0], views[1:]
    images = {}
    chart_cid = None
    if series is not None:
        cut = now - timedelta(hours=CHART_HOURS)
        keep = [i for i, t in enumerate(series.times) if t >= cut]
        if keep:
            chart_cid = "chart"
            images[chart_cid] = chart_png(
                [series.times[i] for i in keep],
                [series.counts[i] for i in keep],
                [series.decisions[i].expected for i in keep],
                title=words["chart_title"],
                observed_label=words["chart_observed"],
                usual_label=words["chart_usual"],
                highlight_from=_parse(ordered[0]["episode_start"]),
            )
    post_views = [
        {
            "text": p.get("text") or "",
            "url": _safe_url(p.get("url")),
            "likes": (p.get("metrics") or {}).get("likes", 0) or 0,
            "channel": p.get("channel") or "",
            "created_at": _parse(p["created_at"]).strftime("%Y-%m-%d %H:%M") if p.get("created_at") else "",
        }
        for p in posts
    ]
    start = _parse(ordered[0]["episode_start"]) - timedelta(hours=24)
    subject = words[f"alert_subject_{kind}" if kind != "opened" else "alert_subject"].format(
        severity=primary["severity_label"], scope=primary["scope_label"]
    )
    html, text = render(
        "alert",
        language,
        subject=subject,
        primary=primary,
        others=others,
        posts=post_views,
        chart_cid=chart_cid,
        kibana_link=kibana_link(settings, start, now, ordered[0].get("channel")),
        es_query=es_query_text(settings, ordered[0].get("channel")),
        feedback=feedback_links(settings, ordered[0]) if ordered[0].get("id") and kind != "resolved" else None,
        kind=kind,
        resolved=_resolved_view(ordered[0]) if kind == "resolved" else None,
    )
    return Email(subject=subject, html=html, text=text, recipients=list(settings.alerts.recipients), images=images)


def _resolved_view(alert: dict[str, Any]) -> dict[str, Any]:
    start = _parse(alert["episode_start"])
    ended = _parse(alert["ended_at"]) if alert.get("ended_at") else start
    return {
        "ended": ended.strftime("%Y-%m-%d %H:%M UTC"),
        "hours": f"{(ended - start).total_seconds() / 3600:.1f}",
        "peak": f"{alert.get('peak_ratio') or alert.get('ratio') or 0:.1f}",
    }


def _explanation_view(alert: dict[str, Any]) -> dict[str, Any]:
    """The explanation fields the templates show (alerts stored by older releases have none)."""
    why = alert.get("explanation") or {}
    threshold = why.get("usual_peak")
    return {
        "messages": alert.get("messages"),
        "distinct_authors": alert.get("distinct_authors"),
        "yesterday": why.get("yesterday"),
        "last_week": why.get("last_week"),
        "threshold": f"{threshold:.1f}" if threshold else None,
        "score": f"{why.get('score') or 0:.1f}",
        "history_days": SpikeParams().history_days,
        "mostly_repeats": bool(why.get("mostly_repeats")),
        "repeat_share": f"{(alert.get('repeat_share') or 0) * 100:.0f} %",
    }


def _window_minutes(alert: dict[str, Any]) -> int:
    return int(alert.get("window_minutes") or alert.get("bucket_minutes") or 60)


# -- the watch --------------------------------------------------------------------------------------
def _publish(settings: Settings, docs: list[dict[str, Any]]) -> None:
    from ecoute.kafka import Producer

    try:
        with Producer(settings) as producer:
            producer.send_batch(settings.topics.alerts, [(d["id"], d) for d in docs])
    except Exception as exc:  # the ES document is the record; Kafka consumers are notified best-effort
        log.error("could not produce %d alert(s) to %s: %s", len(docs), settings.topics.alerts, exc)


def _open_alerts(
    client: Any,
    settings: Settings,
    candidates: list[tuple[ScopeSeries, int, datetime]],
    all_series: list[ScopeSeries] | None = None,
) -> list[dict[str, Any]]:
    """Store the alerts that open a new episode: none recorded within SAME_EPISODE, whatever its
    scope (a crisis seen overall and on its channel is one episode, announced once)."""
    from ecoute.es import bulk_write, upsert_actions

    opened = []
    for series, index, detected_at in candidates:
        start = series.times[index]
        recent = _stored_alerts(
            client,
            settings,
            {
                "bool": {
                    "filter": [
                        {"range": {"episode_start": {"gte": to_rfc3339(start - SAME_EPISODE), "lte": to_rfc3339(start + SAME_EPISODE)}}},
                    ]
                }
            },
        )
        if recent:
            continue
        bucket = settings.alerts.bucket_minutes
        window = series.decisions[index].window_minutes or bucket
        breakdown = channel_breakdown(all_series or [], index, window, bucket) if series.scope == OVERALL else None
        doc = _alert_doc(settings, series, index, detected_at, breakdown)
        posts = top_mentions(client, settings, start - timedelta(hours=2), start + timedelta(minutes=settings.alerts.bucket_minutes), series.channel)
        doc["top_mentions"] = [p["id"] for p in posts if p.get("id")]
        result = bulk_write(client, upsert_actions(settings.indices.alerts, [doc]), refresh="wait_for")
        if result.failed:
            raise RuntimeError(f"alert {doc['id']} not stored: {result.failed[0]['error']}")
        opened.append(doc)
    if opened:
        _publish(settings, opened)
    return opened


def _update(client: Any, settings: Settings, alert_id: str, fields: dict[str, Any]) -> None:
    client.update(index=settings.indices.alerts, id=alert_id, doc=fields, refresh="wait_for")


def send_pending_emails(
    client: Any, settings: Settings, now: datetime, series_by_scope: dict[str, ScopeSeries]
) -> list[dict[str, Any]]:
    """Email every recent alert not yet emailed (one email per run); return the alerts sent."""
    from jobs.notify import send_email

    pending = _stored_alerts(
        client,
        settings,
        {
            "bool": {
                "filter": [{"range": {"detected_at": {"gte": to_rfc3339(now - EMAIL_MAX_AGE), "lte": to_rfc3339(now)}}}],
                "must_not": [{"exists": {"field": "email_sent_at"}}],
            }
        },
    )
    if not pending:
        return []
    if in_quiet_hours(settings, now):
        # Held, not lost: the first run after the quiet hours sends them all in one morning summary.
        for alert in pending:
            if not alert.get("held_for_morning"):
                _update(client, settings, alert["id"], {"held_for_morning": True})
        return []
    pending.sort(key=lambda a: a["id"])
    rank = {"critical": 0, "high": 1, "warning": 2}
    primary = min(pending, key=lambda a: (rank.get(a["severity"], 3), -(a.get("ratio") or 0)))
    start = _parse(primary["episode_start"])
    posts = top_mentions(client, settings, start - timedelta(hours=2), now, primary.get("channel"))
    kind = "morning" if any(a.get("held_for_morning") for a in pending) else "opened"
    email = alert_email(settings, pending, series_by_scope.get(primary["scope"]), posts, now, kind=kind)
    try:
        send_email(settings, email)
    except Exception as exc:
        log.error("alert email not sent (will retry next run): %s", exc)
        for alert in pending:
            _update(client, settings, alert["id"], {"email_error": f"{type(exc).__name__}: {exc}"[:2000]})
        return []
    sent_at = to_rfc3339(datetime.now(UTC))
    for alert in pending:
        _update(
            client, settings, alert["id"],
            {"email_sent_at": sent_at, "email_recipients": email.recipients, "email_error": None},
        )  # fmt: skip
        alert.update(email_sent_at=sent_at, email_recipients=email.recipients)
    return pending


def in_quiet_hours(settings: Settings, now: datetime) -> bool:
    """Whether ``now`` falls in the managers' quiet hours (local time; e.g. 22 → 7 spans midnight)."""
    start, end = settings.alerts.quiet_hours_start, settings.alerts.quiet_hours_end
    if start is None or end is None or start == end:
        return False
    hour = as_utc(now).astimezone(ZoneInfo(settings.alerts.timezone)).hour
    return start <= hour < end if start < end else hour >= start or hour < end


def _send_followup(
    client: Any, settings: Settings, alert: dict[str, Any], series: ScopeSeries | None, now: datetime, kind: str
) -> bool:
    """One short email about an alert already announced ("escalated" or "resolved"); True if sent."""
    from jobs.notify import send_email

    start = _parse(alert["episode_start"])
    posts = top_mentions(client, settings, start - timedelta(hours=2), now, alert.get("channel")) if kind != "resolved" else []
    try:
        send_email(settings, alert_email(settings, [alert], series, posts, now, kind=kind))
    except Exception as exc:  # the state stays unstamped: the next run tries again
        log.error("%s email for %s not sent (will retry next run): %s", kind, alert["id"], exc)
        return False
    return True


def _escalate_open_episodes(
    client: Any, settings: Settings, series_by_scope: dict[str, ScopeSeries], upto: datetime, now: datetime, send: bool
) -> list[dict[str, Any]]:
    """Re-alert an announced, open episode only when it grew by a severity step (the detector's
    ``escalated``) or a second page joined it (a channel with SECOND_PAGE_SHARE of the excess
    that was not in the first email). Everything else extends the episode silently."""
    escalated = []
    for alert in _stored_alerts(client, settings, {"term": {"status": "open"}}):
        series = series_by_scope.get(alert["scope"])
        if series is None or not alert.get("email_sent_at"):
            continue
        since = _parse(alert.get("escalated_at") or alert["detected_at"])
        index = next((i for i in range(len(series.times) - 1, -1, -1) if series.times[i] <= upto), None)
        if index is None:
            continue
        grew = [i for i, t in enumerate(series.times[: index + 1]) if t + series_step(series) > since and series.decisions[i].escalated]
        window = alert.get("window_minutes") or settings.alerts.bucket_minutes
        pages_before = {b["channel"] for b in alert.get("breakdown") or [] if b["share"] >= SECOND_PAGE_SHARE}
        breakdown = channel_breakdown(list(series_by_scope.values()), index, window, settings.alerts.bucket_minutes) if series.scope == OVERALL else []
        pages_now = {c for c, share in breakdown if share >= SECOND_PAGE_SHARE}
        joined = bool(pages_before) and bool(pages_now - pages_before)
        if not grew and not joined:
            continue
        peak = max([series.decisions[i].raw_ratio for i in grew] + [alert.get("peak_ratio") or alert.get("ratio") or 0.0])
        fields = {
            "peak_ratio": round(peak, 3),
            "severity": severity_of(peak),
            "escalated_at": to_rfc3339(now),
            "breakdown": [{"channel": c, "share": round(share, 3)} for c, share in breakdown] or alert.get("breakdown") or [],
        }
        alert.update(fields)
        if send and not _send_followup(client, settings, alert, series, now, "escalated"):
            continue
        _update(client, settings, alert["id"], fields)
        escalated.append(alert)
    return escalated


def _end_finished_episodes(
    client: Any,
    settings: Settings,
    series_by_scope: dict[str, ScopeSeries],
    upto: datetime,
    now: datetime | None = None,
    send: bool = False,
) -> None:
    """Mark open episodes whose burst is over as ended; say so by email to those who got the alert
    (a "resolved" email, only while the end is recent: a replay of last month sends none)."""
    for alert in _stored_alerts(client, settings, {"term": {"status": "open"}}):
        series = series_by_scope.get(alert["scope"])
        if series is None or not series.decisions or _parse(alert["episode_start"]) > upto:
            continue
        last = max((i for i, t in enumerate(series.times) if t <= upto), default=None)
        if last is None or series.decisions[last].in_episode:
            continue
        # The episode ended at the first calm bucket after its start (not when this run noticed it:
        # a replay notices every end at the end of its period).
        start = _parse(alert["episode_start"])
        ended = next(
            (t for t, d in zip(series.times[: last + 1], series.decisions[: last + 1], strict=True)
             if t > start and not d.in_episode),
            upto + series_step(series),
        )  # fmt: skip
        fields: dict[str, Any] = {"status": "ended", "ended_at": to_rfc3339(ended)}
        recent = now is not None and now - ended <= RESOLVED_MAX_AGE
        if send and recent and alert.get("email_sent_at") and not alert.get("resolved_email_sent_at"):
            alert.update(fields)
            if _send_followup(client, settings, alert, series, now, "resolved"):
                fields["resolved_email_sent_at"] = to_rfc3339(datetime.now(UTC))
        _update(client, settings, alert["id"], fields)


def series_step(series: ScopeSeries) -> timedelta:
    return series.times[1] - series.times[0] if len(series.times) > 1 else timedelta(hours=1)


def _candidates(
    series_list: list[ScopeSeries], since: datetime, until: datetime, params: SpikeParams | None = None
) -> list[tuple[ScopeSeries, int]]:
    """Detector alerts in [since, until), overall first. With CHANNEL_ALERTS, a channel's alert
    counts only when its excess alone would lift the overall volume by the detector's minimum
    ratio: a small channel's handful of extra comments is noise to the managers, not a crisis."""
    params = params or SpikeParams()
    overall = next((s for s in series_list if s.scope == OVERALL), None)
    found = []
    for series in series_list:
        if series.scope != OVERALL and not CHANNEL_ALERTS:
            continue
        for i, decision in enumerate(series.decisions):
            if not (decision.alert and since <= series.times[i] < until):
                continue
            if series.scope != OVERALL and overall is not None:
                bucket = int(series_step(series).total_seconds() // 60)
                window = decision.window_minutes or bucket
                observed, expected = _window_sums(series, i, window, bucket)
                _, overall_expected = _window_sums(overall, i, window, bucket)
                if observed - expected < (params.min_ratio - 1) * overall_expected:
                    continue
            found.append((series, i))
    found.sort(key=lambda c: (c[0].times[c[1]], c[0].scope != OVERALL, c[0].scope))
    return found


def run_criticism_watch(settings: Settings, now: datetime | None = None, send_email: bool = True) -> list[dict[str, Any]]:
    """One run of the spike watch at ``now`` (default: the current time). Returns the alerts opened
    or emailed by this run. Safe to call repeatedly with increasing ``now`` (also over the past)."""
    from ecoute.es import make_client

    now = as_utc(now or datetime.now(UTC))
    bucket = settings.alerts.bucket_minutes
    end = floor_time(now, bucket)  # buckets before this one are complete
    client = make_client(settings)
    ensure_index_mapping(client, settings.indices.alerts, "ecoute-alerts")
    mentions = load_critical_times(client, settings, end - HISTORY, end)
    params = detector_params(settings, client)
    series_list = build_series(mentions, end, bucket, params)
    by_scope = {s.scope: s for s in series_list}
    step = timedelta(minutes=bucket)
    candidates = [(s, i, now) for s, i in _candidates(series_list, end - max(LOOKBACK, 2 * step), end, params)]
    opened = _open_alerts(client, settings, candidates, series_list)
    escalated = _escalate_open_episodes(client, settings, by_scope, end - step, now, send_email)
    _end_finished_episodes(client, settings, by_scope, end - step, now, send_email)
    emailed = send_pending_emails(client, settings, now, by_scope) if send_email else []
    result = {a["id"]: a for a in opened}
    result.update({a["id"]: a for a in escalated})
    result.update({a["id"]: a for a in emailed})
    for alert in opened:
        log.info("alert opened: %s (%s)", alert["id"], alert["summary"])
    return list(result.values())


def replay_criticism_watch(
    settings: Settings, start: datetime, end: datetime, send_email: bool = True
) -> list[dict[str, Any]]:
    """What hourly runs of the watch over [start, end) would have done, computed in one pass.

    Each alert is recorded as detected at the end of its bucket (when the first run after it would
    have seen it), emailed then when ``send_email``. Returns every alert episode of the period as
    stored (with its email state), including those recorded by an earlier run or replay: a re-run
    returns the same list, opens nothing and sends nothing again."""
    from ecoute.es import make_client

    start, end = as_utc(start), as_utc(end)
    bucket = settings.alerts.bucket_minutes
    step = timedelta(minutes=bucket)
    end = floor_time(end, bucket)
    client = make_client(settings)
    ensure_index_mapping(client, settings.indices.alerts, "ecoute-alerts")
    mentions = load_critical_times(client, settings, start - HISTORY, end)
    params = detector_params(settings, client)
    series_list = build_series(mentions, end, bucket, params)
    candidates = _candidates(series_list, floor_time(start, bucket), end, params)
    opened: list[dict[str, Any]] = []
    for series, index in candidates:
        detected_at = series.times[index] + step
        # The series as the run at detected_at saw it: the detector is causal, so a prefix suffices.
        seen = _prefix(series, index + 1)
        new = _open_alerts(client, settings, [(seen, index, detected_at)], series_list)
        if new and send_email:
            send_pending_emails(client, settings, detected_at, {seen.scope: seen})
        opened.extend(new)
    by_scope = {s.scope: s for s in series_list}
    _end_finished_episodes(client, settings, by_scope, end - step)
    if opened:
        log.info("replay opened %d alert episode(s)", len(opened))
    # Every episode of the period, also those an earlier replay or run recorded (re-runs agree).
    recorded = _stored_alerts(
        client,
        settings,
        {"range": {"episode_start": {"gte": to_rfc3339(floor_time(start, bucket)), "lt": to_rfc3339(end)}}},
    )
    for alert in recorded:
        alert.pop("_id", None)
        alert.pop("_index", None)
    return sorted(recorded, key=lambda a: a["episode_start"])


def _prefix(series: ScopeSeries, n: int) -> ScopeSeries:
    return ScopeSeries(
        series.scope, series.channel, series.times[:n], series.counts[:n], series.decisions[:n],
        series.messages[:n], series.authors[:n],
    )  # fmt: skip


def short_bursts(client: Any, settings: Settings, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Short bursts of [start, end) (only the short window beat the page's ordinary peaks): not worth
    an email, worth a line in the digest. One entry per burst (buckets within 1 h merge)."""
    start, end = as_utc(start), as_utc(end)
    bucket = settings.alerts.bucket_minutes
    end = floor_time(end, bucket)
    mentions = load_critical_times(client, settings, start - HISTORY, end)
    params = detector_params(settings, client)
    found: list[dict[str, Any]] = []
    for series in build_series(mentions, end, bucket, params):
        if series.scope != OVERALL:
            continue
        for i, (t, d) in enumerate(zip(series.times, series.decisions, strict=True)):
            if t < start or not d.short_burst:
                continue
            if found and t - _parse(found[-1]["last"]) <= timedelta(hours=1):
                found[-1]["last"] = to_rfc3339(t)
                found[-1]["ratio"] = max(found[-1]["ratio"], round(d.short_ratio, 1))
                continue
            found.append({"start": to_rfc3339(t), "last": to_rfc3339(t), "ratio": round(d.short_ratio, 1), **voices(series, i, params.short_window_minutes)})
    return found

