"""Issue 28, items 11 and 12: what one import file may cost is bounded (real Kafka).

A gzip bomb of NUL bytes is one over-long line: dead-lettered with its head, size and sha256, never
held whole nor written to dlq-overflow/; a .gz decompressing beyond its allowance is refused with
the limit named (the records before it are imported); JSONL in UTF-16 is decoded, then split.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc

import pytest

from connectors.file_import import import_file
from connectors.import_readers import LINE_HEAD_BYTES, DecompressionLimit
from tests.connectors.conftest import dead_letters, raw_events

GOOD = {"native_id": "ok1", "created_at": "2024-05-01T10:00:00Z", "text": "bien reçu"}


def _row(native_id: str) -> bytes:
    return json.dumps({**GOOD, "native_id": native_id}, ensure_ascii=False).encode("utf-8")


def _overflow_bytes(settings) -> int:
    folder = settings.state_dir / "dlq-overflow"
    return sum(p.stat().st_size for p in folder.glob("*")) if folder.exists() else 0


def test_a_gzip_bomb_line_is_dead_lettered_by_its_head_in_bounded_memory(settings, tmp_path):
    bomb = tmp_path / "bomb.jsonl.gz"
    nul_bytes = 20 * 1024 * 1024  # 20 KB once compressed
    with gzip.open(bomb, "wb") as out:
        out.write(_row("before") + b"\n")
        for _ in range(nul_bytes // (1 << 20)):
            out.write(b"\0" * (1 << 20))
        out.write(b"\n" + _row("after") + b"\n")
    assert bomb.stat().st_size < 100_000
    tracemalloc.start()
    stats = import_file(bomb, settings)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (stats.produced, stats.dead_lettered) == (2, 1)
    assert sorted(e["id"] for e in raw_events(settings)) == ["import:after", "import:before"]
    (letter,) = dead_letters(settings)
    assert (
        f"line 2 is {nul_bytes:,} bytes long" in letter["reason"]
        and "ECOUTE_IMPORTS__MAX_LINE_BYTES" in letter["reason"]
    )
    assert "sha256" in letter["reason"] and len(letter["original"]) == LINE_HEAD_BYTES
    assert _overflow_bytes(settings) == 0  # the 20 MB line wrote 120 MB of JSON there before
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB of Python memory for a 20 MB line"


def test_a_gz_decompressing_beyond_its_allowance_is_refused_with_the_limit_named(settings, tmp_path):
    tight = settings.model_copy(update={"imports": settings.imports.model_copy(update={"gzip_floor_bytes": 1 << 20})})
    path = tmp_path / "expanding.jsonl.gz"
    with gzip.open(path, "wb") as out:
        for n in range(20):
            out.write(_row(f"r{n}") + b"\n")
        for _ in range(4):
            out.write(b"\n" * 1_000_000)  # blank lines, compressing ~1000:1
        out.write(_row("last") + b"\n")
    assert path.stat().st_size * tight.imports.gzip_max_ratio < 1 << 20  # the floor is the allowance
    with pytest.raises(DecompressionLimit, match=r"more than 1,048,576 bytes.*ECOUTE_IMPORTS__GZIP_MAX_RATIO"):
        import_file(path, tight, batch_size=10)
    produced = {e["id"] for e in raw_events(tight)}
    assert {f"import:r{n}" for n in range(20)} <= produced  # what came before the limit is in Kafka
    assert "import:last" not in produced
    # The default allowance (256 MiB floor) takes the same file whole.
    stats = import_file(path, settings, restart=True)
    assert (stats.produced, stats.dead_lettered) == (21, 0)


def test_a_csv_line_over_the_limit_is_dead_lettered_by_its_head_and_the_rows_around_it_are_sent(settings, tmp_path):
    path = tmp_path / "long.csv"
    rows = ["native_id,created_at,text", "r1,2024-05-01T10:00:00Z,avant"]
    rows.append("huge,2024-05-01T10:00:00Z," + "x" * (5 * 1024 * 1024))  # over the 4 MiB default
    rows.append("r2,2024-05-01T10:00:00Z,après")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    stats = import_file(path, settings)
    assert (stats.produced, stats.dead_lettered) == (2, 1)
    assert sorted(e["id"] for e in raw_events(settings)) == ["import:r1", "import:r2"]
    (letter,) = dead_letters(settings)
    assert "line 3 is 5,242,906 characters long" in letter["reason"] and "line limit" in letter["reason"]
    assert len(letter["original"]) == LINE_HEAD_BYTES and letter["original"].startswith("huge,")
    assert _overflow_bytes(settings) == 0


@pytest.mark.parametrize(("encoding", "bom"), [("utf-16-le", b""), ("utf-16", b"\xff\xfe"), ("utf-16-le", b"\xff\xfe")])
def test_jsonl_in_utf16_is_decoded_then_split(settings, tmp_path, encoding, bom):
    path = tmp_path / "export.jsonl"
    lines = [
        json.dumps({**GOOD, "native_id": f"u{n}", "text": f"réponse n°{n} 😀"}, ensure_ascii=False) for n in range(3)
    ]
    path.write_bytes(bom + "\r\n".join(lines).encode("utf-16-le") + "\r\n".encode("utf-16-le"))
    stats = import_file(path, settings, encoding=encoding)
    assert (stats.produced, stats.dead_lettered) == (3, 0)
    assert sorted(e["text"] for e in raw_events(settings)) == [f"réponse n°{n} 😀" for n in range(3)]


def test_undecodable_jsonl_lines_in_another_encoding_keep_their_bytes(settings, tmp_path):
    import base64

    path = tmp_path / "mixed.jsonl"
    bad = b'{"native_id": "bad", "text": "\x81\x8d"}'  # bytes cp1252 has no character for
    path.write_bytes(_row("ok1").decode().encode("cp1252") + b"\n" + bad + b"\n")
    stats = import_file(path, settings, encoding="cp1252")
    assert (stats.produced, stats.dead_lettered) == (1, 1)
    (letter,) = dead_letters(settings)
    assert base64.b64decode(letter["original_b64"]) == bad


def test_a_damaged_or_truncated_gz_is_one_clear_error(settings, tmp_path):
    from connectors.import_readers import DamagedGzip

    whole = gzip.compress(b"".join(_row(f"r{n}") + b"\n" for n in range(100)))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        DamagedGzip, match=r"cut\.jsonl\.gz: the gzip data is damaged or cut short .*nothing was imported"
    ):
        import_file(cut, settings)
    fake = tmp_path / "fake.jsonl.gz"
    fake.write_text('{"native_id": "x"}\n')  # named .gz, not compressed
    with pytest.raises(DamagedGzip, match="Not a gzipped file"):
        import_file(fake, settings)


def test_utf16_lines_that_do_not_decode_are_dead_lettered_with_their_bytes(settings, tmp_path):
    """Found by the fuzz suite: an unpaired surrogate or a cut-short UTF-16 unit stopped the import."""
    import base64

    good = [json.dumps({**GOOD, "native_id": f"u{n}"}, ensure_ascii=False).encode("utf-16-le") for n in range(2)]
    unpaired = '{"native_id": "bad", "text": "'.encode("utf-16-le") + b"\x00\xd8" + '"}'.encode("utf-16-le")
    newline = "\n".encode("utf-16-le")
    path = tmp_path / "u16.jsonl"
    path.write_bytes(good[0] + newline + unpaired + newline + good[1] + newline + b"A")  # and one odd byte at the end
    stats = import_file(path, settings, encoding="utf-16-le")
    assert (stats.produced, stats.dead_lettered) == (2, 2)
    letters = dead_letters(settings)
    originals = sorted(
        base64.b64decode(d["original_b64"]) if d["original_b64"] else d["original"].encode() for d in letters
    )
    assert originals == sorted([unpaired, b"A"])  # the bytes as they were in the file
