"""Criticism spike watch: count distinct critical voices per bucket, detect spikes, record, email.

``run_criticism_watch(settings, now)`` is what the 15-minute DAG calls; each run:

1. counts critical community mentions (``criticism: true``, not written by the brand) per bucket of
   ``settings.alerts.bucket_minutes`` over the last ``HISTORY`` (overall, and per channel when there
   is more than one), up to the last *complete* bucket before ``now``. A mention counts only when
   it adds a voice (``voice_weights``: an author or an identical text already counted within
   ``REPEAT_WINDOW`` counts zero); messages and distinct authors are kept for the explanation;
2. runs the causal detector of ``jobs.alerts.spikes`` on each series (parameters from the settings: the
   alert budget, the pages' time zone; each page's verdicts on its past alerts); an alert the
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

The package, by role: ``series`` (critical mentions → distinct-voice series, decided), ``episodes``
(which alerts open an episode, escalation, end), ``emails`` (composition and sending), ``store``
(the stored alert documents), ``watch`` (the run, the replay, short bursts for the digest).
"""

from jobs.alerts.emails import (
    CHART_HOURS,
    EMAIL_MAX_AGE,
    alert_email,
    es_query_text,
    in_quiet_hours,
    kibana_link,
    send_pending_emails,
    top_mentions,
)
from jobs.alerts.episodes import (
    CHANNEL_ALERTS,
    RESOLVED_MAX_AGE,
    SAME_EPISODE,
    SECOND_PAGE_SHARE,
    explanation,
)
from jobs.alerts.series import (
    HISTORY,
    MIN_REPEAT_WORDS,
    MOSTLY_REPEATS,
    OVERALL,
    REPEAT_WINDOW,
    CriticalMention,
    ScopeSeries,
    as_utc,
    build_series,
    channel_breakdown,
    critical_query,
    detector_params,
    floor_time,
    load_critical_times,
    text_key,
    voice_weights,
    voices,
)
from jobs.alerts.watch import LOOKBACK, replay_criticism_watch, run_criticism_watch, short_bursts

__all__ = [
    "CHANNEL_ALERTS",
    "CHART_HOURS",
    "EMAIL_MAX_AGE",
    "HISTORY",
    "LOOKBACK",
    "MIN_REPEAT_WORDS",
    "MOSTLY_REPEATS",
    "OVERALL",
    "REPEAT_WINDOW",
    "RESOLVED_MAX_AGE",
    "SAME_EPISODE",
    "SECOND_PAGE_SHARE",
    "CriticalMention",
    "ScopeSeries",
    "alert_email",
    "as_utc",
    "build_series",
    "channel_breakdown",
    "critical_query",
    "detector_params",
    "es_query_text",
    "explanation",
    "floor_time",
    "in_quiet_hours",
    "kibana_link",
    "load_critical_times",
    "replay_criticism_watch",
    "run_criticism_watch",
    "send_pending_emails",
    "short_bursts",
    "text_key",
    "top_mentions",
    "voice_weights",
    "voices",
]
