"""How the inbox shows what it stores, in the page's language: times in the page's time zone,
numbers ("2,1 h"), people (names, or a readable stable pseudonym), pages, topics and languages by
name. Nothing raw (an author hash, ``facebook:maison-aurore``, ``delivery``, ``und``) reaches a page.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

import schemas
from ecoute.settings import Settings
from inbox.strings import translator

STRINGS_DIR = Path(__file__).resolve().parent / "strings"
PSEUDONYM_ID = re.compile(r"^a_[0-9a-f]{6,}$")  # ecoute.events.pseudonymise
NETWORKS = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "reddit": "Reddit",
    "x": "X",
    "rss": "RSS",
    "webhook": "Webhook",
    "import": "Import",
}


@cache
def taxonomy() -> dict[str, dict[str, Any]]:
    """Topic id -> its declaration (labels, description) in schemas/taxonomy.yaml."""
    return yaml.safe_load((schemas.SCHEMAS_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))["topics"]


@cache
def _pseudonym_words() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((STRINGS_DIR / "pseudonyms.yaml").read_text(encoding="utf-8"))


def pseudonym(author_id: str, lang: str) -> str:
    """The same readable name for the same author hash, e.g. "Loutre calme 48" (not reversible)."""
    words = _pseudonym_words()
    table = words.get(lang) or words["fr"]
    digest = int.from_bytes(hashlib.sha256(author_id.encode("utf-8")).digest()[:8], "big")
    animal = table["animals"][digest % len(table["animals"])]
    word = table["words"][(digest // 64) % len(table["words"])]
    return table["format"].format(animal=animal, word=word, n=(digest // 4096) % 90 + 10)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class Display:
    """One page's way of showing things (its language and time zone)."""

    def __init__(self, settings: Settings, lang: str):
        self.settings = settings
        self.lang = lang
        self.zone = ZoneInfo(settings.inbox.time_zone)
        self.t = translator(lang)

    # -- times and numbers ------------------------------------------------------------------
    def local(self, value: str | datetime) -> datetime:
        moment = value if isinstance(value, datetime) else parse_time(value)
        return moment.astimezone(self.zone)

    def when(self, value: str | datetime | None) -> str:
        """17/10/2026 11:05 (French) or 17/10/2026 11:05 too (day first in both: a European product)."""
        if not value:
            return ""
        return self.local(value).strftime("%d/%m/%Y %H:%M")

    def day(self, value: str | date | datetime | None) -> str:
        if not value:
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10]) if len(value) <= 10 else self.local(value)
        return value.strftime("%d/%m/%Y")

    def zone_name(self) -> str:
        """The time zone as people say it ("heure de Paris"), else its id."""
        zone = self.settings.inbox.time_zone
        key = "zone_" + zone.replace("/", "_")
        text = self.t(key)
        return zone if text == key else text

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        text = f"{float(value):,.{digits}f}" if digits else f"{round(float(value)):,}"
        if self.lang == "fr":  # 1 234,5: narrow no-break space for thousands, comma for decimals
            text = text.replace(",", "\u202f").replace(".", ",")
        return text

    def hours(self, value: float | None) -> str:
        return "—" if value is None else f"{self.number(value, 1)}\u00a0h"

    def duration(self, hours: float | None) -> str:
        """A wait as people say it: "12 min" under an hour, else "2,1 h"."""
        if hours is None:
            return "—"
        if hours < 1:
            return f"{round(hours * 60)}\u00a0min"
        return self.hours(hours)

    def percent(self, share: float | None) -> str:
        if share is None:
            return "—"
        return f"{self.number(share * 100)}\u202f%" if self.lang == "fr" else f"{self.number(share * 100)}%"

    # -- names --------------------------------------------------------------------------------
    def network(self, source: str | None) -> str:
        return NETWORKS.get(source or "", source or "")

    def page(self, channel: str | None) -> str:
        """A brand page by name: the configured one, else made from its id (``facebook:maison-aurore``
        → "Maison Aurore", ``instagram:maisonaurore`` → "@maisonaurore")."""
        if not channel:
            return ""
        named = self.settings.inbox.page_names.get(channel)
        if named:
            return named
        _, _, handle = channel.partition(":")
        if not handle:
            return channel
        if re.search(r"[-_ ]", handle):
            return " ".join(part.capitalize() for part in re.split(r"[-_ ]+", handle) if part)
        return handle if handle.startswith(("@", "r/")) else f"@{handle}"

    def page_full(self, channel: str | None) -> str:
        source = (channel or "").partition(":")[0]
        network = self.network(source)
        return f"{self.page(channel)} ({network})" if network and network != self.page(channel) else self.page(channel)

    def person(self, item: dict[str, Any]) -> str:
        """Who wrote an item: the brand's page, the stored name, else the readable pseudonym.

        ``item`` is any row, thread item or context the views build: ``author`` is the stored label
        (a name when names are kept, else the pseudonymous id), ``author_id`` when known."""
        if item.get("is_brand"):
            return self.page(item.get("channel")) or self.t("brand")
        label = str(item.get("author") or "")
        author_id = str(item.get("author_id") or "")
        if label and label != author_id and not PSEUDONYM_ID.match(label) and self.settings.store_author_names:
            return label
        key = author_id or label
        return pseudonym(key, self.lang) if key else self.t("unknown_author")

    def topic(self, topic_id: str) -> str:
        topic = taxonomy().get(topic_id) or {}
        return str(topic.get(f"label_{self.lang}") or topic.get("label_fr") or topic_id)

    def topics(self) -> list[tuple[str, str]]:
        """(id, label) of every taxonomy topic, in the taxonomy's order (the correction form's choices)."""
        return [(topic_id, self.topic(topic_id)) for topic_id in taxonomy()]

    def correction(self, record: dict[str, Any]) -> str:
        """A label correction as people read it: "tonalité : négatif → positif"."""
        change = record.get("platform_response") or {}
        parts = []
        for field, value in (change.get("labels") or {}).items():
            before = (change.get("previous") or {}).get(field)
            parts.append(
                f"{self.t('label_' + field)} : {self.label_value(field, before)} → {self.label_value(field, value)}"
            )
        return " ; ".join(parts)

    def label_value(self, field: str, value: Any) -> str:
        if value is None:
            return "—"
        if field == "sentiment":
            return self.t(f"sent_{value}")
        if field == "topics":
            return ", ".join(self.topic(v) for v in value) or "—"
        if field == "toxic_categories":
            return ", ".join(self.t(f"cat_{v}") for v in value) or "—"
        return self.t("bool_yes") if value else self.t("bool_no")

    def language(self, code: str | None) -> str:
        if not code:
            return self.t("lang_und")
        key = f"lang_{code}"
        text = self.t(key)
        return code if text == key else text


def register_filters(env: Any) -> None:
    """Jinja filters that read the page's ``d`` (its Display): ``x|when``, ``x|day``, ``x|num(1)``,
    ``x|hours``, ``x|pct``, ``row|person``, ``channel|page_name``, ``id|topic``, ``code|language``."""
    from jinja2 import pass_context

    def through(method: str) -> Any:
        @pass_context
        def apply(context: Any, value: Any, *args: Any) -> Any:
            return getattr(context["d"], method)(value, *args)

        return apply

    for name, method in (
        ("when", "when"),
        ("day", "day"),
        ("num", "number"),
        ("hours", "hours"),
        ("duration", "duration"),
        ("pct", "percent"),
        ("person", "person"),
        ("page_name", "page"),
        ("page_full", "page_full"),
        ("topic", "topic"),
        ("language", "language"),
        ("network", "network"),
        ("correction_text", "correction"),
    ):
        env.filters[name] = through(method)
