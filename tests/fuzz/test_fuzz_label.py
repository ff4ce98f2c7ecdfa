"""Fuzz: `ecoute label` stdin (the function behind the command, real labeller, real rich Console).

Whatever the bytes, one output line per input line, in order: labels for a well-formed line, an
error object naming the line for any other; the batch never stops.
"""

from __future__ import annotations

import io
import json

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from jobs.labeller.cli import run_label
from tests.fuzz.conftest import account
from tests.fuzz.strategies import json_values

line = st.one_of(
    st.builds(lambda i, t: orjson.dumps({"id": i, "text": t}), st.text(max_size=20), st.text(max_size=120)),
    st.builds(lambda i, t: json.dumps({"id": i, "text": t}).encode(), json_values, json_values),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.binary(max_size=80),
    st.sampled_from([b"", b"   ", b'{"id":"[/x]","text":5}', b'{"id":"[bold]","text":"ok"}', b"\xef\xbb\xbf{}"]),
).map(lambda raw: raw.replace(b"\n", b" "))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(line, min_size=1, max_size=12), batch_size=st.integers(1, 5))
def test_every_stdin_line_gets_exactly_one_output_line(lines, batch_size):
    stdout, stderr = io.BytesIO(), io.StringIO()
    code = run_label(
        io.BytesIO(b"\n".join(lines) + b"\n"), stdout, Console(file=stderr, width=120), batch_size=batch_size
    )
    assert code == 0
    out = [orjson.loads(row) for row in stdout.getvalue().splitlines()]
    assert len(out) == len(lines)
    labelled = rejected = 0
    for number, (given_line, row) in enumerate(zip(lines, out, strict=True), start=1):
        if "error" in row:
            assert row["line"] == number and row["error"]
            rejected += 1
        else:
            assert row["id"] == orjson.loads(given_line)["id"] and "sentiment" in row
            labelled += 1
    account(
        "ecoute label (stdin)",
        tried=len(lines),
        enriched=labelled,
        rejected=rejected,
        lost=len(lines) - labelled - rejected,
    )
