"""What the report reads from Elasticsearch, and its headline figures.

Why one slim scan rather than aggregations: noida-db (the embedded stack) has no percentiles and
answers nested aggregations slowly, so the community items of the period are read once with only
the fields the figures need; medians, first-seen and the rest are computed with pandas.
"""

from __future__ import annotations

import time as clock
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from elasticsearch import ApiError

from ecoute.es import make_client, scan_docs
from ecoute.settings import Settings
from ecoute.views.common import community, day_start, fetch_by_ids, iso, period_filters
from jobs.reporting import kpis as figures
from jobs.reporting.kpis import mood_index

SCAN_FIELDS = [
    "created_at",
    "kind",
    "source",
    "lang",
    "sentiment",
    "topics",
    "criticism",
    "constructive",
    "toxic",
    "answered_by_brand",
    "brand_answered_at",
    "handled",
    "thread_id",
    "question",
]
POST_FIELDS = ["id", "text", "url", "created_at", "channel", "source", "metrics"]
TOP_N = 5
COMPLAINT_TEXTS = 2000  # enough to name a month's complaints; bounds the clustering's cost


@dataclass
class ReportData:
    frame: Any  # pandas DataFrame of the community items
    alerts: list[dict[str, Any]]
    posts: dict[str, dict[str, Any]]
    timings: dict[str, float]
    # What people complained about: clusters of the period's criticism (jobs.reporting.emerging).
    complaints: list[dict[str, Any]] = field(default_factory=list)


def load_data(settings: Settings, start: date, end: date, channel: str | None) -> ReportData:
    client = make_client(settings)
    timings: dict[str, float] = {}
    query = community(*period_filters(start, end, channel))

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
    frame = item_frame(docs)
    timings["frame"] = round(clock.perf_counter() - t0, 2)

    t0 = clock.perf_counter()
    top_ids = set(_top_threads(frame, frame["criticism"])) | set(_top_threads(frame, frame["sentiment"] == "positive"))
    missing = sorted(top_ids - set(posts))  # threads whose post was published before the period
    if missing:
        posts.update(fetch_by_ids(client, settings.indices.mentions, missing, POST_FIELDS))
    timings["posts"] = round(clock.perf_counter() - t0, 2)

    t0 = clock.perf_counter()
    complaints = load_complaints(client, settings, start, end, channel)
    timings["complaints"] = round(clock.perf_counter() - t0, 2)
    return ReportData(frame, alerts, posts, timings, complaints)


def item_frame(docs: list[dict[str, Any]]) -> Any:
    """The report's table of community items, one row per document."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            # pandas reads a missing time (None) as NaT; its stubs leave None out of the accepted lists
            "created_at": pd.to_datetime([d.get("created_at") for d in docs], utc=True, format="ISO8601"),  # type: ignore[arg-type]
            "source": [d.get("source") or "unknown" for d in docs],
            "lang": [d.get("lang") or "und" for d in docs],
            "sentiment": [d.get("sentiment") or "neutral" for d in docs],
            "topics": [list(d.get("topics") or []) for d in docs],
            "criticism": [bool(d.get("criticism")) for d in docs],
            "constructive": [bool(d.get("criticism")) and bool(d.get("constructive")) for d in docs],
            "toxic": [bool(d.get("toxic")) for d in docs],
            "question": [bool(d.get("question")) for d in docs],
            "answered_at": pd.to_datetime([d.get("brand_answered_at") for d in docs], utc=True, format="ISO8601"),  # type: ignore[arg-type]
            "handled": [bool(d.get("handled")) for d in docs],
            "answered": [figures.answered(d) for d in docs],
            "answerable": [figures.answerable(d) for d in docs],
            "thread_id": [d.get("thread_id") for d in docs],
        }
    )
    # Explicit dtypes: an empty period must still give boolean masks, not object columns.
    # "answered" is the queues' definition (answered_by_brand), so the report and the queues agree.
    flags = ("criticism", "constructive", "toxic", "question", "handled", "answered", "answerable")
    frame = frame.astype(dict.fromkeys(flags, bool))
    frame["response_hours"] = (frame["answered_at"] - frame["created_at"]).dt.total_seconds() / 3600
    frame.loc[frame["response_hours"] < 0, "response_hours"] = float("nan")
    return frame


def load_complaints(
    client: Any, settings: Settings, start: date, end: date, channel: str | None, limit: int = COMPLAINT_TEXTS
) -> list[dict[str, Any]]:
    """The period's criticism grouped by meaning and named (newest ``limit`` texts), biggest first.

    Praise flagged as criticism stays out, and the examples quoted are people's own comments, not
    replies (a member answering another, agreeing or defending reads as no complaint on its own)."""
    from jobs.reporting.emerging import emerging_topics

    query = community({"term": {"criticism": True}}, *period_filters(start, end, channel))
    query["bool"]["must_not"].append({"term": {"sentiment": "positive"}})
    try:
        response = client.search(
            index=settings.indices.mentions,
            query=query,
            size=limit,
            _source=["text", "kind", "sentiment"],
            sort=[{"created_at": "desc"}],
        )
    except ApiError as exc:
        if exc.meta.status in (400, 404):
            return []
        raise
    hits = [hit["_source"] for hit in response["hits"]["hits"]]
    texts = [str(doc.get("text") or "") for doc in hits]
    groups = emerging_topics(texts, max_topics=6)
    for group in groups:
        # People's own comments, negative ones first (a neutral "criticism" is often a question).
        own = sorted(
            (i for i in group.get("indices", []) if hits[i].get("kind") != "reply"),
            key=lambda i: hits[i].get("sentiment") != "negative",
        )
        closest = [texts[i] for i in own if texts[i] in group.get("examples", [])]
        others = [texts[i] for i in own if texts[i] not in closest]
        ranked = sorted(closest + others, key=lambda text: text not in closest)
        negative = {texts[i] for i in own if hits[i].get("sentiment") == "negative"}
        ranked.sort(key=lambda text: text not in negative)  # stable: closest negative ones lead
        group["examples"] = ranked[: max(1, len(group.get("examples", [])))]
    return [group for group in groups if group["examples"]]


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


def criticism_response_rate(frame: Any) -> float | None:
    """The brand response rate (jobs.reporting.kpis) over the criticism of the table."""
    critical = frame[frame["criticism"] & frame["answerable"]]
    return figures.response_rate(int(critical["answered"].sum()), len(critical))


def kpis(data: ReportData) -> dict[str, Any]:
    frame = data.frame
    n = len(frame)
    critical = frame[frame["criticism"]]
    positives = int((frame["sentiment"] == "positive").sum())
    negatives = int((frame["sentiment"] == "negative").sum())
    response_hours = critical.loc[critical["answered"], "response_hours"].dropna()
    questions = frame[frame["question"]]
    question_hours = questions.loc[questions["answered"], "response_hours"].dropna()
    return {
        "items": n,
        "mood": None if (mood := mood_index(positives, negatives, n)) is None else round(mood, 3),
        "criticism": len(critical),
        "constructive": int(critical["constructive"].sum()),
        "toxic": int(frame["toxic"].sum()),
        "response_rate": None if (rate := criticism_response_rate(frame)) is None else round(rate * 100, 1),
        "median_response_hours": round(float(response_hours.median()), 2) if len(response_hours) else None,
        "p90_response_hours": round(float(response_hours.quantile(0.9)), 2) if len(response_hours) else None,
        "unanswered": int((~critical["answered"] & ~critical["handled"]).sum()),
        "moderate": int((frame["toxic"] & ~frame["handled"]).sum()),
        "alerts": len(data.alerts),
        "questions": len(questions),
        "question_response_rate": round(float(questions["answered"].mean()) * 100, 1) if len(questions) else None,
        "median_question_response_hours": round(float(question_hours.median()), 2) if len(question_hours) else None,
        "unanswered_questions": int((~questions["answered"] & ~questions["handled"]).sum()),
    }
