"""Enriched-shaped mentions for the views' tests and benchmark (what the Spark job writes to ES)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ecoute import es, events
from ecoute.settings import Settings

TOPICS = ["delivery", "price", "quality", "customer_service", "app_website", "billing", "promotions", "store", "csr"]
CHANNELS = {
    "facebook": "facebook:maison-aurore",
    "instagram": "instagram:maisonaurore",
    "youtube": "youtube:MaisonAuroreTV",
}


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mention(
    id: str,
    created_at: datetime,
    *,
    kind: str = "comment",
    source: str = "facebook",
    parent_id: str | None = None,
    thread_id: str | None = None,
    author_id: str = "a_person",
    author_name: str | None = None,
    is_brand: bool = False,
    text: str = "",
    sentiment: str = "neutral",
    criticism: bool = False,
    constructive: bool = False,
    question: bool = False,
    toxic: bool = False,
    toxic_score: float = 0.0,
    topics: list[str] | None = None,
    lang: str = "fr",
    answered_at: datetime | None = None,
    handled: bool = False,
    likes: int = 0,
) -> dict[str, Any]:
    """One enriched document with every field of the mentions mapping."""
    return {
        "schema_version": 1,
        "id": id,
        "source": source,
        "kind": kind,
        "parent_id": parent_id,
        "thread_id": thread_id or (id if kind == "post" else None),
        "channel": CHANNELS.get(source, source),
        "author": {"id": author_id, "name": author_name, "is_brand": is_brand},
        "text": text,
        "url": f"https://example.test/{id}",
        "created_at": iso(created_at),
        "fetched_at": iso(created_at + timedelta(minutes=1)),
        "metrics": {"likes": likes, "replies": 0, "shares": 0},
        "lang": lang,
        "lang_confidence": 0.95,
        "sentiment": sentiment,
        "sentiment_score": {"negative": -0.6, "neutral": 0.0, "positive": 0.7}[sentiment],
        "topics": topics or [],
        "toxic": toxic,
        "toxic_score": toxic_score,
        "criticism": criticism,
        "constructive": constructive,
        "question": question,
        "answered_by_brand": answered_at is not None,
        "brand_answered_at": iso(answered_at) if answered_at else None,
        "handled": handled,
        "handled_at": iso(created_at + timedelta(hours=1)) if handled else None,
        "labeller_version": "test-1",
        "enriched_at": iso(created_at + timedelta(minutes=2)),
    }


def synthetic_month(n: int, month_start: date = date(2026, 10, 1), seed: int = 7) -> Iterator[dict[str, Any]]:
    """``n`` mentions over one month: ~1 post per 80 items, comments and replies, a crisis on the 17th."""
    rng = random.Random(seed)
    start = datetime(month_start.year, month_start.month, 1, tzinfo=UTC)
    span = 30 * 86400
    posts: list[tuple[str, str, datetime]] = []
    for i in range(n):
        source = rng.choice(["facebook"] * 6 + ["instagram"] * 3 + ["youtube"])
        offset = rng.random() * span
        if rng.random() < 0.08:  # the crisis burst
            offset = 16 * 86400 + 9 * 3600 + rng.random() * 10 * 3600
        created = start + timedelta(seconds=offset)
        if i % 80 == 0 or not posts:
            pid = f"{source}:p{i}"
            posts.append((pid, source, created))
            yield mention(
                pid,
                created,
                kind="post",
                source=source,
                author_id="brand",
                is_brand=True,
                text=f"Post {i} de la marque",
                sentiment="positive",
                likes=rng.randint(10, 3000),
            )
            continue
        pid, psource, pcreated = posts[-1 - rng.randrange(min(len(posts), 5))]
        created = max(created, pcreated + timedelta(seconds=30))
        crisis = datetime(2026, 10, 17, 9, tzinfo=UTC) <= created < datetime(2026, 10, 17, 19, tzinfo=UTC)
        critical = rng.random() < (0.7 if crisis else 0.15)
        sentiment = "negative" if critical or rng.random() < 0.1 else rng.choice(["positive", "positive", "neutral"])
        answered = created + timedelta(minutes=rng.expovariate(1 / 120)) if rng.random() < 0.3 else None
        yield mention(
            f"{psource}:c{i}",
            created,
            kind="comment" if rng.random() < 0.75 else "reply",
            source=psource,
            parent_id=pid,
            thread_id=pid,
            author_id=f"a_{rng.randrange(n // 3 + 1)}",
            text=f"commentaire {i} sur la livraison" if critical else f"commentaire {i}",
            sentiment=sentiment,
            criticism=critical,
            constructive=critical and rng.random() < 0.3,
            toxic=rng.random() < 0.01,
            toxic_score=rng.random(),
            topics=rng.sample(TOPICS, rng.randint(0, 2)),
            lang=rng.choice(["fr"] * 15 + ["en"] * 3 + ["es", "de"]),
            answered_at=answered,
            handled=rng.random() < 0.05,
            likes=rng.randint(0, 40),
        )


def index_mentions(settings: Settings, docs: list[dict[str, Any]] | Iterator[dict[str, Any]]) -> int:
    """Write enriched docs to their monthly indices with the alias attached (as the enrichment job does)."""
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    alias = settings.indices.mentions
    written = 0
    batch: list[dict[str, Any]] = []
    created: set[str] = set()

    def flush() -> None:
        nonlocal written
        for index in {events.month_index(alias, d["created_at"]) for d in batch} - created:
            if not client.indices.exists(index=index):
                client.options(ignore_status=400).indices.create(index=index)
            client.indices.put_alias(index=index, name=alias)
            created.add(index)
        result = es.bulk_write(
            client, es.upsert_actions(None, batch, index_of=lambda d: events.month_index(alias, d["created_at"]))
        )
        assert not result.failed, result.failed[:3]
        written += result.ok
        batch.clear()

    for doc in docs:
        batch.append(doc)
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    client.indices.refresh(index=f"{alias}-*")
    return written
