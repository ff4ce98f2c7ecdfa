"""Hypothesis strategies for outside bytes: raw events almost right, JSON junk, and plain bytes."""

from __future__ import annotations

import orjson
from hypothesis import strategies as st

SOURCES = ("facebook", "instagram", "youtube", "reddit", "x", "rss", "webhook", "import")

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "[/x]",
            "[bold]",
            "\u0000",
            "é",
            "😂",
            "1e20",
            "inf",
            "NaN",
            "2026-10-01T10:00:00Z",
            "9999-12-31T23:59:59-05:00",
            "0000-00-00",
            "\u202e",
            "a" * 300,
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def good_event(marker: str) -> dict:
    return {
        "schema_version": 1,
        "id": f"facebook:{marker}",
        "source": "facebook",
        "kind": "comment",
        "parent_id": f"facebook:p{marker}",
        "thread_id": f"facebook:p{marker}",
        "channel": "facebook:maison-aurore",
        "author": {"id": f"a_{marker}", "name": None, "is_brand": False},
        "text": "Colis reçu, merci !",
        "url": None,
        "created_at": "2026-10-12T10:00:00Z",
        "fetched_at": "2026-10-12T10:00:05Z",
        "metrics": {"likes": 1},
    }


EVENT_FIELDS = list(good_event("x"))


@st.composite
def raw_event_bytes(draw, marker: str) -> bytes:
    """A raw event as a producer might send it: valid, with a field replaced/dropped, or not JSON at all."""
    kind = draw(st.sampled_from(["valid", "field", "drop", "bytes", "json"]))
    event = good_event(marker)
    if kind == "valid":
        event["text"] = draw(st.text(max_size=200))
        return orjson.dumps(event)
    if kind == "field":
        event[draw(st.sampled_from(EVENT_FIELDS))] = draw(json_values)
        return _dumps(event)
    if kind == "drop":
        event.pop(draw(st.sampled_from(EVENT_FIELDS)))
        return orjson.dumps(event)
    if kind == "json":
        return _dumps(draw(json_values))
    return draw(st.binary(max_size=200))


def _dumps(value) -> bytes:
    """JSON of any value, big integers and NaN included (json.dumps writes what orjson refuses)."""
    import json

    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
