"""The alert emails: composition (explanation, chart, top posts, feedback links), the pending-email
run (one email per run, held over quiet hours for a morning summary) and follow-ups."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ecoute.events import to_rfc3339
from ecoute.settings import Settings
from ecoute.views.common import KQL_COMMUNITY
from jobs.alerts.series import ScopeSeries, as_utc, critical_query, parse_time
from jobs.alerts.spikes import SpikeParams
from jobs.alerts.store import stored_alerts, update_alert

log = logging.getLogger(__name__)

EMAIL_MAX_AGE = timedelta(hours=24)  # pending emails older than this are no longer worth sending
CHART_HOURS = 48


def top_mentions(
    client: Any, settings: Settings, start: datetime, end: datetime, channel: str | None, size: int = 5
) -> list[dict[str, Any]]:
    """The most-liked critical community mentions of [start, end) (sorted in Python: works anywhere)."""
    from elasticsearch import NotFoundError

    from ecoute.es import scan_docs

    fields = [
        "id",
        "text",
        "url",
        "channel",
        "created_at",
        "metrics.likes",
        "metrics.replies",
        "source",
        "toxic",
        "toxic_evidence",
    ]
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


def _scope_label(words: dict[str, str], alert: dict[str, Any]) -> str:
    return words["scope_channel"].format(channel=alert["channel"]) if alert.get("channel") else words["scope_overall"]


def alert_email(
    settings: Settings,
    alerts: list[dict[str, Any]],
    series: ScopeSeries | None,
    posts: list[dict[str, Any]],
    now: datetime,
    kind: str = "opened",
    recipient: str | None = None,
) -> Any:
    """The Email (HTML + text + chart) announcing ``alerts`` (the first is the primary one), to
    ``recipient`` (its verdict links are signed for them; None: every configured recipient, links
    signed for nobody in particular).

    ``kind``: "opened" (a new episode), "morning" (alerts held over the quiet hours), "escalated"
    (an announced episode grew by a severity step or reached a second page), "resolved" (short:
    the episode is over)."""
    from jobs.alerts.verdicts import feedback_links
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
                "episode_start": parse_time(alert["episode_start"]).strftime("%Y-%m-%d %H:%M UTC"),
                "breakdown": [
                    {"channel": b["channel"], "share": f"{b['share'] * 100:.0f} %"}
                    for b in alert.get("breakdown") or []
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
                highlight_from=parse_time(ordered[0]["episode_start"]),
            )
    post_views = [
        {
            "text": p.get("text") or "",
            "url": _safe_url(p.get("url")),
            "likes": (p.get("metrics") or {}).get("likes", 0) or 0,
            "channel": p.get("channel") or "",
            "created_at": parse_time(p["created_at"]).strftime("%Y-%m-%d %H:%M") if p.get("created_at") else "",
            "evidence": list(p.get("toxic_evidence") or []) if p.get("toxic") else [],  # why it is flagged toxic
        }
        for p in posts
    ]
    start = parse_time(ordered[0]["episode_start"]) - timedelta(hours=24)
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
        feedback=feedback_links(settings, ordered[0], recipient)
        if ordered[0].get("id") and kind != "resolved"
        else None,
        kind=kind,
        resolved=_resolved_view(ordered[0]) if kind == "resolved" else None,
    )
    recipients = [recipient] if recipient else list(settings.alerts.recipients)
    return Email(subject=subject, html=html, text=text, recipients=recipients, images=images)


def _resolved_view(alert: dict[str, Any]) -> dict[str, Any]:
    start = parse_time(alert["episode_start"])
    ended = parse_time(alert["ended_at"]) if alert.get("ended_at") else start
    return {
        "ended": ended.strftime("%Y-%m-%d %H:%M UTC"),
        "hours": f"{(ended - start).total_seconds() / 3600:.1f}",
        "peak": f"{alert.get('peak_ratio') or alert.get('ratio') or 0:.1f}",
    }


def _explanation_view(alert: dict[str, Any]) -> dict[str, Any]:
    """The explanation fields the templates show (alerts stored by older releases have none)."""
    why = alert.get("explanation") or {}
    threshold = why.get("usual_peak")
    observed = alert.get("observed") or 0.0
    return {
        "messages": alert.get("messages"),
        "distinct_authors": alert.get("distinct_authors"),
        "yesterday": why.get("yesterday"),
        "last_week": why.get("last_week"),
        # "x 3.2 yesterday's": the rise against the same window yesterday and a week ago.
        "vs_yesterday": _times(observed, why.get("yesterday")),
        "vs_last_week": _times(observed, why.get("last_week")),
        "fired_on": why.get("fired_on"),
        "sustained_ratio": f"{why.get('sustained_ratio') or 0:.1f}",
        "sustained_threshold": f"{why['sustained_threshold']:.1f}" if why.get("sustained_threshold") else None,
        "threshold": f"{threshold:.1f}" if threshold else None,
        "score": f"{why.get('score') or 0:.1f}",
        "history_days": SpikeParams().history_days,
        "mostly_repeats": bool(why.get("mostly_repeats")),
        "repeat_share": f"{(alert.get('repeat_share') or 0) * 100:.0f} %",
    }


def _times(observed: float, before: float | None) -> str | None:
    """How many times ``before`` the observed count is ("3.2"); None when there was nothing then."""
    return f"{observed / before:.1f}" if before else None


def _window_minutes(alert: dict[str, Any]) -> int:
    return int(alert.get("window_minutes") or alert.get("bucket_minutes") or 60)


def send_pending_emails(
    client: Any, settings: Settings, now: datetime, series_by_scope: dict[str, ScopeSeries]
) -> list[dict[str, Any]]:
    """Email every recent alert not yet emailed (one email per run); return the alerts sent."""
    from jobs.notify import send_email

    pending = stored_alerts(
        client,
        settings,
        {
            "bool": {
                "filter": [
                    {"range": {"detected_at": {"gte": to_rfc3339(now - EMAIL_MAX_AGE), "lte": to_rfc3339(now)}}}
                ],
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
                update_alert(client, settings, alert["id"], {"held_for_morning": True})
        return []
    pending.sort(key=lambda a: a["id"])
    kind = "morning" if any(a.get("held_for_morning") for a in pending) else "opened"
    posts_of: dict[str, list[dict[str, Any]]] = {}

    def compose(group: list[dict[str, Any]], recipient: str | None) -> Any:
        from jobs.notify import build_message

        rank = {"critical": 0, "high": 1, "warning": 2}
        primary = min(group, key=lambda a: (rank.get(a["severity"], 3), -(a.get("ratio") or 0)))
        if primary["id"] not in posts_of:
            start = parse_time(primary["episode_start"])
            posts_of[primary["id"]] = top_mentions(
                client, settings, start - timedelta(hours=2), now, primary.get("channel")
            )
        series = series_by_scope.get(primary["scope"])
        composed = alert_email(settings, group, series, posts_of[primary["id"]], now, kind=kind, recipient=recipient)
        build_message(settings, composed)  # every header and part, before anything is sent
        return composed

    reader = next(iter(settings.alerts.recipients), None)
    try:
        compose(pending, reader)
    except Exception:
        # One alert that cannot be written (a field an older release left odd…) must not hold the
        # others: find it, record why on it, send the rest.
        good = []
        for alert in pending:
            try:
                compose([alert], reader)
            except Exception as exc:
                log.exception("alert %s cannot be emailed", alert["id"])
                update_alert(client, settings, alert["id"], {"email_error": f"{type(exc).__name__}: {exc}"[:2000]})
            else:
                good.append(alert)
        if not good:
            return []
        pending = good
    # One email per recipient: each carries verdict links signed for its reader. Recipients already
    # served (a run that failed half-way) are not sent it again.
    done = set.intersection(*(set(a.get("email_recipients") or []) for a in pending))
    targets: list[str | None] = [r for r in settings.alerts.recipients if r not in done] or [None]
    for recipient in targets:
        if recipient is None and done:
            break
        email = compose(pending, recipient)
        try:
            send_email(settings, email)
        except Exception as exc:
            log.error("alert email not sent (will retry next run): %s", exc)
            for alert in pending:
                update_alert(client, settings, alert["id"], {"email_error": f"{type(exc).__name__}: {exc}"[:2000]})
            return []
        done.add(recipient)
        for alert in pending:
            update_alert(client, settings, alert["id"], {"email_recipients": sorted(done)})
    sent_at = to_rfc3339(datetime.now(UTC))
    recipients = [r for r in settings.alerts.recipients if r in done]
    for alert in pending:
        update_alert(
            client,
            settings,
            alert["id"],
            {"email_sent_at": sent_at, "email_recipients": recipients, "email_error": None},
        )
        alert.update(email_sent_at=sent_at, email_recipients=recipients)
    return pending


def in_quiet_hours(settings: Settings, now: datetime) -> bool:
    """Whether ``now`` falls in the managers' quiet hours (local time; e.g. 22 → 7 spans midnight)."""
    start, end = settings.alerts.quiet_hours_start, settings.alerts.quiet_hours_end
    if start is None or end is None or start == end:
        return False
    hour = as_utc(now).astimezone(ZoneInfo(settings.alerts.timezone)).hour
    return start <= hour < end if start < end else hour >= start or hour < end


def send_followup(
    client: Any, settings: Settings, alert: dict[str, Any], series: ScopeSeries | None, now: datetime, kind: str
) -> bool:
    """One short email about an alert already announced ("escalated" or "resolved"); True if sent."""
    from jobs.notify import send_email

    start = parse_time(alert["episode_start"])
    posts = (
        top_mentions(client, settings, start - timedelta(hours=2), now, alert.get("channel"))
        if kind != "resolved"
        else []
    )
    try:
        recipients: list[str | None] = [*settings.alerts.recipients] or [None]
        for recipient in recipients:
            send_email(settings, alert_email(settings, [alert], series, posts, now, kind=kind, recipient=recipient))
    except Exception as exc:  # the state stays unstamped: the next run tries again
        log.error("%s email for %s not sent (will retry next run): %s", kind, alert["id"], exc)
        return False
    return True
