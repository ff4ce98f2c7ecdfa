"""Criticism spike watch: count critical mentions per bucket, detect spikes, record, publish, email.

``run_criticism_watch(settings, now)`` is what the 15-minute DAG calls; each run:

1. counts critical community mentions (``criticism: true``, not written by the brand) per bucket of
   ``settings.alerts.bucket_minutes`` over the last ``HISTORY`` (overall, and per channel when there
   is more than one), up to the last *complete* bucket before ``now``;
2. runs the causal detector of ``jobs.spikes`` on each series; an alert the detector raised in the
   last few buckets opens an episode document in ``ecoute-alerts`` (``_id = scope|episode start``),
   unless an episode (of any scope) was recorded within the last hours (no alert storms: one alert
   per episode, whatever the overlap of runs or scopes), and is produced to ``ecoute.alerts.v1``.
   A channel's alert counts only when that channel's excess would lift the overall volume by the
   detector's minimum ratio (a small channel's few extra comments are not a crisis);
3. emails every alert whose ``email_sent_at`` is still empty (one email per run, grouping the
   alerts), then stamps ``email_sent_at``. If SMTP is down the alert keeps ``email_error`` and is
   sent by the next run; a stamped alert is never sent again;
4. marks open episodes whose burst is over as ``ended``.

``replay_criticism_watch(settings, start, end)`` does the same over a past period in one pass (the
detector is causal, so one pass gives the decisions hourly runs would have taken).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ecoute.settings import Settings
from jobs.rollups import ensure_index_mapping
from jobs.spikes import Decision, SpikeParams, run_detector

log = logging.getLogger(__name__)

HISTORY = timedelta(days=28)  # the baseline learns daily and weekly rhythms from this much data
LOOKBACK = timedelta(hours=3)  # alerts raised this recently are (re)considered: survives missed runs
SAME_EPISODE = timedelta(hours=3)  # a stored alert of the scope this recent means "same episode"
EMAIL_MAX_AGE = timedelta(hours=24)  # pending emails older than this are no longer worth sending
OVERALL = "overall"
# Alerts are raised on the overall series; per-channel series give the breakdown ("mostly on
# facebook:…"). Per-channel alerts fired on small channels' handfuls of comments (measured on the
# demo month: false alarms on Instagram and YouTube on calm days), so they are off unless asked for.
CHANNEL_ALERTS = False
CHART_HOURS = 48


@dataclass
class ScopeSeries:
    scope: str  # "overall" or "channel:<name>"
    channel: str | None
    times: list[datetime]
    counts: list[float]
    decisions: list[Decision]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
        {"range": {"created_at": {"gte": _iso(start), "lt": _iso(end)}}},
    ]
    if channel:
        filters.append({"term": {"channel": channel}})
    return {"bool": {"filter": filters, "must_not": [{"term": {"author.is_brand": True}}]}}


def load_critical_times(client: Any, settings: Settings, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """(created_at, channel) of every critical community mention in [start, end)."""
    from elasticsearch import NotFoundError

    from ecoute.es import scan_docs

    try:
        docs = scan_docs(client, settings.indices.mentions, critical_query(start, end), ["created_at", "channel"])
        return [(_parse(d["created_at"]), d.get("channel") or "unknown") for d in docs if d.get("created_at")]
    except NotFoundError:
        return []


def build_series(
    mentions: list[tuple[datetime, str]], end: datetime, bucket_minutes: int, params: SpikeParams | None = None
) -> list[ScopeSeries]:
    """Per-scope bucket counts from the first bucket with data up to ``end`` (exclusive), decided."""
    if not mentions:
        return []
    step = timedelta(minutes=bucket_minutes)
    first = floor_time(min(t for t, _ in mentions), bucket_minutes)
    n = int((end - first) / step)
    if n <= 0:
        return []
    times = [first + i * step for i in range(n)]
    channels = sorted({c for _, c in mentions})
    scopes: dict[str, list[float]] = {OVERALL: [0.0] * n}
    if len(channels) > 1:  # with one channel the channel scope would repeat the overall one
        scopes.update({f"channel:{c}": [0.0] * n for c in channels})
    for created, channel in mentions:
        i = int((created - first) / step)
        if 0 <= i < n:
            scopes[OVERALL][i] += 1
            if len(channels) > 1:
                scopes[f"channel:{channel}"][i] += 1
    naive = [t.replace(tzinfo=None) for t in times]
    result = []
    for scope, counts in scopes.items():
        decisions = run_detector(naive, counts, bucket_minutes, params)
        channel = scope.split(":", 1)[1] if scope.startswith("channel:") else None
        result.append(ScopeSeries(scope, channel, times, counts, decisions))
    return result


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


def _alert_doc(
    settings: Settings, series: ScopeSeries, index: int, detected_at: datetime, breakdown: list[tuple[str, float]] | None = None
) -> dict[str, Any]:
    decision = series.decisions[index]
    bucket = settings.alerts.bucket_minutes
    window = decision.window_minutes or bucket
    observed, expected = _window_sums(series, index, window, bucket)
    start = series.times[index]
    scope_words = f"channel {series.channel}" if series.channel else "all channels"
    return {
        "id": f"{series.scope}|{_iso(start)}",
        "scope": series.scope,
        "channel": series.channel,
        "severity": decision.severity or "warning",
        "status": "open",
        "bucket_start": _iso(start),
        "bucket_minutes": bucket,
        "window_minutes": window,
        "episode_start": _iso(start),
        "observed": observed,
        "expected": round(expected, 3),
        "ratio": round(observed / expected, 3) if expected > 0 else None,
        "score": round(-math.log10(max(decision.p_value, 1e-300)), 2),
        "top_mentions": [],
        "breakdown": [{"channel": c, "share": round(share, 3)} for c, share in (breakdown or [])],
        "summary": (
            f"{int(observed)} critical mentions in {window} min on {scope_words} "
            f"vs {expected:.1f} usually (x{observed / expected if expected else float('inf'):.1f})"
            + "".join(f"; {share:.0%} of the excess on {channel}" for channel, share in (breakdown or [])[:3])
        ),
        "detected_at": _iso(detected_at),
        "email_sent_at": None,
        "email_recipients": [],
        "email_error": None,
    }


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
    query = "criticism:true and not author.is_brand:true" + (f' and channel:"{channel}"' if channel else "")
    app_state = f"(query:(language:kuery,query:'{query}'))"
    global_state = f"(time:(from:'{_iso(start)}',to:'{_iso(end)}'))"
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
) -> Any:
    """The Email (HTML + text + chart) announcing ``alerts`` (the first is the primary one)."""
    from jobs.notify import Email, chart_png, language_of, render
    from jobs.notify.strings import STRINGS

    language = language_of(settings)
    words = STRINGS[language]
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
    subject = words["alert_subject"].format(severity=primary["severity_label"], scope=primary["scope_label"])
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
    )
    return Email(subject=subject, html=html, text=text, recipients=list(settings.alerts.recipients), images=images)


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
                        {"range": {"episode_start": {"gte": _iso(start - SAME_EPISODE), "lte": _iso(start + SAME_EPISODE)}}},
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
                "filter": [{"range": {"detected_at": {"gte": _iso(now - EMAIL_MAX_AGE), "lte": _iso(now)}}}],
                "must_not": [{"exists": {"field": "email_sent_at"}}],
            }
        },
    )
    if not pending:
        return []
    pending.sort(key=lambda a: a["id"])
    rank = {"critical": 0, "high": 1, "warning": 2}
    primary = min(pending, key=lambda a: (rank.get(a["severity"], 3), -(a.get("ratio") or 0)))
    start = _parse(primary["episode_start"])
    posts = top_mentions(client, settings, start - timedelta(hours=2), now, primary.get("channel"))
    email = alert_email(settings, pending, series_by_scope.get(primary["scope"]), posts, now)
    try:
        send_email(settings, email)
    except Exception as exc:
        log.error("alert email not sent (will retry next run): %s", exc)
        for alert in pending:
            _update(client, settings, alert["id"], {"email_error": f"{type(exc).__name__}: {exc}"[:2000]})
        return []
    sent_at = _iso(datetime.now(UTC))
    for alert in pending:
        _update(
            client, settings, alert["id"],
            {"email_sent_at": sent_at, "email_recipients": email.recipients, "email_error": None},
        )  # fmt: skip
        alert.update(email_sent_at=sent_at, email_recipients=email.recipients)
    return pending


def _end_finished_episodes(client: Any, settings: Settings, series_by_scope: dict[str, ScopeSeries], upto: datetime) -> None:
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
        _update(client, settings, alert["id"], {"status": "ended", "ended_at": _iso(ended)})


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
    series_list = build_series(mentions, end, bucket)
    by_scope = {s.scope: s for s in series_list}
    step = timedelta(minutes=bucket)
    candidates = [(s, i, now) for s, i in _candidates(series_list, end - max(LOOKBACK, 2 * step), end)]
    opened = _open_alerts(client, settings, candidates, series_list)
    _end_finished_episodes(client, settings, by_scope, end - step)
    emailed = send_pending_emails(client, settings, now, by_scope) if send_email else []
    result = {a["id"]: a for a in opened}
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
    series_list = build_series(mentions, end, bucket)
    candidates = _candidates(series_list, floor_time(start, bucket), end)
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
        {"range": {"episode_start": {"gte": _iso(floor_time(start, bucket)), "lt": _iso(end)}}},
    )
    for alert in recorded:
        alert.pop("_id", None)
        alert.pop("_index", None)
    return sorted(recorded, key=lambda a: a["episode_start"])


def _prefix(series: ScopeSeries, n: int) -> ScopeSeries:
    return ScopeSeries(series.scope, series.channel, series.times[:n], series.counts[:n], series.decisions[:n])
