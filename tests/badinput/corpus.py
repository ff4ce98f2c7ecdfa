"""A corpus of hostile or broken records, as a misbehaving producer or a bad export would send them.

Every record carries a unique marker (in its id when it has one, else in its bytes), so a test can
find where it ended: enriched in Elasticsearch, or rejected to the DLQ / quarantine with a reason.
``expect`` says what must happen: "enriched", "rejected", or "either" (valid but odd: may be labelled,
must not be lost).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import orjson

SOURCES = ("facebook", "instagram", "youtube", "reddit", "x", "rss", "webhook", "import")


@dataclass(frozen=True)
class BadRecord:
    name: str
    payload: bytes
    marker: str
    expect: str  # enriched | rejected | either
    key: str | None = None


def _event(marker: str, source: str, **overrides) -> dict:
    event = {
        "id": f"{source}:{marker}",
        "source": source,
        "kind": "comment",
        "parent_id": None,
        "thread_id": f"{source}:thread-{marker}",
        "channel": f"{source}:maison-aurore",
        "author": {"id": f"a_{marker}", "name": None, "is_brand": False},
        "text": "Commande reçue, merci !",
        "url": None,
        "created_at": "2026-10-12T10:00:00Z",
        "fetched_at": "2026-10-12T10:00:05Z",
        "metrics": {"likes": 0, "replies": 0, "shares": 0},
    }
    event.update(overrides)
    return event


def hostile_records() -> list[BadRecord]:
    records: list[BadRecord] = []
    counter = itertools.count()

    def add(name: str, expect: str, source: str = "facebook", raw: bytes | None = None, **overrides) -> None:
        marker = f"bad{next(counter):04d}"
        if raw is not None:
            payload = raw.replace(b"MARKER", marker.encode())
            records.append(BadRecord(name, payload, marker, expect))
            return
        event = _event(marker, source, **overrides)
        records.append(BadRecord(name, orjson.dumps(event), marker, expect, key=str(event.get("id"))))

    for source in SOURCES:
        # Broken bytes and JSON.
        add(
            "invalid JSON: truncated",
            "rejected",
            source,
            raw=b'{"id": "' + source.encode() + b':MARKER", "text": "tronqu',
        )
        add("invalid JSON: trailing garbage", "rejected", source, raw=b'{"id": "' + source.encode() + b':MARKER"} }}')
        add("not an object: array", "rejected", source, raw=b'["MARKER", 1, 2]')
        add("not an object: string", "rejected", source, raw=b'"MARKER"')
        add("empty payload marker in key only", "rejected", source, raw=b"MARKER")
        add(
            "invalid UTF-8 bytes",
            "rejected",
            source,
            raw=b'{"id": "' + source.encode() + b':MARKER", "text": "caf\xe9 \xff\xfe"}',
        )
        add("NUL bytes in JSON", "rejected", source, raw=b'{"id": "' + source.encode() + b':MARKER",\x00 "text": "x"}')
        add(
            "deeply nested JSON (10k levels)",
            "rejected",
            source,
            raw=b'{"id":"MARKER","raw":' + b"[" * 10000 + b"]" * 10000 + b"}",
        )
        # Contract violations.
        add("missing id", "rejected", source, id=None)
        add("wrong type: text is a number", "rejected", source, text=12345)
        add("wrong type: metrics.likes is a string", "rejected", source, metrics={"likes": "many"})
        add("negative likes", "rejected", source, metrics={"likes": -3})
        add("unknown kind", "rejected", source, kind="story")
        add("unknown source in id", "rejected", source, id="myspace:bad")
        add("timestamp not RFC 3339", "rejected", source, created_at="17/10/2026 10:00")
        add("missing author", "rejected", source, author=None)
        add("extra unknown field", "rejected", source, sentiment_override="positive")
        add("text over 100k characters", "rejected", source, text="a" * 100_001)
        # Odd but valid: must be enriched, never lost.
        add("timestamp from 1970", "either", source, created_at="1970-01-01T00:00:00Z")
        add("timestamp from 2100", "either", source, created_at="2100-01-01T00:00:00Z")
        add("emoji only", "enriched", source, text="😡😡😡🔥💩")
        add("empty text", "either", source, text="")
        add(
            "HTML/JS in text",
            "enriched",
            source,
            text='<script>alert("xss")</script><img src=x onerror=alert(1)> livraison nulle',
        )
        add(
            "zero-width and RTL tricks",
            "enriched",
            source,
            text="liv\u200braison en re\u200dtard \u202eetoN\u202c ‏שלום‏",
        )
        add(
            "lone surrogate escape",
            "either",
            source,
            raw=b'{"id": "'
            + source.encode()
            + b':MARKER", "source": "'
            + source.encode()
            + b'", "kind": "comment", "channel": "c", "author": {"id": "a_1"}, "text": "bad \\ud800 surrogate", "created_at": "2026-10-12T10:00:00Z", "fetched_at": "2026-10-12T10:00:00Z"}',
        )
        add("NUL character inside text", "either", source, text="avant\u0000après")
        add("huge text (99k chars, 4-byte emoji)", "either", source, text="😀" * 24_000)
        add("control characters", "either", source, text="ligne1\r\nligne2\tfin\x1b[31m rouge")
    # Duplicate ids with different content: one document in the end (upsert), not two.
    for i in range(4):
        marker = f"dup{i:02d}"
        for version in range(3):
            event = _event(marker, "facebook", text=f"version {version} du commentaire")
            records.append(
                BadRecord("duplicate id, different content", orjson.dumps(event), marker, "enriched", event["id"])
            )
    return records


def huge_record() -> BadRecord:
    """A 1 MB text: over the contract's 100k-character limit, so it must be rejected, not truncated silently."""
    event = _event("huge0001", "import", text="é" * 1_000_000)
    return BadRecord("huge text (1 MB)", orjson.dumps(event), "huge0001", "rejected", event["id"])
