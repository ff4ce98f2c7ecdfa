"""How the answer and questions queues order their items, split them in sections and page them.

Pure functions over the few fields of each candidate (no Elasticsearch here), so that a test can
rank the demo month's labelled items exactly as the inbox does.

**Answer queue** (criticism the brand has not answered):
- in it: top-level comments and posts by members flagged criticism, and replies only when they are
  constructive themselves — agreement ("pareil", "+1") and members answering each other are read in
  their thread, not answered one by one; praise is not criticism and never enters;
- sections: ``waiting`` (at most STALE_DAYS without an answer), then ``stale`` (older: a comment
  that waited 60 days needs a different reply than today's, so it does not bury today's);
- order within a section: constructive criticism first, then the rest, then criticism in a positive
  tone (mostly praise the criticism heads misread, some sarcasm: last, not dropped); within each, priority =
  reach × waiting boost, where reach = log2(2 + likes + replies) and the boost grows with the hours
  waited and **saturates** (1 → 2, half-way at WAIT_HALF_HOURS): a day's wait counts, a month's
  wait counts no more than two days'.

**Questions queue** (members' questions the brand has not answered): ``open`` (newest first), then
``community`` (another member already replied: one click confirms that answer is enough).

Every row carries ``reasons``: codes with values, and ``reason`` the sentence a card shows (from
reasons.yaml, French or English).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

STALE_DAYS = 7
WAIT_HALF_HOURS = 24.0
PAGE_SIZE = 50
REASONS_FILE = Path(__file__).resolve().parent / "reasons.yaml"
REASON_LANGS = ("fr", "en")


@dataclass
class QueuePage:
    """One page of a queue: its items (ranked), how many the whole queue holds, per section too."""

    items: list[dict[str, Any]]
    total: int
    page: int = 1
    page_size: int = PAGE_SIZE
    sections: dict[str, int] = field(default_factory=dict)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # the items' stored documents, by id

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    """[start, end) of a 1-based page (pages below 1 read as 1)."""
    page = max(1, int(page))
    return (page - 1) * page_size, page * page_size


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hours_waited(created_at: Any, now: datetime) -> float:
    created = parse_time(created_at)
    return 0.0 if created is None else max(0.0, (now - created).total_seconds() / 3600)


def wait_boost(hours: float) -> float:
    """1 for a new item, 1.5 after WAIT_HALF_HOURS, → 2: waiting counts, and stops counting."""
    return 2.0 - math.exp(-math.log(2) * max(0.0, hours) / WAIT_HALF_HOURS)


def reach(likes: int, replies: int) -> float:
    """log2(2 + likes + replies): a comment 100 people liked is seen, not 100 times more urgent."""
    return math.log2(2 + max(0, int(likes or 0)) + max(0, int(replies or 0)))


def _metric(doc: dict[str, Any], name: str) -> int:
    return int((doc.get("metrics") or {}).get(name) or 0)


def in_answer_queue(doc: dict[str, Any]) -> bool:
    """A reply enters only when constructive itself (agreement and community answers stay in their thread)."""
    return bool(doc.get("criticism")) and (doc.get("kind") != "reply" or bool(doc.get("constructive")))


def rank_answer(docs: Iterable[dict[str, Any]], now: datetime | None = None) -> list[dict[str, Any]]:
    """The answer queue's candidates (criticism without a brand answer, not handled) → ranked rows
    ``{"doc", "section", "priority", "reasons"}``, excluded items left out."""
    now = now or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for doc in docs:
        if not in_answer_queue(doc):
            continue
        hours = hours_waited(doc.get("created_at"), now)
        likes, replies = _metric(doc, "likes"), _metric(doc, "replies")
        constructive = bool(doc.get("constructive"))
        tier = 0 if constructive else 2 if doc.get("sentiment") == "positive" else 1
        section = "stale" if hours > STALE_DAYS * 24 else "waiting"
        reasons: list[tuple[str, dict[str, Any]]] = [("constructive" if constructive else "criticism", {})]
        if likes:
            reasons.append(("likes", {"n": likes}))
        if replies:
            reasons.append(("replies", {"n": replies}))
        reasons.append(_waiting_reason(hours))
        rows.append(
            {
                "doc": doc,
                "section": section,
                "constructive": constructive,
                "tier": tier,
                "priority": round(reach(likes, replies) * wait_boost(hours), 4),
                "reasons": reasons,
            }
        )
    rows.sort(
        key=lambda r: (
            r["section"] != "waiting",
            r["tier"],
            -r["priority"],
            r["doc"].get("created_at") or "",
        )
    )
    return rows


def rank_questions(
    docs: Iterable[dict[str, Any]], community_answered: set[str], newcomers: set[str], now: datetime | None = None
) -> list[dict[str, Any]]:
    """The questions queue's candidates → ranked rows: open questions newest first, then the ones
    another member answered (newest first)."""
    now = now or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for doc in docs:
        event_id = str(doc.get("id"))
        answered = event_id in community_answered
        reasons: list[tuple[str, dict[str, Any]]] = [("question", {})]
        if event_id in newcomers:
            reasons.append(("newcomer", {}))
        if answered:
            reasons.append(("community_answered", {}))
        reasons.append(_waiting_reason(hours_waited(doc.get("created_at"), now)))
        rows.append(
            {
                "doc": doc,
                "section": "community" if answered else "open",
                "reasons": reasons,
                "newcomer": event_id in newcomers,
                "community_answered": answered,
            }
        )
    rows.sort(key=lambda r: r["doc"].get("created_at") or "", reverse=True)
    rows.sort(key=lambda r: r["section"] != "open")  # stable: newest first within each section
    return rows


def mark_newcomers(rows: Sequence[dict[str, Any]], newcomers: set[str]) -> None:
    """Mark the ranked rows whose item is a newcomer's (known for a page's rows only: it needs their history)."""
    for row in rows:
        row["newcomer"] = str(row["doc"].get("id")) in newcomers
        if row["newcomer"] and ("newcomer", {}) not in row["reasons"]:
            row["reasons"].insert(1, ("newcomer", {}))


def _waiting_reason(hours: float) -> tuple[str, dict[str, Any]]:
    if hours > STALE_DAYS * 24:
        return ("stale", {"days": STALE_DAYS})
    if hours >= 48:
        return ("waiting_days", {"n": int(hours // 24)})
    return ("waiting_hours", {"n": max(0, round(hours))})


def section_counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["section"]] = counts.get(row["section"], 0) + 1
    return counts


@cache
def reason_strings(lang: str) -> dict[str, str]:
    data = yaml.safe_load(REASONS_FILE.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data[lang if lang in REASON_LANGS else REASON_LANGS[0]].items()}


def reason_text(reasons: Sequence[tuple[str, dict[str, Any]] | list[Any]], lang: str = "fr") -> str:
    """The card's line: each reason in the reader's language, joined with " · "."""
    strings = reason_strings(lang)

    def text(code: str, values: dict[str, Any]) -> str:
        key = f"{code}_one" if values.get("n") == 1 and f"{code}_one" in strings else code
        return strings.get(key, code).format(**values)

    return " · ".join(text(code, values) for code, values in reasons)
