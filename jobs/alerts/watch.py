"""The watch itself: one run at ``now`` (the 15-minute DAG) and the one-pass replay of a past period,
plus the short bursts the digest lists."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoute.events import to_rfc3339
from ecoute.settings import Settings
from jobs.alerts.emails import send_pending_emails
from jobs.alerts.episodes import alert_candidates, end_finished_episodes, escalate_open_episodes, open_alerts
from jobs.alerts.series import (
    HISTORY,
    OVERALL,
    as_utc,
    build_series,
    detector_params,
    floor_time,
    load_critical_times,
    parse_time,
    prefix,
    voices,
)
from jobs.alerts.store import stored_alerts
from jobs.alerts.verdicts import page_verdicts

log = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=3)  # alerts raised this recently are (re)considered: survives missed runs


def run_criticism_watch(
    settings: Settings, now: datetime | None = None, send_email: bool = True
) -> list[dict[str, Any]]:
    """One run of the spike watch at ``now`` (default: the current time). Returns the alerts opened
    or emailed by this run. Safe to call repeatedly with increasing ``now`` (also over the past)."""
    from ecoute.es import ensure_index_mapping, make_client

    now = as_utc(now or datetime.now(UTC))
    bucket = settings.alerts.bucket_minutes
    end = floor_time(now, bucket)  # buckets before this one are complete
    client = make_client(settings)
    ensure_index_mapping(client, settings.indices.alerts, "ecoute-alerts")
    mentions = load_critical_times(client, settings, end - HISTORY, end)
    params = detector_params(settings)
    series_list = build_series(
        mentions, end, bucket, params, page_verdicts(client, settings, end - timedelta(days=params.verdict_days))
    )
    by_scope = {s.scope: s for s in series_list}
    step = timedelta(minutes=bucket)
    candidates = [(s, i, now) for s, i in alert_candidates(series_list, end - max(LOOKBACK, 2 * step), end, params)]
    opened = open_alerts(client, settings, candidates, series_list)
    escalated = escalate_open_episodes(client, settings, by_scope, end - step, now, send_email)
    end_finished_episodes(client, settings, by_scope, end - step, now, send_email)
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
    from ecoute.es import ensure_index_mapping, make_client

    start, end = as_utc(start), as_utc(end)
    bucket = settings.alerts.bucket_minutes
    step = timedelta(minutes=bucket)
    end = floor_time(end, bucket)
    client = make_client(settings)
    ensure_index_mapping(client, settings.indices.alerts, "ecoute-alerts")
    mentions = load_critical_times(client, settings, start - HISTORY, end)
    params = detector_params(settings)
    verdicts = page_verdicts(client, settings, start - HISTORY - timedelta(days=params.verdict_days))
    series_list = build_series(mentions, end, bucket, params, verdicts)
    candidates = alert_candidates(series_list, floor_time(start, bucket), end, params)
    opened: list[dict[str, Any]] = []
    for series, index in candidates:
        detected_at = series.times[index] + step
        # The series as the run at detected_at saw it: the detector is causal, so a prefix suffices.
        seen = prefix(series, index + 1)
        new = open_alerts(client, settings, [(seen, index, detected_at)], series_list)
        if new and send_email:
            send_pending_emails(client, settings, detected_at, {seen.scope: seen})
        opened.extend(new)
    by_scope = {s.scope: s for s in series_list}
    end_finished_episodes(client, settings, by_scope, end - step)
    if opened:
        log.info("replay opened %d alert episode(s)", len(opened))
    # Every episode of the period, also those an earlier replay or run recorded (re-runs agree).
    recorded = stored_alerts(
        client,
        settings,
        {"range": {"episode_start": {"gte": to_rfc3339(floor_time(start, bucket)), "lt": to_rfc3339(end)}}},
    )
    for alert in recorded:
        alert.pop("_id", None)
        alert.pop("_index", None)
    return sorted(recorded, key=lambda a: a["episode_start"])


def short_bursts(client: Any, settings: Settings, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Short bursts of [start, end) (only the short window beat the page's ordinary peaks): not worth
    an email, worth a line in the digest. One entry per burst (buckets within 1 h merge)."""
    start, end = as_utc(start), as_utc(end)
    bucket = settings.alerts.bucket_minutes
    end = floor_time(end, bucket)
    mentions = load_critical_times(client, settings, start - HISTORY, end)
    params = detector_params(settings)
    verdicts = page_verdicts(client, settings, start - HISTORY - timedelta(days=params.verdict_days))
    found: list[dict[str, Any]] = []
    for series in build_series(mentions, end, bucket, params, verdicts):
        if series.scope != OVERALL:
            continue
        for i, (t, d) in enumerate(zip(series.times, series.decisions, strict=True)):
            if t < start or not d.short_burst:
                continue
            if found and t - parse_time(found[-1]["last"]) <= timedelta(hours=1):
                found[-1]["last"] = to_rfc3339(t)
                found[-1]["ratio"] = max(found[-1]["ratio"], round(d.short_ratio, 1))
                continue
            found.append(
                {
                    "start": to_rfc3339(t),
                    "last": to_rfc3339(t),
                    "ratio": round(d.short_ratio, 1),
                    **voices(series, i, params.short_window_minutes),
                }
            )
    return found
