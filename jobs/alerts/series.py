"""The criticism series the watch decides on: critical mentions from Elasticsearch, counted per
bucket as distinct voices (an author or an identical text counts once within ``REPEAT_WINDOW``),
per scope (overall, per channel), run through the causal detector of ``jobs.alerts.spikes``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ecoute.events import to_rfc3339
from ecoute.settings import Settings
from ecoute.views.common import community
from jobs.alerts.spikes import Decision, SpikeParams, Verdict, run_detector

# Mentions each run reads: the detector's 28 days of ordinary peaks, plus the 7 days of baseline
# the first of them needs (with 28 days only, a run never knew 27 days and the rank stayed at 1).
HISTORY = timedelta(days=SpikeParams().history_days + SpikeParams().baseline_days + 1)
OVERALL = "overall"
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


def parse_time(value: str) -> datetime:
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
                parse_time(d["created_at"]),
                d.get("channel") or "unknown",
                (d.get("author") or {}).get("id"),
                text_key(d.get("text")),
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


def detector_params(settings: Settings) -> SpikeParams:
    """The detector's parameters for the pages: the alert budget and the clock of the settings."""
    return replace(
        SpikeParams(),
        false_alerts_per_14d=settings.alerts.false_alerts_per_page_per_14d,
        timezone=settings.alerts.timezone,
    )


def build_series(
    mentions: list[CriticalMention],
    end: datetime,
    bucket_minutes: int,
    params: SpikeParams | None = None,
    verdicts: dict[str, list[Verdict]] | None = None,
) -> list[ScopeSeries]:
    """Per-scope bucket counts of distinct voices (see ``voice_weights``) from the first bucket with
    data up to ``end`` (exclusive), decided with the managers' ``verdicts`` on each scope's past
    alerts (jobs/alerts/verdicts.py ``page_verdicts``). Raw message counts and the authors are
    kept too, for the explanation ("120 messages from 35 authors, mostly repeats")."""
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
        decisions = run_detector(naive, counts[scope], bucket_minutes, params, (verdicts or {}).get(scope, ()))
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


def window_sums(series: ScopeSeries, index: int, minutes: int, bucket_minutes: int) -> tuple[float, float]:
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
        observed, expected = window_sums(series, index, window, bucket)
        if observed > expected:
            excess[series.channel] = observed - expected
    total = sum(excess.values())
    return sorted(((c, e / total) for c, e in excess.items()), key=lambda x: -x[1]) if total else []


def series_step(series: ScopeSeries) -> timedelta:
    return series.times[1] - series.times[0] if len(series.times) > 1 else timedelta(hours=1)


def prefix(series: ScopeSeries, n: int) -> ScopeSeries:
    return ScopeSeries(
        series.scope,
        series.channel,
        series.times[:n],
        series.counts[:n],
        series.decisions[:n],
        series.messages[:n],
        series.authors[:n],
    )
