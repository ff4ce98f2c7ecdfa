"""Fuzz: the enrichment executor's pure step (raw Kafka bytes → enriched row or rejection).

``jobs.enrich.enrich_record_batch`` is what every Spark worker runs on each Arrow batch. Whatever
the bytes, it must return one row per input, in order, each either an enriched doc that honours
schemas/enriched_event.schema.json or a rejection with a reason (quarantined by the driver).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecoute import events
from jobs.enrich.executor import enrich_record_batch
from tests.fuzz.conftest import account
from tests.fuzz.strategies import raw_event_bytes

counter = itertools.count()


@pytest.fixture(scope="module")
def labeller():
    from jobs.labeller import get_labeller

    return get_labeller()


@st.composite
def batches(draw) -> list[bytes | None]:
    size = draw(st.integers(min_value=1, max_value=12))
    return [None if draw(st.integers(0, 30)) == 0 else draw(raw_event_bytes(f"fz{next(counter)}")) for _ in range(size)]


def arrow_batch(values: list[bytes | None]) -> pa.RecordBatch:
    n = len(values)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(["ecoute.raw.v1"] * n),
            pa.array([0] * n, pa.int32()),
            pa.array(range(n), pa.int64()),
            pa.array([datetime.now(UTC)] * n, pa.timestamp("ms", tz="UTC")),
            pa.array(values, pa.binary()),
        ],
        names=["topic", "partition", "offset", "timestamp", "value"],
    )


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(values=batches())
def test_every_raw_record_becomes_one_row_enriched_or_rejected_with_a_reason(labeller, values):
    out = enrich_record_batch(arrow_batch(values), labeller, store_author_names=False).to_pydict()
    assert out["offset"] == list(range(len(values)))  # one row per input, in order: none lost, none added
    assert out["original"] == values
    enriched = rejected = 0
    for doc, error, event_id in zip(out["doc"], out["error"], out["event_id"], strict=True):
        assert (doc is None) != (error is None)
        if doc is not None:
            parsed = orjson.loads(doc)
            assert parsed["id"] == event_id and parsed["labeller_version"]
            assert events.validation_errors(parsed, "enriched_event.schema.json") == []
            enriched += 1
        else:
            assert error.strip()
            rejected += 1
    account(
        "enrichment executor (raw bytes)",
        tried=len(values),
        enriched=enriched,
        quarantined=rejected,
        lost=len(values) - enriched - rejected,
    )
