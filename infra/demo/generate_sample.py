#!/usr/bin/env python3
"""Generate the Écoute demo data set: one month of a fictional French brand's social pages.

    python infra/demo/generate_sample.py [--seed 20261001] [--out infra/demo/ecoute-demo-2026-10.jsonl.gz]

Maison Aurore (fictional skincare and home-fragrance brand) posts on its Facebook page, Instagram
account and YouTube channel during October 2026; people comment, reply, praise, ask, complain,
insult and spam; the brand answers part of it. On 2026-10-17 a parcel-loss incident at its
(fictional) carrier makes criticism burst from ~09:00 UTC and taper through the evening.

The output is JSON Lines in the Écoute import format (read by connectors/file_import.py), gzip'ed
with a fixed mtime so the same seed always gives the same bytes. Next to it the script writes
``ground_truth.json`` (crisis window, per-day counts of intended-critical comments, totals) and
``ground_truth_labels.jsonl.gz`` (the intent of every comment and reply, for label-quality checks).
Only the standard library and PyYAML are used (the text fragments live in text_bank.yaml).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import random
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import text_bank as tb  # noqa: E402

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
HOUR_WEIGHT_WEEKDAY = [0.35, 0.2, 0.1, 0.06, 0.05, 0.08, 0.25, 0.5, 0.7, 0.8, 0.8, 0.85,
                       1.0, 1.0, 0.85, 0.8, 0.85, 0.95, 1.15, 1.3, 1.5, 1.55, 1.2, 0.7]  # fmt: skip
# Weekends: late mornings, busy afternoons and evenings.
HOUR_WEIGHT_WEEKEND = [0.5, 0.35, 0.2, 0.1, 0.06, 0.05, 0.1, 0.2, 0.4, 0.65, 0.9, 1.0,
                       1.05, 1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.3, 1.45, 1.45, 1.2, 0.85]  # fmt: skip
MAX_HOUR_WEIGHT = 1.55

# Extra critical comments per UTC hour on the crisis day (on top of the usual flow).
CRISIS_PROFILE = {9: 8, 10: 14, 11: 17, 12: 18, 13: 19, 14: 21, 15: 19, 16: 16, 17: 14,
                  18: 12, 19: 10, 20: 7, 21: 5, 22: 3, 23: 2}  # fmt: skip
AFTERMATH = {date(2026, 10, 18): 14, date(2026, 10, 19): 6}

LANG_MIX = {
    "facebook": {"fr": 0.80, "en": 0.10, "es": 0.03, "de": 0.025, "it": 0.025, "pt": 0.02},
    "instagram": {"fr": 0.66, "en": 0.24, "es": 0.03, "de": 0.025, "it": 0.025, "pt": 0.02},
    "youtube": {"fr": 0.76, "en": 0.14, "es": 0.03, "de": 0.025, "it": 0.025, "pt": 0.02},
}
INTENT_WEIGHTS = {
    "praise": 0.26, "question": 0.17, "chat": 0.11, "complaint": 0.10, "constructive": 0.04,
    "sarcasm": 0.02, "toxic": 0.012, "spam": 0.02, "emoji": 0.07,
}  # fmt: skip
TOPIC_WEIGHTS = {
    "delivery": 0.20, "price": 0.15, "quality": 0.15, "customer_service": 0.12, "app_website": 0.10,
    "billing": 0.06, "promotions": 0.08, "store": 0.08, "csr": 0.06,
}  # fmt: skip
CRITICAL_INTENTS = {"complaint", "constructive", "sarcasm", "crisis_complaint", "crisis_constructive"}
TOXIC_INTENTS = {"toxic", "threat", "toxic_user"}
# Comments per post, before the weekend boost.
POST_ENGAGEMENT = {
    "facebook": {"product": 62, "tutorial": 48, "contest": 230, "csr": 70, "store": 85, "sale": 130,
                 "halloween": 60, "team": 40, "statement": 15, "followup": 30},
    "instagram": {"product": 42, "tutorial": 34, "contest": 250, "csr": 45, "store": 50, "sale": 90,
                  "halloween": 50, "team": 30, "statement": 10, "followup": 20},
    "youtube": {"video": 38},
}  # fmt: skip


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


class Generator:
    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        self.users_by_key: dict[tuple[str, str], list[User]] = defaultdict(list)
        self.picks_by_key: dict[tuple[str, str], list[User]] = defaultdict(list)
        self.items: list[Item] = []
        self.posts: list[Item] = []
        self.threat_done = False

    # ------------------------------------------------------------------ ids
    def _digits(self, n: int, first: str = "") -> str:
        body = "".join(self.rng.choice("0123456789") for _ in range(n - len(first)))
        return first + body

    def _b64(self, n: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def post_ids(self, platform: str) -> tuple[str, str]:
        """(native id, permalink) of a new post."""
        if platform == "facebook":
            number = self._unique(lambda: self._digits(16, "1"))
            return f"{FB_PAGE_ID}_{number}", f"https://www.facebook.com/{FB_SLUG}/posts/{number}"
        if platform == "instagram":
            media = self._unique(lambda: self._digits(19, "18"))
            shortcode = self._unique(lambda: "D" + self._b64(10))
            return media, f"https://www.instagram.com/p/{shortcode}/"
        video = self._unique(lambda: self._b64(11))
        return video, f"https://www.youtube.com/watch?v={video}"

    def comment_ids(self, post: Item, parent: Item | None) -> tuple[str, str]:
        """(native id, permalink) of a comment on ``post`` (a reply when ``parent`` is a comment)."""
        if post.source == "facebook":
            post_number = post.native_id.split("_", 1)[1]
            number = self._unique(lambda: self._digits(16, self.rng.choice("1234568")))
            if parent is None:
                return f"{post_number}_{number}", f"{post.url}?comment_id={number}"
            parent_number = parent.native_id.split("_", 1)[1]
            return f"{post_number}_{number}", f"{post.url}?comment_id={parent_number}&reply_comment_id={number}"
        if post.source == "instagram":
            number = self._unique(lambda: self._digits(17, "17" + self.rng.choice("89")))
            if parent is None:
                return number, f"{post.url}c/{number}/"
            return number, f"{post.url}c/{parent.native_id}/r/{number}/"
        if parent is None:
            cid = self._unique(lambda: "Ug" + self.rng.choice("wxyz") + self._b64(19) + "4AaABAg")
            return cid, f"{post.url}&lc={cid}"
        rid = self._unique(lambda: f"{parent.native_id}.{self.rng.choice('9AB')}{self._b64(21)}")
        return rid, f"{post.url}&lc={rid}"

    # ------------------------------------------------------------------ people
    def _new_user(self, platform: str, lang: str) -> User:
        rng = self.rng
        if lang == "fr":
            first, last = rng.choice(tb.FIRST_NAMES_FR), rng.choice(tb.LAST_NAMES_FR)
        elif lang == "en":
            first, last = rng.choice(tb.FIRST_NAMES_EN), rng.choice(tb.LAST_NAMES_EN)
        else:
            first, last = rng.choice(tb.FIRST_NAMES_OTHER[lang]), rng.choice(tb.LAST_NAMES_OTHER[lang])
        plain = strip_accents(f"{first}{last}").lower().replace(" ", "").replace("'", "")
        style = rng.random()
        if style < 0.45:
            handle = f"{strip_accents(first).lower()}.{strip_accents(last).lower()}{rng.randint(1, 99) if rng.random() < 0.5 else ''}"
        elif style < 0.75:
            handle = f"{rng.choice(tb.HANDLE_WORDS)}_{strip_accents(first).lower()}{rng.choice(['', str(rng.randint(1, 99)), '_' + rng.choice(tb.HANDLE_WORDS)])}"
        else:
            handle = f"{plain[: rng.randint(4, 9)]}{rng.randint(10, 2009)}"
        handle = handle.replace(" ", "").replace("'", "")
        if platform == "facebook":
            name = f"{first} {last}" if rng.random() < 0.8 else f"{first} {last[0]}."
            author_id = self._unique(lambda: self._digits(rng.choice([16, 17]), rng.choice("123456789")))
        elif platform == "instagram":
            name = handle
            author_id = self._unique(lambda: self._digits(17, "17841" + rng.choice("0123456")))
        else:
            name = "@" + handle if rng.random() < 0.7 else f"{first} {last}"
            author_id = self._unique(lambda: "UC" + self._b64(22))
        return User(platform, author_id, name, handle, lang, rng.random() ** 2)

    def pick_user(self, platform: str, lang: str, fresh_share: float = 0.5) -> User:
        """Rich-get-richer: regulars come back, many people comment once."""
        key = (platform, lang)
        picks = self.picks_by_key[key]
        if not picks or self.rng.random() < fresh_share:
            user = self._new_user(platform, lang)
            self.users_by_key[key].append(user)
        else:
            user = self.rng.choice(picks)
        picks.append(user)
        return user

    def mention(self, platform: str) -> str:
        lang = "fr" if self.rng.random() < 0.8 else "en"
        pool = self.users_by_key[(platform, lang)]
        user = self.rng.choice(pool) if pool and self.rng.random() < 0.4 else self._new_user(platform, lang)
        if platform == "facebook":
            return user.name if self.rng.random() < 0.7 else "@" + user.name.split()[0]
        return "@" + user.handle

    # ------------------------------------------------------------------ text
    def slots(self, platform: str, lang: str, **known: str) -> dict[str, str]:
        rng = self.rng
        products = tb.PRODUCTS_FR if lang == "fr" else tb.PRODUCTS_EN if lang == "en" else tb.PRODUCTS_SHORT
        product, product2 = rng.sample(products, 2)
        city, city2 = rng.sample(tb.CITIES, 2)
        bank = tb.FR if lang != "en" else tb.EN
        nth = (
            rng.choice(["3e", "4e", "5e", "10e", "deuxième", "troisième", "énième"])
            if lang == "fr"
            else rng.choice(["3rd", "4th", "5th", "10th"])
        )
        values = {
            "p": product, "p2": product2, "c": city, "c2": city2,
            "d": str(rng.choice([3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 18, 21])), "d2": str(rng.randint(1, 3)),
            "o": rng.choice(["n°", "#", "", "AUR-"]) + self._digits(rng.choice([7, 8]), rng.choice("12345")),
            "n": str(rng.choice([19, 24, 29, 32, 36, 39, 42, 45, 49, 54, 59, 65, 72, 89])),
            "fp": rng.choice(["4,90", "5,90", "6,90", "7,50", "7,90"]), "h": str(rng.randint(2, 30)),
            "k": str(rng.randint(2, 7)), "t": str(rng.choice([15, 20, 25, 30, 40, 45, 55])),
            "y": str(rng.randint(2, 15)), "nth": nth, "reason": rng.choice(bank["reason"]),
            "reason2": rng.choice(bank["reason2"]), "m": self.mention(platform), "m2": self.mention(platform),
            "m3": self.mention(platform), "carrier": CARRIER, "v": f"4.{rng.randint(2, 9)}.{rng.randint(0, 3)}",
            "url": rng.choice(["bit.ly/", "tinyurl.com/", "cutt.ly/", "gains-faciles.biz/", "promo-top.shop/"]) + self._b64(7),
            "team": rng.choice(tb.TEAMS_FR if lang != "en" else tb.TEAMS_EN),
            "draw": rng.choice(["24 octobre", "31 octobre", "15 octobre", "10 octobre"]),
            "name": "", "tags": "",
        }  # fmt: skip
        values.update(known)
        return values

    def fill(self, template: str, platform: str, lang: str, **known: str) -> str:
        return template.format_map(self.slots(platform, lang, **known))

    def _maybe(self, p: float, options: list[str]) -> str:
        return self.rng.choice(options) if self.rng.random() < p else ""

    def _join(self, *parts: str) -> str:
        text = " ".join(part.strip() for part in parts if part and part.strip())
        return text[:1].upper() + text[1:] if self.rng.random() < 0.6 else text

    def _decorate(self, text: str, platform: str, mood: str) -> str:
        rng = self.rng
        if mood == "pos" and rng.random() < 0.4:
            text += " " + "".join(rng.choice(tb.EMOJI_POS) for _ in range(rng.randint(1, 3)))
        elif mood == "neg" and rng.random() < 0.25:
            text += " " + "".join(rng.choice(tb.EMOJI_NEG + tb.EMOJI_SAD) for _ in range(rng.randint(1, 3)))
        hashtag_p = 0.3 if platform == "instagram" else 0.08
        if mood in ("pos", "neg") and rng.random() < hashtag_p:
            text += " " + rng.choice(tb.HASHTAGS_POS if mood == "pos" else tb.HASHTAGS_NEG)
        return text

    def compose(self, intent: str, platform: str, lang: str, topic: str | None = None) -> str:
        """The text of a top-level comment of the given intent (before roughening)."""
        rng = self.rng
        if intent == "emoji":
            pool = tb.EMOJI_POS * 3 + tb.EMOJI_NEG + tb.EMOJI_SAD + ["😂", "🤣", "👀", "🙏"]
            return "".join(rng.choice(pool) for _ in range(rng.randint(1, 6)))
        if lang in tb.MINOR:
            bank = tb.MINOR[lang]
            if intent == "complaint":
                topics = bank["complaint"]
                body = rng.choice(topics[topic] if topic in topics else topics[rng.choice(sorted(topics))])
                return self._decorate(self.fill(body, platform, lang), platform, "neg")
            return self._decorate(
                self.fill(rng.choice(bank[intent]), platform, lang), platform, "pos" if intent == "praise" else ""
            )
        bank = tb.FR if lang == "fr" else tb.EN
        fill = lambda t: self.fill(t, platform, lang)  # noqa: E731
        if intent == "praise":
            text = self._join(
                self._maybe(0.45, bank["praise_open"]),
                fill(rng.choice(bank["praise"])),
                self._maybe(0.5, bank["praise_close"]),
            )
            return self._decorate(text, platform, "pos")
        if intent == "question":
            return self._join(
                fill(self._maybe(0.6, bank["question_open"])),
                fill(rng.choice(bank["question"])),
                self._maybe(0.5, bank["question_close"]),
            )
        if intent == "complaint":
            body = fill(rng.choice(bank["complaint"][topic]))
            if rng.random() < 0.2:
                other = rng.choice(sorted(bank["complaint"]))
                body += (" et " if lang == "fr" else " and ") + fill(rng.choice(bank["complaint"][other]))
            text = self._join(
                fill(self._maybe(0.55, bank["complaint_open"])), body, self._maybe(0.55, bank["complaint_close"])
            )
            return self._decorate(text, platform, "neg")
        if intent == "constructive":
            cause = fill(rng.choice(bank["cause"][topic]))
            suggestion = fill(rng.choice(bank["suggestion"][topic]))
            thanks = self._maybe(
                0.35,
                ["Merci d'avance !", "Bonne journée", "Merci de transmettre 🙏"]
                if lang == "fr"
                else ["Thanks!", "Cheers"],
            )
            return self._join(fill(self._maybe(0.6, bank["constructive_open"])), cause + ".", suggestion, thanks)
        if intent == "sarcasm":
            return fill(rng.choice(bank["sarcasm"]))
        if intent == "toxic":
            text = rng.choice(bank["toxic"])
            if rng.random() < 0.6:
                text += ", " + rng.choice(bank["toxic_tail"])
            return text.upper() if rng.random() < 0.25 else self._decorate(text, platform, "neg")
        if intent == "spam":
            return fill(rng.choice(bank["spam"]))
        if intent == "chat":
            return fill(rng.choice(bank["chat"]))
        if intent == "contest":
            return self._decorate(fill(rng.choice(bank["contest"])), platform, "pos")
        if intent == "crisis_complaint":
            body = fill(rng.choice(tb.FR["crisis"]))
            if rng.random() < 0.25:
                body += ". " + fill(rng.choice(tb.FR["crisis"] + tb.FR["complaint"]["customer_service"]))
            text = self._join(
                fill(self._maybe(0.3, tb.FR["complaint_open"])), body, self._maybe(0.6, tb.FR["crisis_close"])
            )
            return text.upper() if rng.random() < 0.08 else text
        if intent == "crisis_constructive":
            return self._join(
                self._maybe(0.4, tb.FR["constructive_open"]), fill(rng.choice(tb.FR["crisis_constructive"]))
            )
        if intent == "threat":
            return fill(tb.FR["threat"])
        raise ValueError(f"no text for intent {intent!r}")

    def compose_reply(self, intent: str, platform: str, lang: str, parent: Item) -> str:
        rng = self.rng
        if lang in tb.MINOR:
            return self.fill(rng.choice(tb.MINOR[lang]["praise"] + ["+1", "👍", "❤️"]), platform, lang)
        bank = tb.FR if lang == "fr" else tb.EN
        template = rng.choice(bank[intent])
        if intent == "toxic_user":
            template += " " + self._maybe(0.7, bank["toxic_user_insult"])
        if intent == "agree" and parent.intent.startswith("crisis") and lang == "fr":
            template += " " + self._maybe(0.5, tb.FR["crisis_close"])
        text = self.fill(template, platform, lang).strip()
        if rng.random() < 0.3 and platform != "youtube" and parent.author is not None:
            # Replying people often tag the person they answer.
            text = ("@" + parent.author.handle if platform == "instagram" else parent.author.name) + " " + text
        return text

    def brand_text(self, comment: Item) -> str:
        rng = self.rng
        lang = comment.lang if comment.lang in ("fr", "en") or comment.lang in tb.MINOR else "fr"
        name = comment.author.name.split()[0].lstrip("@") if comment.author else ""
        if comment.source == "instagram" and comment.author:
            name = "@" + comment.author.handle
        if lang in tb.MINOR:
            return self.fill(tb.MINOR[lang]["brand"], comment.source, lang, name=name)
        bank = tb.FR if lang == "fr" else tb.EN
        kind = {
            "question": "brand_question", "complaint": "brand_complaint", "sarcasm": "brand_complaint",
            "constructive": "brand_constructive", "crisis_constructive": "brand_constructive",
            "praise": "brand_praise", "contest": "brand_praise", "chat": "brand_praise",
            "crisis_complaint": "brand_crisis",
        }.get(comment.intent, "brand_other")  # fmt: skip
        text = self.fill(rng.choice(bank[kind]), comment.source, lang, name=name)
        signature = self._maybe(0.7, bank["brand_sig"])
        return f"{text} {signature}".strip()

    # ------------------------------------------------------------------ structure
    def add(self, item: Item) -> Item:
        self.items.append(item)
        if item.parent is not None:
            item.parent.children.append(item)
        return item

    def schedule_posts(self) -> None:
        rng = self.rng
        day = MONTH_START.date()
        type_cycle = ["product", "tutorial", "product", "team", "product", "csr", "tutorial"]
        cycle_index = 0
        while day < MONTH_END.date():
            weekday = day.weekday()
            slots: list[tuple[str, datetime, str]] = []
            if weekday < 5:
                slots.append(("facebook", at_local(day, 9, rng.randint(15, 55)), ""))
                slots.append(("facebook", at_local(day, rng.choice([17, 18]), rng.randint(0, 59)), ""))
                slots.append(("instagram", at_local(day, 12, rng.randint(10, 50)), ""))
                if weekday in (1, 3):
                    slots.append(("instagram", at_local(day, 19, rng.randint(0, 40)), ""))
            else:
                slots.append(("facebook", at_local(day, 11, rng.randint(0, 45)), ""))
                slots.append(("instagram", at_local(day, 18, rng.randint(0, 59)), ""))
            if weekday in (2, 6):
                slots.append(("youtube", at_local(day, 17, rng.randint(0, 30)), "video"))
            for platform, when, forced in slots:
                post_type = forced or self._post_type(day, weekday, platform, type_cycle[cycle_index % len(type_cycle)])
                cycle_index += 1
                self.make_post(platform, when, post_type)
            day += timedelta(days=1)
        # The incident statement and next morning's follow-up.
        self.make_post("facebook", STATEMENT_AT, "statement")
        self.make_post("instagram", STATEMENT_AT + timedelta(minutes=27, seconds=41), "statement")
        self.make_post("facebook", at_local(date(2026, 10, 18), 10, 4), "followup")
        self.make_post("instagram", at_local(date(2026, 10, 18), 10, 31), "followup")

    def _post_type(self, day: date, weekday: int, platform: str, default: str) -> str:
        if day.day in (9, 12) and platform in ("facebook", "instagram"):
            return "sale"
        if day.day == 8 and platform == "facebook":
            return "store"
        if day.day in (30, 31):
            return "halloween"
        if weekday == 4 and platform in ("facebook", "instagram") and self.rng.random() < 0.8:
            return "contest"
        if day.day in (1, 15) and platform == "facebook":
            return "csr"
        return default

    def make_post(self, platform: str, when: datetime, post_type: str) -> Item:
        rng = self.rng
        native_id, url = self.post_ids(platform)
        tags = " ".join(rng.sample(tb.HASHTAGS_POS, rng.randint(1, 4 if platform == "instagram" else 2)))
        if post_type == "statement":
            text = tb.CRISIS_POST.format(carrier=CARRIER)
        elif post_type == "followup":
            text = tb.FOLLOWUP_POST.format(carrier=CARRIER)
        elif platform == "youtube":
            title = self.fill(rng.choice(tb.YOUTUBE_TITLES), platform, "fr")
            body = self.fill(
                rng.choice(tb.POSTS["product"] + tb.POSTS["tutorial"] + tb.POSTS["team"]), platform, "fr", tags=tags
            )
            text = f"{title}\n\n{body}\n\n🛍️ maisonaurore.fr\n📷 Instagram : @maisonaurore"
        else:
            text = self.fill(rng.choice(tb.POSTS[post_type]), platform, "fr", tags=tags)
        reach = {"facebook": 900, "instagram": 2600, "youtube": 420}[platform]
        post = Item(
            platform, native_id, "post", None, None, None, text, url, when, "post", "fr",
            likes=int(reach * rng.lognormvariate(0, 0.45) * (2.5 if post_type == "contest" else 1)),
            shares=int(rng.lognormvariate(3, 0.8)) if platform == "facebook" else 0, post_type=post_type,
        )  # fmt: skip
        post.thread = post
        self.posts.append(post)
        return self.add(post)

    def comment_delay(self, start: datetime, fast: bool = False) -> datetime | None:
        """A time after ``start`` following the daily rhythm (rejection sampling on hour weights)."""
        rng = self.rng
        for _ in range(40):
            roll = rng.random()
            if fast:
                hours = rng.expovariate(1 / 0.75)
            elif roll < 0.6:
                hours = rng.expovariate(1 / 1.5)
            elif roll < 0.9:
                hours = rng.expovariate(1 / 8)
            else:
                hours = rng.uniform(0, 72)
            when = start + timedelta(hours=hours, seconds=rng.randint(20, 90))
            if rng.random() < hour_weight(when) / MAX_HOUR_WEIGHT:
                return when if when < MONTH_END else None
        return None

    def choose_intent(self, post: Item, day: date) -> str:
        weights = dict(INTENT_WEIGHTS)
        if post.post_type == "contest":
            weights["contest"] = 1.1
        elif post.post_type in ("tutorial", "video"):
            weights["question"] *= 2
        elif post.post_type == "sale":
            weights["question"] *= 1.5
        elif post.post_type == "followup":
            weights.update(complaint=0.15, constructive=0.05, sarcasm=0.03)
        return self.weighted(weights)

    def choose_topic(self, post: Item, day: date) -> str:
        weights = dict(TOPIC_WEIGHTS)
        factors = {"csr": ("csr", 5), "sale": ("promotions", 3), "store": ("store", 4), "contest": ("promotions", 2)}
        if post.post_type in factors:
            key, factor = factors[post.post_type]
            weights[key] *= factor
        if post.post_type == "sale":
            weights["price"] *= 2
        if date(2026, 10, 13) <= day <= date(2026, 10, 16):
            weights["delivery"] *= 1.8  # parcels from the sale start to run late: the weak signal
        if day >= date(2026, 10, 18) and day <= date(2026, 10, 21):
            weights["delivery"] *= 2.5
        return self.weighted(weights)

    def weighted(self, weights: dict[str, float]) -> str:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def language(self, platform: str) -> str:
        return self.weighted(LANG_MIX[platform])

    def make_comment(self, post: Item, when: datetime, intent: str, lang: str, topic: str | None = None) -> Item:
        rng = self.rng
        if lang in tb.MINOR and intent not in ("praise", "question", "complaint", "chat", "emoji"):
            intent = rng.choice(["praise", "question", "complaint", "chat"])
        if intent in ("complaint", "constructive") and topic is None:
            topic = self.choose_topic(post, when.date())
        if intent == "sarcasm" and topic is None:
            topic = rng.choice(["delivery", "customer_service", "price", "quality", "app_website", "csr"])
        if intent.startswith("crisis"):
            topic = "delivery"
        user = self.pick_user(post.source, lang, fresh_share=0.45 if intent != "contest" else 0.6)
        raw = self.compose(intent, post.source, lang, topic)
        mood = "neg" if intent in CRITICAL_INTENTS | TOXIC_INTENTS else "pos"
        text = roughen(raw, rng, lang, user.sloppiness, mood) if intent not in ("emoji", "spam") else raw
        native_id, url = self.comment_ids(post, None)
        likes_mean = {"praise": 3, "complaint": 4, "constructive": 9, "crisis_complaint": 14, "crisis_constructive": 40,
                      "sarcasm": 8, "question": 1.2, "contest": 1.5}.get(intent, 0.8)  # fmt: skip
        likes = int(rng.expovariate(1 / likes_mean)) * (8 if rng.random() < 0.02 else 1)
        comment = Item(post.source, native_id, "comment", post, post, user, text, url, when, intent,
                       "zxx" if intent == "emoji" else lang, topic, likes=likes)  # fmt: skip
        return self.add(comment)

    def make_reply(self, comment: Item, when: datetime, intent: str, lang: str, brand: bool = False) -> Item | None:
        if when >= MONTH_END:
            return None
        rng = self.rng
        post = comment.thread
        assert post is not None
        native_id, url = self.comment_ids(post, comment)
        if brand:
            text, user = self.brand_text(comment), None
            likes = int(rng.expovariate(1 / 1.5))
        else:
            user = self.pick_user(post.source, lang, fresh_share=0.35)
            text = roughen(self.compose_reply(intent, post.source, lang, comment), rng, lang, user.sloppiness,
                           "neg" if intent in ("agree", "toxic_user") else "pos")  # fmt: skip
            likes = int(rng.expovariate(1 / (4 if intent == "agree" else 1)))
        reply = Item(post.source, native_id, "reply", comment, post, user, text, url, when,
                     "brand_reply" if brand else intent, comment.lang if brand else lang,
                     comment.topic if intent == "agree" else None, likes=likes)  # fmt: skip
        return self.add(reply)

    def populate_post(self, post: Item) -> None:
        rng = self.rng
        if post.source == "youtube":
            mean = POST_ENGAGEMENT["youtube"]["video"]
        else:
            mean = POST_ENGAGEMENT[post.source][post.post_type]
        if local_time(post.created).weekday() >= 5:
            mean *= 1.2
        count = max(3, int(mean * rng.lognormvariate(0, 0.35)))
        for _ in range(count):
            when = self.comment_delay(post.created)
            if when is None:
                continue
            intent = self.choose_intent(post, when.date())
            lang = self.language(post.source)
            if intent == "contest" and lang not in ("fr", "en"):
                lang = "fr"
            self.make_comment(post, when, intent, lang)

    def crisis(self) -> None:
        """The parcel-loss burst of 2026-10-17 and its aftermath on the next two days."""
        rng = self.rng
        fb_statement, ig_statement = (p for p in self.posts if p.post_type == "statement")
        for hour, expected in CRISIS_PROFILE.items():
            for _ in range(poisson(rng, expected)):
                when = datetime(2026, 10, 17, hour, 0, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 3599))
                if when > STATEMENT_AT + timedelta(minutes=5) and rng.random() < 0.75:
                    post = fb_statement if when < ig_statement.created or rng.random() < 0.7 else ig_statement
                else:
                    post = self.latest_post(when, rng.choice(["facebook"] * 7 + ["instagram"] * 3))
                self.crisis_comment(post, when)
        for day, expected in AFTERMATH.items():
            followups = [p for p in self.posts if p.post_type == "followup"]
            for _ in range(poisson(rng, expected)):
                when = at_local(day, 8, 0) + timedelta(seconds=rng.randint(0, 14 * 3600))
                candidates = [p for p in followups if p.created < when] or [self.latest_post(when, "facebook")]
                self.crisis_comment(rng.choice(candidates), when)
        # The one threat of the month, at the height of the anger.
        self.make_comment(fb_statement, datetime(2026, 10, 17, 18, 47, 3, tzinfo=UTC), "threat", "fr")

    def crisis_comment(self, post: Item, when: datetime) -> None:
        roll = self.rng.random()
        lang = "en" if roll > 0.95 else "fr"
        if lang == "en":
            self.make_comment(post, when, "complaint", "en", "delivery")
        elif roll < 0.72:
            self.make_comment(post, when, "crisis_complaint", "fr")
        elif roll < 0.80:
            self.make_comment(post, when, "crisis_constructive", "fr")
        elif roll < 0.87:
            self.make_comment(post, when, "complaint", "fr", "customer_service")
        elif roll < 0.92:
            self.make_comment(post, when, "sarcasm", "fr", "delivery")
        else:
            self.make_comment(post, when, "toxic", "fr")

    def latest_post(self, when: datetime, platform: str) -> Item:
        candidates = [p for p in self.posts if p.source == platform and p.created < when]
        return max(candidates, key=lambda p: p.created)

    def brand_reply_time(self, comment: Item) -> datetime | None:
        """Minutes to a day later, within the community team's working hours."""
        rng = self.rng
        start = comment.created
        if comment.intent.startswith("crisis") or (start.date() == CRISIS_DAY and comment.critical):
            start = max(start, STATEMENT_AT)
            delay_min = rng.lognormvariate(math.log(150), 0.9)
        else:
            delay_min = rng.lognormvariate(math.log(70), 1.1)
        when = start + timedelta(minutes=max(2.0, delay_min))
        local = local_time(when)
        opens, closes = (10, 19) if local.weekday() >= 5 else (8, 22)
        if not opens <= local.hour < closes:
            next_day = local.date() + timedelta(days=0 if local.hour < opens else 1)
            next_opens = 10 if next_day.weekday() >= 5 else 8
            when = at_local(next_day, next_opens, 0) + timedelta(minutes=rng.uniform(0, 100))
        if when - comment.created > timedelta(hours=36):
            return None
        return when

    def threads(self) -> None:
        """Replies: the community answering itself, and the brand answering part of the comments."""
        rng = self.rng
        brand_p = {
            "question": 0.55, "complaint": 0.42, "constructive": 0.65, "sarcasm": 0.2, "praise": 0.12,
            "contest": 0.01, "chat": 0.02, "toxic": 0.06, "emoji": 0.02, "crisis_complaint": 0.2,
            "crisis_constructive": 0.5, "threat": 0.0, "spam": 0.0,
        }  # fmt: skip
        community = {
            "complaint": (0.25, ["agree"] * 7 + ["defend"] * 3), "constructive": (0.2, ["agree"]),
            "crisis_complaint": (0.28, ["agree"] * 9 + ["defend"]), "crisis_constructive": (0.3, ["agree"]),
            "question": (0.18, ["community_answer"]), "praise": (0.06, ["praise_reply"]),
            "toxic": (0.5, ["calm_down"] * 6 + ["toxic_user"] * 4), "sarcasm": (0.2, ["agree"] * 6 + ["defend"] * 4),
            "chat": (0.25, ["praise_reply"]), "threat": (1.0, ["calm_down"]),
        }  # fmt: skip
        for comment in [item for item in self.items if item.kind == "comment"]:
            if comment.intent in community:
                p, choices = community[comment.intent]
                if rng.random() < p:
                    n = 1
                    while n < 6 and rng.random() < 0.45:
                        n += 1
                    when = comment.created
                    for _ in range(n):
                        when = self.comment_delay(when, fast=True)
                        if when is None:
                            break
                        intent = rng.choice(choices)
                        lang = comment.lang if comment.lang in ("fr", "en") else rng.choice(["fr", comment.lang])
                        if lang not in ("fr", "en") and intent != "praise_reply":
                            lang = "fr"
                        self.make_reply(comment, when, intent, lang)
            if rng.random() < brand_p.get(comment.intent, 0.0):
                when = self.brand_reply_time(comment)
                if when is not None:
                    reply = self.make_reply(comment, when, "brand_reply", comment.lang, brand=True)
                    if reply and comment.critical and rng.random() < 0.15:
                        self.follow_up(comment, reply)

    def follow_up(self, comment: Item, brand_reply: Item) -> None:
        """The original commenter answers the brand (settled or still waiting)."""
        rng = self.rng
        when = self.comment_delay(brand_reply.created, fast=True)
        if when is None or comment.author is None or comment.lang not in ("fr", "en"):
            return
        post = comment.thread
        assert post is not None
        settled = rng.random() < 0.6
        if comment.lang == "fr":
            text = rng.choice(["merci, c'est réglé 👍", "merci pour la réponse rapide", "ok merci, j'attends votre MP",
                               "toujours rien reçu en MP...", "on m'a répondu, merci !"] if settled else
                              ["toujours pas de réponse en MP", "ça fait 2 jours, toujours rien", "c'est ce que vous dites à tout le monde"])  # fmt: skip
        else:
            text = rng.choice(
                ["thanks, sorted 👍", "thank you for the quick reply"]
                if settled
                else ["still no DM...", "that's what you tell everyone"]
            )
        native_id, url = self.comment_ids(post, comment)
        reply = Item(post.source, native_id, "reply", comment, post, comment.author,
                     roughen(text, rng, comment.lang, comment.author.sloppiness, "pos" if settled else "neg"),
                     url, when, "followup_settled" if settled else "agree", comment.lang, comment.topic)  # fmt: skip
        self.add(reply)

    # ------------------------------------------------------------------ output
    def run(self) -> list[Item]:
        self.schedule_posts()
        for post in list(self.posts):
            self.populate_post(post)
        self.crisis()
        self.threads()
        order = {"post": 0, "comment": 1, "reply": 2}
        self.items.sort(key=lambda it: (int(it.created.timestamp()), order[it.kind], it.native_id))
        return self.items


def record(item: Item) -> dict[str, Any]:
    brand = BRAND[item.source]
    return {
        "source": item.source,
        "native_id": item.native_id,
        "kind": item.kind,
        "parent_native_id": item.parent.native_id if item.parent else None,
        "thread_native_id": item.thread.native_id if item.thread else item.native_id,
        "channel": brand["channel"],
        "author_id": item.author.author_id if item.author else brand["author_id"],
        "author_name": item.author.name if item.author else brand["name"],
        "author_is_brand": item.author is None,
        "text": item.text,
        "url": item.url,
        "created_at": rfc3339(item.created),
        "likes": item.likes,
        "replies": len(item.children),
        "shares": item.shares,
    }


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
    "c'est": "c", "pourquoi": "pq", "quoi": "koi", "beaucoup": "bcp", "vraiment": "vrmt", "toujours": "tjrs",
    "merci": "mrc", "aujourd'hui": "ajd", "quelqu'un": "qqn", "quand": "qd", "avec": "avc", "bonjour": "bjr",
    "je ne": "j'", "s'il vous plaît": "svp", "rien": "r1", "trop": "tro", "comme": "comm", "que": "ke", "pas": "pa",
}  # fmt: skip
ELONGATE = {"trop", "merci", "génial", "super", "top", "adore", "j'adore", "beau", "belle", "bon", "nul", "honte",
            "enfin", "vraiment", "love", "so", "wow", "oui", "non", "jamais", "rien", "sublime", "parfait", "déçue"}  # fmt: skip
AZERTY_NEIGHBOURS = {"a": "zq", "z": "aes", "e": "zrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok",
                     "o": "ipl", "p": "om", "q": "asw", "s": "qdz", "d": "sfe", "f": "dgr", "g": "fht", "h": "gjy",
                     "j": "hku", "k": "jli", "l": "kmo", "m": "lp", "w": "qx", "x": "wc", "c": "xv", "v": "cb",
                     "b": "vn", "n": "b"}  # fmt: skip


def roughen(text: str, rng: random.Random, lang: str, sloppiness: float, mood: str) -> str:
    """Make a clean sentence look typed on a phone: typos, SMS spelling, elongations, case, punctuation."""
    if lang == "fr" and rng.random() < 0.35 * sloppiness + 0.05:
        for word, short in SMS_FR.items():
            if word in text and rng.random() < 0.5:
                text = text.replace(word, short, 1)
    words = text.split(" ")
    for index, word in enumerate(words):
        core = word.strip(".,!?;:\"'()…")
        if not core.isalpha():
            continue  # leave @mentions, #tags, links, numbers and emoji alone
        lower = core.lower()
        if lower in ELONGATE and rng.random() < 0.15 + 0.4 * sloppiness:
            vowel_at = max((i for i, ch in enumerate(lower) if ch in "aeiouyé"), default=len(lower) - 1)
            stretched = core[: vowel_at + 1] + core[vowel_at] * rng.randint(2, 4) + core[vowel_at + 1 :]
            words[index] = word.replace(core, stretched, 1)
        elif len(core) > 3 and rng.random() < 0.05 * sloppiness + 0.005:
            chars = list(core)
            at = rng.randrange(len(chars) - 1)
            operation = rng.random()
            if operation < 0.35:
                chars[at], chars[at + 1] = chars[at + 1], chars[at]
            elif operation < 0.6:
                del chars[at]
            elif operation < 0.8:
                chars.insert(at, chars[at])
            else:
                chars[at] = rng.choice(AZERTY_NEIGHBOURS.get(chars[at].lower(), chars[at]))
            words[index] = word.replace(core, "".join(chars), 1)
    text = " ".join(words)
    if rng.random() < 0.5 * sloppiness:
        text = strip_accents(text)
    if rng.random() < 0.25 + 0.4 * sloppiness:
        text = text[:1].lower() + text[1:] if rng.random() < 0.5 else text.lower()
    if mood == "neg" and rng.random() < 0.06:
        text = text.upper()
    if text.endswith(".") and rng.random() < 0.4:
        text = text[:-1] + rng.choice(["", "...", " !!", "!!!"])
    if text.endswith("?") and rng.random() < 0.3:
        text = text[:-1].rstrip() + rng.choice(["??", " ??", "???", " ?!"])
    if lang == "fr" and mood == "pos" and rng.random() < 0.04 + 0.08 * sloppiness:
        text += " " + rng.choice(["mdrrr", "mdr", "ptdr", "hihi", "😂", "lol"])
    return text


def write_outputs(items: list[Item], out: Path, seed: int) -> dict[str, Any]:
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_gzip_lines(out, (record(item) for item in items))
    labels = (
        {"source": it.source, "native_id": it.native_id, "kind": it.kind, "intent": it.intent, "lang": it.lang,
         "topic": it.topic, "critical": it.critical, "constructive": it.constructive,
         "toxic": it.intent in TOXIC_INTENTS, "spam": it.intent == "spam", "brand": it.author is None}
        for it in items if it.kind != "post"
    )  # fmt: skip
    _write_gzip_lines(out.parent / "ground_truth_labels.jsonl.gz", labels)
    truth = ground_truth(items, seed, out.name)
    (out.parent / "ground_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return truth


def _write_gzip_lines(path: Path, rows) -> None:
    buffer = io.BytesIO()
    # mtime=0 and no file name in the header: the same rows always give the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
    path.write_bytes(buffer.getvalue())


def ground_truth(items: list[Item], seed: int, file_name: str) -> dict[str, Any]:
    people = [it for it in items if it.kind != "post" and it.author is not None]
    days = [(MONTH_START + timedelta(days=i)).date().isoformat() for i in range(31)]
    critical_by_day = Counter(it.created.date().isoformat() for it in people if it.critical)
    top_level_by_day = Counter(it.created.date().isoformat() for it in people if it.critical and it.kind == "comment")
    crisis_hours = Counter(it.created.hour for it in people if it.critical and it.created.date() == CRISIS_DAY)
    hourly_normal = Counter(
        (it.created.date(), it.created.hour) for it in people if it.critical and it.created.date() != CRISIS_DAY
    )
    usual_hourly: dict[int, float] = {}
    for hour in range(24):
        usual_hourly[hour] = sum(n for (d, h), n in hourly_normal.items() if h == hour) / 30
    other_days = sorted(critical_by_day[d] for d in days if d != CRISIS_DAY.isoformat())
    median = other_days[len(other_days) // 2]
    statement = next(it for it in items if it.kind == "post" and it.post_type == "statement")
    threats = [{"source": it.source, "native_id": it.native_id} for it in items if it.intent == "threat"]
    critical = [it for it in people if it.critical]
    answered = {it.parent.native_id for it in items if it.author is None and it.kind == "reply" and it.parent}
    return {
        "file": file_name,
        "seed": seed,
        "generator": "infra/demo/generate_sample.py",
        "brand": {
            platform: {"channel": b["channel"], "author_id": b["author_id"], "name": b["name"]}
            for platform, b in BRAND.items()
        },
        "period": {"start": rfc3339(MONTH_START), "end": rfc3339(MONTH_END)},
        "records": len(items),
        "by_kind": dict(sorted(Counter(it.kind for it in items).items())),
        "by_source": dict(sorted(Counter(it.source for it in items).items())),
        "by_lang_people": dict(sorted(Counter(it.lang for it in people).items())),
        "by_intent_people": dict(sorted(Counter(it.intent for it in people).items())),
        "brand_replies": sum(1 for it in items if it.kind == "reply" and it.author is None),
        "crisis": {
            "day": CRISIS_DAY.isoformat(),
            "start": rfc3339(CRISIS_START),
            "end": rfc3339(CRISIS_END),
            "description": f"Parcels of the Jours Aurore sale shown as delivered but never received (carrier {CARRIER}); "
            "angry French comments from ~09:00 UTC, brand statement at 13:38 UTC, tapering through the evening.",
            "statement_post": {"source": statement.source, "native_id": statement.native_id},
            "critical_by_utc_hour": {str(h): crisis_hours[h] for h in range(24)},
            "usual_critical_by_utc_hour": {str(h): round(v, 2) for h, v in usual_hourly.items()},
            "critical_on_crisis_day": critical_by_day[CRISIS_DAY.isoformat()],
            "median_critical_other_days": median,
            "ratio_to_median_day": round(critical_by_day[CRISIS_DAY.isoformat()] / max(median, 1), 2),
        },
        "critical_comments_by_day": {d: critical_by_day[d] for d in days},
        "critical_top_level_comments_by_day": {d: top_level_by_day[d] for d in days},
        "constructive": sum(1 for it in people if it.constructive),
        "toxic": sum(1 for it in people if it.intent in TOXIC_INTENTS),
        "threats": threats,
        "spam": sum(1 for it in people if it.intent == "spam"),
        "emoji_only": sum(1 for it in people if it.intent == "emoji"),
        "critical_total": len(critical),
        "critical_answered_by_brand": sum(1 for it in critical if it.native_id in answered),
        "notes": "critical = complaint, constructive criticism, sarcasm, crisis complaints and replies agreeing with "
        "a critical comment, by people (not the brand); toxic (insults, the threat) is counted separately.",
    }


def generate(seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """The records of the data set, in file order (for tests and other tools)."""
    return [record(item) for item in Generator(seed).run()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    items = Generator(args.seed).run()
    truth = write_outputs(items, args.out, args.seed)
    crisis = truth["crisis"]
    print(
        f"wrote {truth['records']} records to {args.out} ({args.out.stat().st_size / 1e6:.2f} MB); "
        f"crisis day {crisis['critical_on_crisis_day']} critical vs median {crisis['median_critical_other_days']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
