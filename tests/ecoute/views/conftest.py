"""A small, hand-made month of enriched mentions in noida-db, with one alert episode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from ecoute import es
from ecoute.settings import Settings
from tests.ecoute.views.synthetic import index_mentions, mention

EVIL = "<script>alert('x')</script> Livraison & promo"


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


@dataclass
class Seeded:
    settings: Settings
    docs: list[dict]


def seed_docs() -> list[dict]:
    post = dict(kind="post", author_id="brand", is_brand=True)
    fb = dict(parent_id="facebook:p1", thread_id="facebook:p1")
    return [
        mention("facebook:p0", t(10, 8), text="Post du 10 octobre", sentiment="positive", **post),
        mention("facebook:p1", t(17, 8), text=EVIL, sentiment="neutral", **post),
        # Criticism: two constructive (oldest first), two not, one answered, one handled, one by the brand.
        mention(
            "facebook:c0",
            t(10, 9),
            parent_id="facebook:p0",
            thread_id="facebook:p0",
            author_id="a_anna",
            author_name="Anna Martin",
            text="Proposez le retrait en boutique",
            sentiment="negative",
            criticism=True,
            constructive=True,
            topics=["delivery"],
        ),
        mention(
            "facebook:c1",
            t(17, 9, 10),
            author_id="a_anna",
            author_name="Anna Martin",
            text="Colis jamais reçu <b>honteux</b>",
            sentiment="negative",
            criticism=True,
            topics=["delivery"],
            **fb,
        ),
        mention(
            "facebook:c2",
            t(17, 10),
            author_id="a_bob",
            text="Envoyez le suivi dès l'expédition",
            sentiment="negative",
            criticism=True,
            constructive=True,
            topics=["delivery"],
            **fb,
        ),
        mention(
            "facebook:c3",
            t(17, 9, 30),
            kind="reply",
            parent_id="facebook:c1",
            thread_id="facebook:p1",
            author_id="a_carl",
            text="pareil pour moi",
            sentiment="negative",
            criticism=True,
        ),
        mention(
            "facebook:c4",
            t(17, 9, 40),
            author_id="a_gus",
            text="toujours rien",
            sentiment="negative",
            criticism=True,
            answered_at=t(17, 11),
            **fb,
        ),
        mention(
            "facebook:c5",
            t(17, 9, 50),
            author_id="a_hal",
            text="déçue",
            sentiment="negative",
            criticism=True,
            handled=True,
            **fb,
        ),
        mention(
            "facebook:c6",
            t(17, 11, 5),
            kind="reply",
            parent_id="facebook:c4",
            thread_id="facebook:p1",
            author_id="brand",
            is_brand=True,
            text="Nous sommes désolés",
            criticism=True,
        ),
        # Toxic: newest first; one handled.
        mention(
            "facebook:t1",
            t(17, 12),
            author_id="a_dan",
            text="bande d'escrocs",
            sentiment="negative",
            toxic=True,
            toxic_score=0.9,
            **fb,
        ),
        mention(
            "facebook:t2",
            t(17, 13),
            author_id="a_eve",
            text="marque de m...",
            sentiment="negative",
            toxic=True,
            toxic_score=0.8,
            **fb,
        ),
        mention(
            "facebook:t3",
            t(17, 14),
            author_id="a_fred",
            text="insulte",
            sentiment="negative",
            toxic=True,
            toxic_score=0.7,
            handled=True,
            **fb,
        ),
        # Praise, and a second item of a_bob the same day.
        mention("facebook:g1", t(17, 15), author_id="a_bob", text="mais j'adore la crème", sentiment="positive", **fb),
        mention(
            "instagram:g2",
            t(17, 16),
            source="instagram",
            author_id="a_ivy",
            lang="en",
            text="love it",
            sentiment="positive",
            parent_id="instagram:p9",
            thread_id="instagram:p9",
        ),
    ]


ALERT = {
    "id": "overall|2026-10-17T09:00:00Z",
    "scope": "overall",
    "channel": None,
    "severity": "high",
    "status": "open",
    "bucket_start": "2026-10-17T11:00:00Z",
    "bucket_minutes": 60,
    "window_minutes": 180,
    "episode_start": "2026-10-17T09:00:00Z",
    "observed": 42.0,
    "expected": 4.0,
    "ratio": 10.5,
    "summary": "<i>42</i> critical mentions in 180 min on all channels",
    "detected_at": "2026-10-17T11:05:00Z",
}


@pytest.fixture
def seeded(settings: Settings) -> Seeded:
    docs = seed_docs()
    index_mentions(settings, docs)
    client = es.make_client(settings)
    client.index(index=settings.indices.alerts, id=ALERT["id"], document=ALERT, refresh=True)
    return Seeded(settings, docs)
