"""The labeller's judgments on the demo month (infra/demo) against its ground truth, and the answer
and questions queues ranked on them: the check that would have caught the constructive collapse of
labeller 2026.12-3 (911 flagged, 16 % right; 9 constructive criticisms in the answer queue's first 50).

The month is the project's own synthetic data — a floor, not the judge (docs/labels.md) — so the
floors sit below what is measured today (constructive P 0.996 / R 0.856, question P 0.897 /
R 0.983, 50 of 50 and 42 of 50 at the top of the queues) and above the issue's bar (0.6, 0.7, 40).
Every member item of the month is labelled once (≈ 9,000 distinct texts: seconds when the
embedding cache is warm, a few minutes of CPU when cold).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecoute.settings import get_settings
from ecoute.views.ranking import rank_answer, rank_questions
from jobs.labeller import Labeller
from jobs.labeller.config import LabellerConfig

DEMO = Path(__file__).resolve().parents[3] / "infra" / "demo"
# Read after the month (as `make demo` does today): every item waited more than 7 days.
READ_AT = datetime(2026, 12, 7, tzinfo=UTC)
NEVER_TO_ANSWER = {"praise", "praise_reply", "agree", "community_answer", "defend", "contest"}


@pytest.fixture(scope="module")
def month() -> list[dict]:
    with gzip.open(DEMO / "ecoute-demo-2026-10.jsonl.gz", "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    with gzip.open(DEMO / "ground_truth_labels.jsonl.gz", "rt", encoding="utf-8") as handle:
        truth = {(t["source"], t["native_id"]): t for t in map(json.loads, handle)}
    lab = Labeller(config=LabellerConfig.from_settings(get_settings(), centring="own"))  # as `ecoute label`
    labels: dict[str, list] = {}
    for start in range(0, len(records), 512):
        batch = records[start : start + 512]
        cols = lab.label_columns(
            [r["text"] for r in batch], [r["kind"] for r in batch], [r["author_is_brand"] for r in batch]
        )
        for key, values in cols.items():
            labels.setdefault(key, []).extend(values)
    answered = {(r["source"], r["parent_native_id"]) for r in records if r["author_is_brand"] and r["kind"] == "reply"}
    items = []
    for i, record in enumerate(records):
        key = (record["source"], record["native_id"])
        if record["author_is_brand"] or key not in truth:
            continue
        items.append(
            {
                "id": f"{record['source']}:{record['native_id']}",
                "kind": record["kind"],
                "truth": truth[key],
                "created_at": record["created_at"],
                "author": {"id": record["author_id"]},
                "answered": key in answered,
                "parent": (record["source"], record["parent_native_id"]),
                "key": key,
                "metrics": {"likes": record["likes"], "replies": record["replies"]},
                **{name: labels[name][i] for name in ("criticism", "constructive", "question", "sentiment")},
            }
        )
    return items


def precision_recall(items: list[dict], label: str, truth) -> tuple[float, float]:
    tp = sum(1 for it in items if it[label] and truth(it["truth"]))
    flagged = sum(1 for it in items if it[label])
    actual = sum(1 for it in items if truth(it["truth"]))
    return tp / max(flagged, 1), tp / max(actual, 1)


def test_constructive_holds_on_the_month(month) -> None:
    precision, recall = precision_recall(month, "constructive", lambda t: t["constructive"])
    assert precision >= 0.8 and recall >= 0.7, (precision, recall)


def test_questions_are_found_on_the_month(month) -> None:
    precision, recall = precision_recall(month, "question", lambda t: t["intent"] == "question")
    assert precision >= 0.8 and recall >= 0.9, (precision, recall)


def test_the_answer_queue_opens_on_constructive_criticism(month) -> None:
    ranked = rank_answer([it for it in month if not it["answered"]], now=READ_AT)
    top = [row["doc"]["truth"] for row in ranked[:50]]
    assert sum(t["constructive"] for t in top) >= 45, Counter(t["intent"] for t in top)
    assert not [t["intent"] for t in top if t["intent"] in NEVER_TO_ANSWER]
    # agreement and community answers are never in it, however far down
    assert not [row for row in ranked if row["doc"]["truth"]["intent"] in {"agree", "community_answer"}]


def test_the_questions_queue_opens_on_questions(month) -> None:
    open_questions = [it for it in month if it["question"] and not it["answered"]]
    asked = {it["key"]: it for it in open_questions}
    by_others = {
        asked[it["parent"]]["id"]
        for it in month
        if it["kind"] == "reply"
        and it["parent"] in asked
        and not it["question"]
        and it["author"] != asked[it["parent"]]["author"]
    }
    ranked = rank_questions(open_questions, by_others, set(), now=READ_AT)
    top = [row["doc"]["truth"]["intent"] for row in ranked[:50]]
    assert top.count("question") >= 40, Counter(top)
    assert {row["section"] for row in ranked} == {"open", "community"}
