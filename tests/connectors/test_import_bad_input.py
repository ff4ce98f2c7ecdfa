"""Issue 19 regressions: one bad record in an import file never stops the run (real Kafka).

Each bad row goes to the DLQ with its reason (and line number for CSV); the good rows around it
are produced, and a re-run of the same file sends nothing again.
"""

from __future__ import annotations

import json

import pytest

from connectors.base import ConnectorError, MappingError, parse_count, parse_time
from connectors.file_import import import_file
from tests.connectors.conftest import dead_letters, raw_events

GOOD = {"native_id": "ok1", "created_at": "2024-05-01T10:00:00Z", "text": "bien reçu"}


def _jsonl(path, rows: list[object]) -> object:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


# -- item 2: timestamps and counts out of range ------------------------------------------------------
@pytest.mark.parametrize("value", [1e20, -1e20, float("inf"), float("nan"), "inf", "-inf", "nan", "1e20", 10**30])
def test_out_of_range_timestamps_are_a_mapping_error_not_a_crash(value):
    with pytest.raises(MappingError, match="created_at"):
        parse_time(value)


@pytest.mark.parametrize("value", [10**30, "1" + "0" * 30, 1e30, 2**63])
def test_counts_over_64_bits_are_a_mapping_error(value):
    with pytest.raises(MappingError, match="likes"):
        parse_count("likes", value)


def test_a_jsonl_file_with_overflowing_values_imports_the_good_rows(settings, tmp_path):
    rows = [
        {"native_id": "a", "created_at": 1e20, "text": "x"},
        '{"native_id":"b","created_at":"inf","text":"x"}',
        '{"native_id":"c","created_at":"2024-05-01T10:00:00Z","text":"x","likes":' + str(10**30) + "}",
        {"native_id": "d", "created_at": "9999-12-31T23:00:00-05:00", "text": "x"},
        GOOD,
    ]
    stats = import_file(_jsonl(tmp_path / "x.jsonl", rows), settings)
    assert (stats.produced, stats.dead_lettered) == (1, 4)
    assert [e["id"] for e in raw_events(settings)] == ["import:ok1"]
    reasons = sorted(letter["reason"] for letter in dead_letters(settings))
    assert all(reason.startswith("mapping: ") for reason in reasons), reasons


# -- item 9: junk types are rejected, not stored as their Python repr ---------------------------------
@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("text", ["a", "b"], 'text must be a string, not a list (["a","b"])'),
        ("channel", {"a": 1}, 'channel must be a string, not an object ({"a":1})'),
        ("native_id", [1], "native_id must be a string, not a list ([1])"),
        ("author_id", {"id": 1}, "author_id must be a string, not an object"),
        ("likes", True, "likes is a boolean (true), not a whole number"),
        ("replies", [3], "replies is a list ([3]), not a whole number"),
        ("text", True, "text must be a string, not a boolean (true)"),
    ],
)
def test_junk_types_are_dead_lettered_with_a_reason(settings, tmp_path, field, value, words):
    row = {**GOOD, "native_id": "junk", field: value}
    stats = import_file(_jsonl(tmp_path / "junk.jsonl", [row, GOOD]), settings)
    assert (stats.produced, stats.dead_lettered) == (1, 1)
    assert [e["id"] for e in raw_events(settings)] == ["import:ok1"]
    (letter,) = dead_letters(settings)
    assert words in letter["reason"]


# -- item 7: a UTF-8 BOM at the start of a JSONL file -----------------------------------------------
def test_a_jsonl_file_with_a_utf8_bom_keeps_its_first_record(settings, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n" + json.dumps({**GOOD, "native_id": "ok2"}).encode()
    )
    stats = import_file(path, settings)
    assert (stats.produced, stats.dead_lettered) == (2, 0)
    assert sorted(e["id"] for e in raw_events(settings)) == ["import:ok1", "import:ok2"]


# -- item 6: CSV encodings and huge fields ------------------------------------------------------------
def test_a_latin1_header_is_one_clear_error_naming_the_encoding_option(settings, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("native_id,created_at,text,Catégorie\nr1,2024-05-01T10:00:00Z,très bien,x\n".encode("latin-1"))
    with pytest.raises(ConnectorError, match="--encoding"):
        import_file(path, settings)
    stats = import_file(path, settings, encoding="latin-1")
    assert (stats.produced, stats.dead_lettered) == (1, 0)
    assert raw_events(settings)[0]["text"] == "très bien"


def test_undecodable_csv_rows_are_dead_lettered_with_their_line_and_bytes_and_the_run_goes_on(settings, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"native_id,created_at,text\n"
        b"r1,2024-05-01T10:00:00Z,bien\n"
        b"r2,2024-05-01T10:00:00Z,tr\xe8s mal\n"
        b"r3,2024-05-01T10:00:00Z,encore\n"
    )
    stats = import_file(path, settings)
    assert (stats.produced, stats.dead_lettered) == (2, 1)
    assert sorted(e["id"] for e in raw_events(settings)) == ["import:r1", "import:r3"]
    (letter,) = dead_letters(settings)
    assert "line 3" in letter["reason"] and "utf-8" in letter["reason"]
    import base64

    assert base64.b64decode(letter["original_b64"]) == b"r2,2024-05-01T10:00:00Z,tr\xe8s mal"


def test_a_csv_field_over_128_kib_is_dead_lettered_and_the_rows_around_it_are_sent(settings, tmp_path):
    path = tmp_path / "big.csv"
    rows = ["native_id,created_at,text"]
    rows += [f"r{i},2024-05-01T10:00:00Z,ligne {i}" for i in range(5)]
    rows.append('big,2024-05-01T10:00:00Z,"' + "x" * 200_000 + '"')
    rows += [f"s{i},2024-05-01T10:00:00Z,ligne {i}" for i in range(5)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    stats = import_file(path, settings, batch_size=100)
    assert (stats.produced, stats.dead_lettered) == (10, 1)
    (letter,) = dead_letters(settings)
    assert letter["event_id"] == "import:big" and "text" in letter["reason"]
    again = import_file(path, settings, batch_size=100)  # the checkpoint covers the whole file
    assert (again.produced, again.dead_lettered, again.skipped) == (0, 0, 11)


def test_unknown_encoding_is_a_clear_error(settings, tmp_path):
    path = _jsonl(tmp_path / "a.jsonl", [GOOD])
    with pytest.raises(ConnectorError, match="unknown encoding"):
        import_file(path, settings, encoding="klingon-8")
