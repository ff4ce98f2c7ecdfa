"""Enriched-shaped test mentions: a calm month with a daily rhythm, and one crisis day.

Used by tests/jobs/alerts and tests/dags. Documents follow schemas/enriched_event.schema.json and are
written with ecoute.es helpers into ``<settings.indices.mentions>-YYYY.MM`` with the alias attached,
as the enrichment job does.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ecoute.es import apply_templates, bulk_write, make_client, upsert_actions
from ecoute.events import month_index, to_rfc3339
from ecoute.settings import Settings

HOURLY = [
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.2,
    0.4,
    0.7,
    1.0,
    1.2,
    1.2,
    1.3,
    1.5,
    1.4,
    1.2,
    1.1,
    1.1,
    1.2,
    1.4,
    1.7,
    1.9,
    1.8,
    1.2,
    0.6,
]
TOPICS = ["livraison", "prix", "service client", "application", "qualité"]
CRISIS_TEXTS = [
    "Commande jamais livrée, service client injoignable <b>honteux</b> & inadmissible",
    "Troisième retard de livraison ce mois-ci, je demande un remboursement",
    "L'application plante à chaque paiement, corrigez ça vite !",
]
CALM_TEXTS = ["Merci pour la réponse rapide", "Quand arrive la nouvelle collection ?", "Super produit, je recommande"]


def mention(
    n: int,
    created: datetime,
    *,
    channel: str = "facebook:maison-aurore",
    critical: bool = False,
    kind: str = "comment",
    author: str | None = None,
    likes: int = 0,
    text: str | None = None,
    topics: list[str] | None = None,
    answered_after: timedelta | None = None,
    is_brand: bool = False,
    sentiment: str | None = None,
    lang: str = "fr",
) -> dict[str, Any]:
    answered_at = created + answered_after if answered_after is not None else None
    return {
        "schema_version": 1,
        "id": f"facebook:{n}",
        "source": "facebook",
        "kind": kind,
        "parent_id": None if kind == "post" else "facebook:post-1",
        "thread_id": "facebook:post-1",
        "channel": channel,
        "author": {"id": author or f"a_{n:06d}", "name": None, "is_brand": is_brand},
        # Each critic writes their own words (the watch counts repeated texts once, as bots'):
        # the order number makes the three crisis texts distinct messages.
        "text": text or (f"{CRISIS_TEXTS[n % 3]} (commande {n})" if critical else CALM_TEXTS[n % 3]),
        "url": f"https://facebook.com/maison-aurore/posts/{n}",
        "created_at": to_rfc3339(created),
        "fetched_at": to_rfc3339(created + timedelta(minutes=5)),
        "metrics": {"likes": likes, "replies": 0, "shares": 0},
        "lang": lang,
        "lang_confidence": 0.99,
        "sentiment": sentiment or ("negative" if critical else "positive"),
        "sentiment_score": -0.8 if critical else 0.6,
        "topics": topics if topics is not None else [TOPICS[n % len(TOPICS)]],
        "toxic": False,
        "toxic_score": 0.01,
        "criticism": critical,
        "constructive": critical and n % 2 == 0,
        "answered_by_brand": answered_at is not None,
        "brand_answered_at": to_rfc3339(answered_at) if answered_at else None,
        "labeller_version": "test",
        "enriched_at": to_rfc3339(created + timedelta(minutes=6)),
    }


def month_with_crisis(
    first_day: date = date(2026, 10, 1),
    days: int = 31,
    crisis_day: date | None = date(2026, 10, 20),
    critical_per_day: float = 30.0,
    calm_per_day: float = 40.0,
    channels: tuple[str, ...] = ("facebook:maison-aurore",),
    seed: int = 7,
) -> list[dict[str, Any]]:
    """Mentions of ``days`` days; on ``crisis_day`` 14:00–18:00 criticism runs at ~10× its usual rate."""
    rng = random.Random(seed)
    docs = []
    n = 0
    weights = [h / sum(HOURLY) for h in HOURLY]
    for d in range(days):
        day = first_day + timedelta(days=d)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for hour in range(24):
            for _ in range(poisson(rng, critical_per_day * weights[hour])):
                n += 1
                created = start + timedelta(hours=hour, seconds=rng.randrange(3600))
                docs.append(mention(n, created, critical=True, channel=rng.choice(channels), likes=rng.randrange(5)))
            for _ in range(poisson(rng, calm_per_day * weights[hour])):
                n += 1
                created = start + timedelta(hours=hour, seconds=rng.randrange(3600))
                answered = timedelta(minutes=rng.randrange(5, 240)) if rng.random() < 0.6 else None
                docs.append(mention(n, created, channel=rng.choice(channels), answered_after=answered))
        if crisis_day == day:
            # ~72 extra critical mentions in 4 hours (~18 an hour where ~2 are usual): well above
            # the calm days' own peaks, which is what the detector asks of a crisis.
            for _ in range(int(critical_per_day * 2.4)):
                n += 1
                created = start + timedelta(hours=14, seconds=rng.randrange(4 * 3600))
                docs.append(mention(n, created, critical=True, channel=channels[0], likes=rng.randrange(20, 400)))
    return docs


def poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates used here.
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def index_mentions(settings: Settings, docs: list[dict[str, Any]]) -> None:
    """Write docs to their monthly index with the mentions alias attached (as the enrichment job does)."""
    client = make_client(settings)
    apply_templates(client, settings)
    alias = settings.indices.mentions
    for index in sorted({month_index(alias, d["created_at"]) for d in docs}):
        if not client.indices.exists(index=index):
            client.indices.create(index=index, aliases={alias: {}})
    result = bulk_write(
        client, upsert_actions(None, docs, index_of=lambda d: month_index(alias, d["created_at"])), refresh="wait_for"
    )
    assert not result.failed, result.failed[:2]
