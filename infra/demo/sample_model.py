"""The demo month's calendar, constants and the people and items being generated."""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

DEFAULT_SEED = 20261001
DEFAULT_OUT = HERE / "ecoute-demo-2026-10.jsonl.gz"
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
MONTH_END = datetime(2026, 11, 1, tzinfo=UTC)
CRISIS_DAY = date(2026, 10, 17)
CRISIS_START = datetime(2026, 10, 17, 9, 0, tzinfo=UTC)
CRISIS_END = datetime(2026, 10, 17, 23, 0, tzinfo=UTC)
# The brand's statement about the incident, posted once the CM team understood what happened.
STATEMENT_AT = datetime(2026, 10, 17, 13, 38, 12, tzinfo=UTC)
# Paris leaves summer time on the last Sunday of October (01:00 UTC).
DST_END = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
CARRIER = "ColiRapide"

BRAND = {
    "facebook": {"channel": "facebook:maison-aurore", "author_id": "104857392018374", "name": "Maison Aurore"},
    "instagram": {"channel": "instagram:maisonaurore", "author_id": "17841405822304914", "name": "maisonaurore"},
    "youtube": {
        "channel": "youtube:MaisonAuroreTV",
        "author_id": "UCq3vKd0aUroReTV9xM1lWfA",
        "name": "@MaisonAuroreTV",
    },
}
FB_PAGE_ID = BRAND["facebook"]["author_id"]
FB_SLUG = "maison.aurore"

# Relative activity per local (Paris) hour: quiet nights, lunch bump, evening peak.
HOUR_WEIGHT_WEEKDAY = [
    0.35,
    0.2,
    0.1,
    0.06,
    0.05,
    0.08,
    0.25,
    0.5,
    0.7,
    0.8,
    0.8,
    0.85,
    1.0,
    1.0,
    0.85,
    0.8,
    0.85,
    0.95,
    1.15,
    1.3,
    1.5,
    1.55,
    1.2,
    0.7,
]
# Weekends: late mornings, busy afternoons and evenings.
HOUR_WEIGHT_WEEKEND = [
    0.5,
    0.35,
    0.2,
    0.1,
    0.06,
    0.05,
    0.1,
    0.2,
    0.4,
    0.65,
    0.9,
    1.0,
    1.05,
    1.0,
    0.95,
    0.95,
    1.0,
    1.05,
    1.15,
    1.3,
    1.45,
    1.45,
    1.2,
    0.85,
]
MAX_HOUR_WEIGHT = 1.55

# Extra critical comments per UTC hour on the crisis day (on top of the usual flow).
CRISIS_PROFILE = {
    9: 8,
    10: 14,
    11: 17,
    12: 18,
    13: 19,
    14: 21,
    15: 19,
    16: 16,
    17: 14,
    18: 12,
    19: 10,
    20: 7,
    21: 5,
    22: 3,
    23: 2,
}
AFTERMATH = {date(2026, 10, 18): 14, date(2026, 10, 19): 6}

LANG_MIX = {
    "facebook": {"fr": 0.80, "en": 0.10, "es": 0.03, "de": 0.025, "it": 0.025, "pt": 0.02},
    "instagram": {"fr": 0.66, "en": 0.24, "es": 0.03, "de": 0.025, "it": 0.025, "pt": 0.02},
    "youtube": {"fr": 0.76, "en": 0.14, "es": 0.03, "de": 0.025, "it": 0.025, "pt": 0.02},
}
INTENT_WEIGHTS = {
    "praise": 0.26,
    "question": 0.17,
    "chat": 0.11,
    "complaint": 0.10,
    "constructive": 0.04,
    "sarcasm": 0.02,
    "toxic": 0.012,
    "spam": 0.02,
    "emoji": 0.07,
}
TOPIC_WEIGHTS = {
    "delivery": 0.20,
    "price": 0.15,
    "quality": 0.15,
    "customer_service": 0.12,
    "app_website": 0.10,
    "billing": 0.06,
    "promotions": 0.08,
    "store": 0.08,
    "csr": 0.06,
}
CRITICAL_INTENTS = {"complaint", "constructive", "sarcasm", "crisis_complaint", "crisis_constructive"}
TOXIC_INTENTS = {"toxic", "threat", "toxic_user"}
# Comments per post, before the weekend boost.
POST_ENGAGEMENT = {
    "facebook": {
        "product": 62,
        "tutorial": 48,
        "contest": 230,
        "csr": 70,
        "store": 85,
        "sale": 130,
        "halloween": 60,
        "team": 40,
        "statement": 15,
        "followup": 30,
    },
    "instagram": {
        "product": 42,
        "tutorial": 34,
        "contest": 250,
        "csr": 45,
        "store": 50,
        "sale": 90,
        "halloween": 50,
        "team": 30,
        "statement": 10,
        "followup": 20,
    },
    "youtube": {"video": 38},
}


def local_time(ts: datetime) -> datetime:
    return ts + timedelta(hours=2 if ts < DST_END else 1)


def hour_weight(ts: datetime) -> float:
    local = local_time(ts)
    weights = HOUR_WEIGHT_WEEKEND if local.weekday() >= 5 else HOUR_WEIGHT_WEEKDAY
    return weights[local.hour]


def at_local(day: date, hour: int, minute: int) -> datetime:
    """A UTC instant for a Paris wall-clock time on ``day``."""
    naive = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    return naive - timedelta(hours=2 if naive - timedelta(hours=2) < DST_END else 1)


def rfc3339(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    platform: str
    author_id: str
    name: str
    handle: str
    lang: str
    sloppiness: float


@dataclass
class Item:
    """One post, comment or reply being generated (the record is built at the end)."""

    source: str
    native_id: str
    kind: str
    parent: Item | None
    thread: Item | None
    author: User | None  # None = the brand
    text: str
    url: str
    created: datetime
    intent: str
    lang: str
    topic: str | None = None
    likes: int = 0
    shares: int = 0
    children: list[Item] = field(default_factory=list)
    post_type: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def critical(self) -> bool:
        if self.intent == "agree":
            return bool(self.parent and self.parent.critical)
        return self.intent in CRITICAL_INTENTS

    @property
    def constructive(self) -> bool:
        return self.intent in {"constructive", "crisis_constructive"}


def poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method is fine for the small rates used here.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


SMS_FR = {
    "c'est": "c",
    "pourquoi": "pq",
    "quoi": "koi",
    "beaucoup": "bcp",
    "vraiment": "vrmt",
    "toujours": "tjrs",
    "merci": "mrc",
    "aujourd'hui": "ajd",
    "quelqu'un": "qqn",
    "quand": "qd",
    "avec": "avc",
    "bonjour": "bjr",
    "je ne": "j'",
    "s'il vous plaît": "svp",
    "rien": "r1",
    "trop": "tro",
    "comme": "comm",
    "que": "ke",
    "pas": "pa",
}
ELONGATE = {
    "trop",
    "merci",
    "génial",
    "super",
    "top",
    "adore",
    "j'adore",
    "beau",
    "belle",
    "bon",
    "nul",
    "honte",
    "enfin",
    "vraiment",
    "love",
    "so",
    "wow",
    "oui",
    "non",
    "jamais",
    "rien",
    "sublime",
    "parfait",
    "déçue",
}
AZERTY_NEIGHBOURS = {
    "a": "zq",
    "z": "aes",
    "e": "zrd",
    "r": "etf",
    "t": "ryg",
    "y": "tuh",
    "u": "yij",
    "i": "uok",
    "o": "ipl",
    "p": "om",
    "q": "asw",
    "s": "qdz",
    "d": "sfe",
    "f": "dgr",
    "g": "fht",
    "h": "gjy",
    "j": "hku",
    "k": "jli",
    "l": "kmo",
    "m": "lp",
    "w": "qx",
    "x": "wc",
    "c": "xv",
    "v": "cb",
    "b": "vn",
    "n": "b",
}
