"""Fuzz: `ecoute connect import` on hostile files (JSONL, CSV, gzip), against a real Kafka.

Every non-blank record of the file must end in the raw topic or in the DLQ with a reason, once:
produced + dead-lettered == records, the raw topic holds exactly the valid rows (no duplicate), and
the run never raises.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import EventSink
from connectors.file_import import IMPORT_FIELDS, import_file
from ecoute import kafka
from tests.fuzz.conftest import account
from tests.fuzz.strategies import json_values

counter = itertools.count()
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def sink(settings):
    sink = EventSink(settings, "import")
    yield sink
    sink.close()


def good_row(marker: str) -> dict:
    return {
        "source": "facebook",
        "native_id": marker,
        "kind": "post",
        "channel": "maison-aurore",
        "author_id": "u1",
        "text": "Livraison rapide, merci",
        "created_at": "2026-10-12 10:00:00",
        "likes": "3",
    }


def _marks(settings) -> dict[str, dict[int, int]]:
    return {
        topic: kafka.high_watermarks(topic, settings=settings) for topic in (settings.topics.raw, settings.topics.dlq)
    }


def _new_records(settings, before: dict[str, dict[int, int]], topic: str) -> list[dict]:
    records = []
    for partition, end in kafka.high_watermarks(topic, settings=settings).items():
        start = before[topic].get(partition, 0)
        records += [orjson.loads(r.value) for r in kafka.read_range(topic, partition, start, end, settings)]
    return records


def _check(settings, path, sink, records: int, good_ids: set[str], entry_point: str, **options) -> None:
    before = _marks(settings)
    stats = import_file(path, settings, sink=sink, restart=True, batch_size=7, **options)
    raw = _new_records(settings, before, settings.topics.raw)
    dead = _new_records(settings, before, settings.topics.dlq)
    raw_ids = [event["id"] for event in raw]
    assert len(raw_ids) == len(set(raw_ids)), "a record was produced twice"
    assert (stats.produced, stats.dead_lettered) == (len(raw), len(dead))
    assert stats.produced + stats.dead_lettered == records, "a record was lost"
    assert good_ids <= set(raw_ids)  # every valid row made it
    assert all(letter["reason"] for letter in dead)
    account(entry_point, tried=records, enriched=len(raw), dead_lettered=len(dead), lost=records - len(raw) - len(dead))


@st.composite
def jsonl_lines(draw) -> tuple[list[bytes], set[str]]:
    lines, good = [], set()
    for _ in range(draw(st.integers(1, 15))):
        marker = f"fz{next(counter)}"
        kind = draw(st.sampled_from(["good", "field", "junk", "json"]))
        if kind == "good":
            lines.append(orjson.dumps(good_row(marker)))
            good.add(f"facebook:{marker}")
        elif kind == "field":
            row = good_row(marker)
            row[draw(st.sampled_from(IMPORT_FIELDS))] = draw(json_values)
            lines.append(json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        elif kind == "json":
            lines.append(json.dumps(draw(json_values), ensure_ascii=False).encode("utf-8", "surrogatepass"))
        else:
            lines.append(draw(st.binary(min_size=1, max_size=120)).replace(b"\n", b" "))
    return lines, good


@FUZZ
@given(sample=jsonl_lines(), bom=st.booleans(), gz=st.booleans())
def test_jsonl_every_line_is_produced_or_dead_lettered(settings, sink, tmp_path_factory, sample, bom, gz):
    lines, good = sample
    body = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + b"\n"
    path = tmp_path_factory.mktemp("fz") / ("export.jsonl.gz" if gz else "export.jsonl")
    path.write_bytes(gzip.compress(body) if gz else body)
    records = sum(1 for line in lines if line.strip())  # blank lines are not records
    _check(settings, path, sink, records, good, "import JSONL" + (" .gz" if gz else ""))


cell_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@st.composite
def csv_rows(draw) -> tuple[list[list[str]], set[str]]:
    rows, good = [], set()
    for _ in range(draw(st.integers(1, 15))):
        marker = f"fz{next(counter)}"
        row = [str(good_row(marker)[field]) for field in CSV_HEADER]
        kind = draw(st.sampled_from(["good", "cell", "width", "text"]))
        if kind == "good":
            good.add(f"facebook:{marker}")
        elif kind == "cell":
            row[draw(st.integers(0, len(row) - 1))] = draw(cell_text)
        elif kind == "text":
            row[CSV_HEADER.index("text")] = draw(st.sampled_from(["x" * 200_000, '"quoted", "again"', "a\nb\r\nc"]))
        else:
            row = row[: draw(st.integers(0, len(row) - 1))] + draw(st.lists(cell_text, max_size=2))
        rows.append(row)
    return rows, good


CSV_HEADER = ["source", "native_id", "kind", "channel", "author_id", "text", "created_at", "likes"]


@FUZZ
@given(sample=csv_rows(), encoding=st.sampled_from(["utf-8", "latin-1"]), gz=st.booleans())
def test_csv_every_row_is_produced_or_dead_lettered(settings, sink, tmp_path_factory, sample, encoding, gz):
    rows, good = sample
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    # latin-1 bytes read as UTF-8: rows with non-ASCII text must be dead-lettered, not stop the run.
    body = buffer.getvalue().encode(encoding, errors="replace")
    path = tmp_path_factory.mktemp("fz") / ("export.csv.gz" if gz else "export.csv")
    path.write_bytes(gzip.compress(body) if gz else body)
    records = sum(1 for row in rows if any(cell.strip() for cell in row))  # blank rows are skipped
    _check(settings, path, sink, records, good, "import CSV" + (" .gz" if gz else ""))
