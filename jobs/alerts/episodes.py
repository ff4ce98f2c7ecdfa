"""Alert episodes in ``ecoute-alerts``: which detector alerts open an episode, the stored document
with its explanation, silent extension, escalation (a severity step, a second page) and the end."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoute.events import to_rfc3339
from ecoute.settings import Settings
from jobs.alerts.emails import send_followup, top_mentions
from jobs.alerts.series import (
    OVERALL,
    ScopeSeries,
    channel_breakdown,
    parse_time,
    series_step,
    voices,
    window_sums,
)
from jobs.alerts.spikes import SpikeParams, severity_of
from jobs.alerts.store import publish, stored_alerts, update_alert

SAME_EPISODE = timedelta(hours=3)  # a stored alert of the scope this recent means "same episode"
RESOLVED_MAX_AGE = timedelta(hours=6)  # an end noticed later than this gets no "resolved" email
SECOND_PAGE_SHARE = 0.3  # a page with this share of the excess "joins" an episode (escalation)
# Alerts are raised on the overall series; per-channel series give the breakdown ("mostly on
# facebook:…"). Per-channel alerts fired on small channels' handfuls of comments (measured on the
# demo month: false alarms on Instagram and YouTube on calm days), so they are off unless asked for.
CHANNEL_ALERTS = False


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
        # "burst": both windows beat the page's past bursts; "sustained": every half hour of the
        # long window stayed above its usual count more than on the page's ordinary days.
        "fired_on": decision.fired_on,
        "level": round(decision.level, 3),  # the page's level the day before (rises are measured beyond it)
        "sustained_ratio": round(decision.sustained_ratio, 3),
        "sustained_threshold": (
            round(decision.sustained_threshold, 3) if math.isfinite(decision.sustained_threshold) else None
        ),
        **voices(series, index, window),
    }


def _alert_doc(
    settings: Settings,
    series: ScopeSeries,
    index: int,
    detected_at: datetime,
    breakdown: list[tuple[str, float]] | None = None,
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


def open_alerts(
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
        recent = stored_alerts(
            client,
            settings,
            {
                "bool": {
                    "filter": [
                        {
                            "range": {
                                "episode_start": {
                                    "gte": to_rfc3339(start - SAME_EPISODE),
                                    "lte": to_rfc3339(start + SAME_EPISODE),
                                }
                            }
                        },
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
        posts = top_mentions(
            client,
            settings,
            start - timedelta(hours=2),
            start + timedelta(minutes=settings.alerts.bucket_minutes),
            series.channel,
        )
        doc["top_mentions"] = [p["id"] for p in posts if p.get("id")]
        result = bulk_write(client, upsert_actions(settings.indices.alerts, [doc]), refresh="wait_for")
        if result.failed:
            raise RuntimeError(f"alert {doc['id']} not stored: {result.failed[0]['error']}")
        opened.append(doc)
    if opened:
        publish(settings, opened)
    return opened


def escalate_open_episodes(
    client: Any, settings: Settings, series_by_scope: dict[str, ScopeSeries], upto: datetime, now: datetime, send: bool
) -> list[dict[str, Any]]:
    """Re-alert an announced, open episode only when it grew by a severity step (the detector's
    ``escalated``) or a second page joined it (a channel with SECOND_PAGE_SHARE of the excess
    that was not in the first email). Everything else extends the episode silently."""
    escalated = []
    for alert in stored_alerts(client, settings, {"term": {"status": "open"}}):
        series = series_by_scope.get(alert["scope"])
        if series is None or not alert.get("email_sent_at"):
            continue
        since = parse_time(alert.get("escalated_at") or alert["detected_at"])
        index = next((i for i in range(len(series.times) - 1, -1, -1) if series.times[i] <= upto), None)
        if index is None:
            continue
        grew = [
            i
            for i, t in enumerate(series.times[: index + 1])
            if t + series_step(series) > since and series.decisions[i].escalated
        ]
        window = alert.get("window_minutes") or settings.alerts.bucket_minutes
        pages_before = {b["channel"] for b in alert.get("breakdown") or [] if b["share"] >= SECOND_PAGE_SHARE}
        breakdown = (
            channel_breakdown(list(series_by_scope.values()), index, window, settings.alerts.bucket_minutes)
            if series.scope == OVERALL
            else []
        )
        pages_now = {c for c, share in breakdown if share >= SECOND_PAGE_SHARE}
        joined = bool(pages_before) and bool(pages_now - pages_before)
        if not grew and not joined:
            continue
        peak = max(
            [series.decisions[i].raw_ratio for i in grew] + [alert.get("peak_ratio") or alert.get("ratio") or 0.0]
        )
        fields = {
            "peak_ratio": round(peak, 3),
            "severity": severity_of(peak),
            "escalated_at": to_rfc3339(now),
            "breakdown": [{"channel": c, "share": round(share, 3)} for c, share in breakdown]
            or alert.get("breakdown")
            or [],
        }
        alert.update(fields)
        if send and not send_followup(client, settings, alert, series, now, "escalated"):
            continue
        update_alert(client, settings, alert["id"], fields)
        escalated.append(alert)
    return escalated


def end_finished_episodes(
    client: Any,
    settings: Settings,
    series_by_scope: dict[str, ScopeSeries],
    upto: datetime,
    now: datetime | None = None,
    send: bool = False,
) -> None:
    """Mark open episodes whose burst is over as ended; say so by email to those who got the alert
    (a "resolved" email, only while the end is recent: a replay of last month sends none)."""
    for alert in stored_alerts(client, settings, {"term": {"status": "open"}}):
        series = series_by_scope.get(alert["scope"])
        if series is None or not series.decisions or parse_time(alert["episode_start"]) > upto:
            continue
        last = max((i for i, t in enumerate(series.times) if t <= upto), default=None)
        if last is None or series.decisions[last].in_episode:
            continue
        # The episode ended at the first calm bucket after its start (not when this run noticed it:
        # a replay notices every end at the end of its period).
        start = parse_time(alert["episode_start"])
        ended = next(
            (
                t
                for t, d in zip(series.times[: last + 1], series.decisions[: last + 1], strict=True)
                if t > start and not d.in_episode
            ),
            upto + series_step(series),
        )
        inside = [d for t, d in zip(series.times, series.decisions, strict=True) if start <= t < ended]
        fields: dict[str, Any] = {
            "status": "ended",
            "ended_at": to_rfc3339(ended),
            # What a "not useful" verdict on it remembers (jobs/alerts/verdicts.py page_verdicts).
            "peak_score": round(max((d.ratio for d in inside), default=alert.get("score") or 0.0), 3),
            "peak_sustained": round(max((d.sustained_ratio for d in inside), default=0.0), 3),
        }
        recent = now is not None and now - ended <= RESOLVED_MAX_AGE
        if (
            send
            and now is not None
            and recent
            and alert.get("email_sent_at")
            and not alert.get("resolved_email_sent_at")
        ):
            alert.update(fields)
            if send_followup(client, settings, alert, series, now, "resolved"):
                fields["resolved_email_sent_at"] = to_rfc3339(datetime.now(UTC))
        update_alert(client, settings, alert["id"], fields)


def alert_candidates(
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
                observed, expected = window_sums(series, i, window, bucket)
                _, overall_expected = window_sums(overall, i, window, bucket)
                if observed - expected < (params.min_ratio - 1) * overall_expected:
                    continue
            found.append((series, i))
    found.sort(key=lambda c: (c[0].times[c[1]], c[0].scope != OVERALL, c[0].scope))
    return found
