"""The work behind `ecoute label`: JSON Lines in, JSON Lines out, one output line per input line."""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterator
from typing import IO, Any

import orjson

_ID_RE = re.compile(rb'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _parse(line: bytes) -> tuple[dict | None, Any, str | None]:
    """(record, id, error) for one input line."""
    if not line.strip():
        return None, None, "blank line"
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        # Salvage the id for the error object when the line is only partly broken.
        match = _ID_RE.search(line)
        ident = match.group(1).decode("utf-8", "replace") if match else None
        return None, ident, f"invalid JSON: {exc}"
    if not isinstance(obj, dict):
        return None, None, f"expected a JSON object, got {type(obj).__name__}"
    ident = obj.get("id")
    if ident is None or ident == "":
        return None, ident, "missing field 'id'"
    text = obj.get("text")
    if not isinstance(text, str):
        return (
            None,
            ident,
            "missing field 'text'" if text is None else f"field 'text' must be a string, got {type(text).__name__}",
        )
    return obj, ident, None


def _batches(stream: IO[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for lineno, line in enumerate(stream, start=1):
        batch.append((lineno, line))  # blank lines too: one output line per input line
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_label(
    stdin: IO[bytes],
    stdout: IO[bytes],
    console: Any,
    batch_size: int = 2000,
    shared_centring: bool = False,
    settings: Any = None,
) -> int:
    """Label every line; return the exit code (0: malformed lines are reported, not fatal).

    By default the input is centred as a stream of its own (the artefact's prior plus its own texts):
    a file of tweets is not centred on a brand page's comments. ``shared_centring`` centres it on the
    enrichment job's published centring instead (read-only, as the job does)."""
    from rich.markup import escape

    from ecoute.settings import get_settings
    from jobs.labeller import LABELLER_VERSION, Labeller
    from jobs.labeller.config import LabellerConfig

    config = LabellerConfig.from_settings(
        settings or get_settings(), centring="published" if shared_centring else "own"
    )

    progress = None
    task = None
    if console.is_terminal:
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        # a bar over the input's bytes when it is a file (its size is known), a spinner for a pipe
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
        )
        progress.start()
        task = progress.add_task("loading models…", total=_bytes_left(stdin))
    errors = 0
    done = 0
    started = time.monotonic()
    try:
        labeller = Labeller(config=config)
        for batch in _batches(stdin, batch_size):
            parsed = [(_parse(line), lineno) for lineno, line in batch]
            good = [rec for (rec, _, err), _ in parsed if err is None and rec is not None]  # a record iff no error
            rows = iter(labeller.label_records(good)) if good else iter(())
            out = bytearray()
            for (_rec, ident, err), lineno in parsed:
                if err is not None:
                    errors += 1
                    # Ids and messages come from the input: never let rich read them as markup.
                    console.print(
                        f"[yellow]line {lineno}[/] (id={escape(repr(ident))}): {escape(err)}", highlight=False
                    )
                    obj: dict[str, Any] = {"id": ident, "error": err, "line": lineno}
                else:
                    obj = next(rows)
                    obj["labeller_version"] = LABELLER_VERSION
                out += orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
            stdout.write(bytes(out))
            stdout.flush()
            done += len(batch)
            if progress is not None and task is not None:
                rate = done / max(time.monotonic() - started, 1e-9)
                progress.update(
                    task,
                    advance=sum(len(line) for _, line in batch),
                    description=f"labelled {done:,} lines ({errors} malformed), {rate:,.0f}/s",
                )
    finally:
        if progress is not None:
            progress.stop()
    if errors:
        console.print(f"[yellow]{errors} malformed line(s)[/] of {done}: error objects written in their place")
    return 0


def _bytes_left(stream: IO[bytes]) -> int | None:
    """How many bytes a regular file has left to read; None for a pipe or a terminal."""
    try:
        info = os.fstat(stream.fileno())
        return max(0, info.st_size - stream.tell()) if stat.S_ISREG(info.st_mode) else None
    except (OSError, ValueError, AttributeError):
        return None


def check_taxonomy_file(console: Any) -> int:
    from jobs.labeller.topics import TaxonomyError, load_taxonomy

    try:
        tax = load_taxonomy()
    except TaxonomyError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 1
    console.print(f"[green]✔[/] taxonomy ok: {len(tax.topics)} topics ({', '.join(tax.ids)})")
    return 0


def run_suggest(stdin: IO[bytes], stdout: IO[bytes], console: Any, n: int) -> int:
    """`ecoute feedback suggest`: read a pool of JSON Lines {"id","text",…}, print the `n` lines the
    heads are least sure of (diverse), unchanged, most useful first. Bad lines are reported, skipped."""
    from rich.markup import escape

    from ecoute.settings import get_settings
    from jobs.labeller import Labeller
    from jobs.labeller.config import LabellerConfig
    from jobs.labeller.learning import suggest

    records: list[tuple[bytes, str]] = []
    bad = 0
    for lineno, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        record, ident, error = _parse(line)
        if error is not None or record is None:
            bad += 1
            console.print(f"[yellow]line {lineno}[/] (id={escape(repr(ident))}): {escape(str(error))}", highlight=False)
            continue
        records.append((line.rstrip(b"\r\n"), record["text"]))
    if not records:
        console.print("[bold red]error:[/] the pool has no usable line (JSON objects with id and text)")
        return 1
    # centred on the pool's own texts, like `ecoute label`: a file never moves the page's means
    labeller = Labeller(config=LabellerConfig.from_settings(get_settings(), centring="own"))
    texts = [text for _, text in records]
    labeller.label_columns(texts)  # the pool's texts into the in-memory means first
    chosen = suggest(labeller, texts, n)
    stdout.write(b"".join(records[i][0] + b"\n" for i in chosen))
    stdout.flush()
    console.print(
        f"[green]✔[/] {len(chosen)} of {len(records):,} mention(s) chosen (the heads' least sure, diverse)"
        + (f" · {bad} bad line(s) skipped" if bad else "")
        + " — label them, then `ecoute feedback import`"
    )
    return 0
