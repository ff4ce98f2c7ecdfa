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
import random
import sys
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # run as a script: its sibling modules and text bank

from sample_model import (  # noqa: E402
    BRAND,
    CARRIER,
    CRISIS_DAY,
    CRISIS_END,
    CRISIS_START,
    DEFAULT_OUT,
    DEFAULT_SEED,
    MONTH_END,
    MONTH_START,
    TOXIC_INTENTS,
    Item,
    User,
    rfc3339,
)
from sample_texts import TextMixin  # noqa: E402
from sample_timeline import TimelineMixin  # noqa: E402


class Generator(TextMixin, TimelineMixin):
    """One demo month: the people and their texts (TextMixin), what happens when (TimelineMixin)."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        self.users_by_key: dict[tuple[str, str], list[User]] = defaultdict(list)
        self.picks_by_key: dict[tuple[str, str], list[User]] = defaultdict(list)
        self.items: list[Item] = []
        self.posts: list[Item] = []
        self.threat_done = False


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


def write_outputs(items: list[Item], out: Path, seed: int) -> dict[str, Any]:
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_gzip_lines(out, (record(item) for item in items))
    labels = (
        {
            "source": it.source,
            "native_id": it.native_id,
            "kind": it.kind,
            "intent": it.intent,
            "lang": it.lang,
            "topic": it.topic,
            "critical": it.critical,
            "constructive": it.constructive,
            "toxic": it.intent in TOXIC_INTENTS,
            "spam": it.intent == "spam",
            "brand": it.author is None,
        }
        for it in items
        if it.kind != "post"
    )
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
