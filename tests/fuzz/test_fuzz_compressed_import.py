"""Fuzz: compressed and re-encoded imports (issue 28), against a real Kafka, in bounded files.

Files are gzip'ed (sometimes cut short or with flipped bytes), hold lines over the line limit, and
come in UTF-8 or UTF-16. Either the run ends and every non-blank line is in the raw topic or the
DLQ, once; or the file is refused with one clear error (damaged gzip, decompression allowance) and
what was produced before it is unique and valid. Nothing else may be raised.
"""

from __future__ import annotations

import gzip
import itertools

from hypothesis import given
from hypothesis import strategies as st

from connectors.file_import import import_file
from connectors.import_readers import DamagedGzip, DecompressionLimit
from tests.fuzz.conftest import account
from tests.fuzz.test_fuzz_import import FUZZ, _marks, _new_records, jsonl_lines, sink  # noqa: F401 - fixture

counter = itertools.count()
LINE_LIMIT = 64 * 1024  # the smallest allowed: over-long lines stay cheap to write


DAMAGE = st.tuples(
    st.sampled_from(["intact", "intact", "truncate", "flip", "garbage"]),
    st.floats(0, 1),
    st.binary(min_size=1, max_size=64),
)  # (an empty .gz is an empty file, not a damaged one)


def damaged(data: bytes, damage: tuple[str, float, bytes]) -> bytes:
    """Drawn before the file exists (the file's length depends on counters: no draw may)."""
    how, where, garbage = damage
    if how == "truncate" and len(data) > 20:
        return data[: 10 + int(where * (len(data) - 11))]
    if how == "flip" and len(data) > 20:
        at = 10 + int(where * (len(data) - 19))  # past the header, before the CRC trailer
        return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    return garbage if how == "garbage" else data


@FUZZ
@given(sample=jsonl_lines(), long_lines=st.integers(0, 2), utf16=st.booleans(), bomb=st.booleans(), damage=DAMAGE)
def test_compressed_imports_end_with_every_line_accounted_or_one_clear_error(
    settings,
    sink,  # noqa: F811 - the fixture imported above
    tmp_path_factory,
    sample,
    long_lines,
    utf16,
    bomb,
    damage,
):
    lines, good = sample
    lines = lines + [b"\0" * (LINE_LIMIT * 2)] * long_lines
    if utf16:  # only characters survive a re-encoding: the fuzz junk becomes replacement characters
        texts = [line.decode("utf-8", "replace") for line in lines]
        body = "".join(f"{text}\n" for text in texts).encode("utf-16-le")
        records = sum(1 for text in texts if text.strip())
    else:
        body = b"".join(line + b"\n" for line in lines)
        records = sum(1 for line in lines if line.strip())
    if bomb:
        body += b"\n" * (3 * 1024 * 1024)  # blank lines: nothing to import, 3 MB to decompress
    path = tmp_path_factory.mktemp("fz") / "export.jsonl.gz"
    path.write_bytes(damaged(gzip.compress(body), damage))
    limits = {"max_line_bytes": LINE_LIMIT, "gzip_floor_bytes": 2 * 1024 * 1024}
    tight = settings.model_copy(update={"imports": settings.imports.model_copy(update=limits)})
    before = _marks(tight)
    try:
        stats = import_file(
            path, tight, sink=sink, restart=True, batch_size=7, encoding="utf-16-le" if utf16 else "utf-8"
        )
    except (DamagedGzip, DecompressionLimit) as exc:
        assert str(exc).startswith("export.jsonl.gz: ")
        stats = None
    raw = _new_records(tight, before, tight.topics.raw)
    dead = _new_records(tight, before, tight.topics.dlq)
    ids = [event["id"] for event in raw]
    assert len(ids) == len(set(ids)), "a record was produced twice"
    assert all(letter["reason"] for letter in dead)
    assert all(len(letter.get("original") or "") <= 64 * 1024 for letter in dead if "line limit" in letter["reason"])
    if stats is None:  # refused with a clear error: the rest of the file was not read
        assert len(raw) + len(dead) <= records
        account(
            "import .gz (damaged, bombs)",
            tried=records,
            enriched=len(raw),
            dead_lettered=len(dead),
            rejected=records - len(raw) - len(dead),
        )
        return
    assert (stats.produced, stats.dead_lettered) == (len(raw), len(dead))
    assert stats.produced + stats.dead_lettered == records, "a record was lost"
    assert good <= set(ids)
    account(
        "import .gz (damaged, bombs)",
        tried=records,
        enriched=len(raw),
        dead_lettered=len(dead),
        lost=records - len(raw) - len(dead),
    )
