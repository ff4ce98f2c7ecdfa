"""The spike watch on the demo month (infra/demo): its one crisis (2026-10-17) gives exactly one
alert episode and one email; the calm days give none. Criticism labels are the data set's ground
truth, so this tests the watch and the detector, not the labeller."""

from __future__ import annotations

import email
import email.policy
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs.alerts import replay_criticism_watch
from jobs.notify import language_of, load_strings, smtp_connection_uri
from tests.jobs.alerts.data import index_mentions

DEMO = Path(__file__).resolve().parents[3] / "infra" / "demo"


def demo_docs() -> list[dict]:
    with gzip.open(DEMO / "ground_truth_labels.jsonl.gz", "rt", encoding="utf-8") as handle:
        labels = {(r["source"], r["native_id"]): r for r in map(json.loads, handle)}
    with gzip.open(DEMO / "ecoute-demo-2026-10.jsonl.gz", "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    docs = []
    for record in records:
        label = labels.get((record["source"], record["native_id"]), {})
        docs.append(
            {
                "id": f"{record['source']}:{record['native_id']}",
                "source": record["source"],
                "kind": record["kind"],
                "channel": record["channel"],
                "author": {"id": f"a_{record['author_id']}", "is_brand": bool(record.get("author_is_brand"))},
                "text": record["text"],
                "url": record.get("url"),
                "created_at": record["created_at"],
                "metrics": {"likes": record.get("likes") or 0, "replies": 0, "shares": 0},
                "lang": label.get("lang") or "und",
                "sentiment": "negative" if label.get("critical") else "neutral",
                "topics": [label["topic"]] if label.get("topic") else [],
                "toxic": bool(label.get("toxic")),
                "criticism": bool(label.get("critical")),
                "constructive": bool(label.get("constructive")),
                "answered_by_brand": False,
            }
        )
    return docs


@pytest.mark.skipif(not (DEMO / "ecoute-demo-2026-10.jsonl.gz").exists(), reason="demo data set not present")
def test_demo_month_has_one_crisis_episode(settings, smtp_outbox, monkeypatch) -> None:
    settings.smtp.port = smtp_outbox.port
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(settings))
    index_mentions(settings, demo_docs())
    alerts = replay_criticism_watch(settings, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert [a["episode_start"][:10] for a in alerts] == ["2026-10-17"], [a["summary"] for a in alerts]
    assert alerts[0]["severity"] in ("high", "critical") and "facebook:maison-aurore" in alerts[0]["summary"]
    assert alerts[0]["breakdown"][0]["channel"] == "facebook:maison-aurore"  # where the crisis is
    [path] = smtp_outbox.messages()
    assert "facebook:maison-aurore" in path.read_text(errors="replace")
    # The explanation managers read: distinct authors, the same hours yesterday and last week.
    why = alerts[0]["explanation"]
    assert alerts[0]["distinct_authors"] > 0 and why["yesterday"] is not None and why["last_week"] is not None
    words = load_strings("emails")[language_of(settings)]
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    for label in (words["distinct_authors"], words["yesterday"], words["last_week"]):
        assert label in text, label
    assert f"{alerts[0]['distinct_authors']}" in text
