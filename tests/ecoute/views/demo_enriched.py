"""The demo data set (infra/demo) as enriched mentions, labelled from its ground truth.

Lets the views be checked on a realistic month (threads, brand replies, the crisis of 2026-10-17)
without running Spark or the labeller: labels come from ``ground_truth_labels.jsonl.gz``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from ecoute import events
from tests.benchmarks.labels_support import NEGATIVE_INTENTS, POSITIVE_INTENTS

DEMO = Path(__file__).resolve().parents[3] / "infra" / "demo"
# The demo truth's intents that carry a sentiment: one definition, shared with the labels benchmark.
POSITIVE, NEGATIVE = POSITIVE_INTENTS, NEGATIVE_INTENTS
TOPIC = {"quality": "product_quality", "store": "store_experience", "csr": "brand_values"}


def demo_enriched(key: str = "demo") -> list[dict[str, Any]]:
    with gzip.open(DEMO / "ecoute-demo-2026-10.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    with gzip.open(DEMO / "ground_truth_labels.jsonl.gz", "rt", encoding="utf-8") as handle:
        labels = {(lab["source"], lab["native_id"]): lab for lab in map(json.loads, handle)}
    answered: dict[str, str] = {}
    for row in rows:  # the brand's first reply to an item marks it answered
        if row["author_is_brand"] and row["kind"] == "reply":
            parent = events.event_id(row["source"], row["parent_native_id"])
            answered.setdefault(parent, row["created_at"])
    docs = []
    for row in rows:
        label = labels.get((row["source"], row["native_id"]), {})
        intent = label.get("intent", "post")
        event_id = events.event_id(row["source"], row["native_id"])
        topic = label.get("topic")
        docs.append(
            {
                "schema_version": 1,
                "id": event_id,
                "source": row["source"],
                "kind": row["kind"],
                "parent_id": events.event_id(row["source"], row["parent_native_id"])
                if row["parent_native_id"]
                else None,
                "thread_id": events.event_id(row["source"], row["thread_native_id"]),
                "channel": row["channel"],
                "author": {
                    "id": events.pseudonymise(row["author_id"], key),
                    "name": row["author_name"],
                    "is_brand": row["author_is_brand"],
                },
                "text": row["text"],
                "url": row["url"],
                "created_at": row["created_at"],
                "fetched_at": row["created_at"],
                "metrics": {"likes": row["likes"], "replies": row["replies"], "shares": row["shares"]},
                "lang": label.get("lang", "fr"),
                "lang_confidence": 0.9,
                "sentiment": "positive" if intent in POSITIVE else "negative" if intent in NEGATIVE else "neutral",
                "sentiment_score": 0.6 if intent in POSITIVE else -0.6 if intent in NEGATIVE else 0.0,
                "topics": [TOPIC.get(topic, topic)] if topic else [],
                "toxic": bool(label.get("toxic")),
                "toxic_score": 0.9 if label.get("toxic") else 0.05,
                "criticism": bool(label.get("critical")),
                "constructive": bool(label.get("constructive")),
                "question": intent == "question",
                "answered_by_brand": event_id in answered,
                "brand_answered_at": answered.get(event_id),
                "handled": False,
                "handled_at": None,
                "labeller_version": "ground-truth",
                "enriched_at": row["created_at"],
            }
        )
    return docs
