"""The commands of the learning loop: `ecoute feedback import`, `ecoute models build`, `ecoute models backfill`.

    ecoute feedback import corrections.jsonl   # {"id","text","lang"?,"sentiment"?,"criticism"?,…} a line
    ecoute models build                        # retrain on shipped data + all feedback; refuses a worse model
    ecoute models list                         # the model history: every version, the one in use
    ecoute models rollback [VERSION]           # put a previous version back in use (default: the one before)
    ecoute models backfill --days 7            # relabel the last week's mentions with the newest model

Docs for the community manager: docs/feedback.md.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson
from rich.markup import escape

IMPORT_FIELDS = ("sentiment", "criticism", "constructive", "toxic", "topics", "toxic_categories")
IMPORT_CHUNK = 500


def default_who(settings: Any = None) -> str:
    """Who made corrections: ``settings.user`` (ECOUTE_USER), else the login name."""
    from ecoute.settings import get_settings

    configured = (settings or get_settings()).user
    if configured:
        return configured
    try:
        return getpass.getuser()
    except Exception:  # no login name in a container: still attributable to the command
        return "cli"


def parse_correction_line(line: bytes) -> Any:
    """A Correction from one JSON Lines line; raises InvalidCorrection with a readable reason."""
    from ecoute.feedback import Correction, InvalidCorrection

    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidCorrection(f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidCorrection(f"expected a JSON object, got {type(obj).__name__}")
    ident = obj.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if not isinstance(ident, str) or not ident.strip():
        raise InvalidCorrection("missing field 'id' (a non-empty string)")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidCorrection("missing field 'text' (a non-empty string)")
    unknown = sorted(set(obj) - {"id", "text", "lang", *IMPORT_FIELDS})
    if unknown:
        raise InvalidCorrection(f"unknown field(s): {', '.join(unknown)}")
    labels = {k: obj[k] for k in IMPORT_FIELDS if k in obj and obj[k] is not None}
    lang = obj.get("lang") or None
    if isinstance(lang, str):
        lang = lang.strip().lower() or None
    return Correction(mention_id=ident, text=text, labels=labels, lang=lang)


def _chunks(stream: IO[bytes], console: Any) -> Iterator[tuple[list[Any], int, int]]:
    """(valid corrections, lines read, bad lines) per chunk; each bad line reported as it is met."""
    from ecoute.feedback import InvalidCorrection

    chunk: list[Any] = []
    read = bad = 0
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        read += 1
        try:
            chunk.append(parse_correction_line(line))
        except InvalidCorrection as exc:
            bad += 1
            console.print(f"[yellow]line {lineno}[/]: {escape(str(exc))}", highlight=False)
        if len(chunk) >= IMPORT_CHUNK:
            yield chunk, read, bad
            chunk, read, bad = [], 0, 0
    yield chunk, read, bad


def import_feedback(path: Path, console: Any, *, who: str, source: str = "import", settings: Any = None) -> int:
    """Store every valid line of `path` in the feedback index; bad lines are reported and counted."""
    from ecoute import es
    from ecoute.feedback import record_corrections
    from ecoute.settings import get_settings

    settings = settings or get_settings()
    try:
        stream = sys_stdin() if str(path) == "-" else path.open("rb")
    except OSError as exc:
        console.print(f"[bold red]error:[/] cannot read {escape(str(path))}: {escape(str(exc))}")
        return 1
    client = es.make_client(settings)
    stored = failed = bad = read = 0
    with stream:
        for chunk, n_read, n_bad in _chunks(stream, console):
            read += n_read
            bad += n_bad
            if not chunk:
                continue
            result = record_corrections(settings, chunk, who=who, source=source, client=client)
            stored += result.ok
            failed += len(result.failed)
            for item in result.failed[:5]:
                console.print(f"[red]not stored[/]: {escape(str(item.get('error'))[:300])}", highlight=False)
    console.print(
        f"[green]✔[/] {stored:,} correction(s) stored in {escape(settings.indices.feedback)}"
        f" · {bad:,} bad line(s) of {read:,}" + (f" · [red]{failed:,} not stored[/]" if failed else "")
    )
    if stored and not failed:
        console.print("next: [bold]ecoute models build[/] to learn from them")
    return 1 if failed or (read and not stored) else 0


def sys_stdin() -> IO[bytes]:
    import sys

    return os.fdopen(os.dup(sys.stdin.fileno()), "rb")


def build_models(
    console: Any, *, force: bool = False, base: bool = False, settings: Any = None, who: str | None = None
) -> int:
    """`ecoute models build`: the packaged model (--base) or a new model learnt from the feedback index."""
    from jobs.labeller.build import feedback as feedback_build
    from jobs.labeller.build import training
    from jobs.labeller.config import LabellerConfig
    from jobs.labeller.heads import newest_model

    if base:
        for line in training.build_base(log=console.print):
            console.print(f"[green]✔[/] {escape(line)}")
        return 0
    from ecoute.feedback import iter_corrections
    from ecoute.settings import get_settings

    settings = settings or get_settings()
    state_dir = LabellerConfig.from_settings(settings, centring="own").state_dir
    try:
        corrections = list(iter_corrections(settings))
    except Exception as exc:  # the feedback index lives in Elasticsearch: say so plainly
        console.print(
            f"[bold red]error:[/] cannot read the feedback index {settings.indices.feedback}: {escape(str(exc)[:300])}"
        )
        return 1
    current = newest_model(state_dir)
    if not corrections:
        console.print(
            f"[green]✔[/] no corrections in {escape(settings.indices.feedback)}: nothing to learn; "
            f"current model {escape(current.version)} is up to date"
        )
        return 0
    console.print(f"{len(corrections):,} correction(s) found; current model {escape(current.version)}")
    shipped, messages, _ = feedback_build.build_with_feedback(
        corrections, current, state_dir / "models", force=force, who=who or default_who(), log=console.print
    )
    for line in messages:
        bad = line.startswith("refused") or line.endswith((" worse", " below the floor"))
        mark = "[bold red]✘[/]" if bad else "[green]✔[/]"
        console.print(f"{mark} {escape(line)}", highlight=False)
    if shipped:
        console.print("next: [bold]ecoute models backfill --days 7[/] relabels the last week with it")
    return 0 if shipped or not messages or not messages[-1].startswith("refused") else 2


def backfill(console: Any, *, days: float, batch_size: int = 1000, settings: Any = None) -> int:
    """Relabel the mentions created in the last `days` days with the newest model, in place."""
    from ecoute import es
    from ecoute.settings import get_settings
    from jobs.labeller import COLUMNS, LABELLER_VERSION, Labeller, _is_brand
    from jobs.labeller.config import LabellerConfig

    settings = settings or get_settings()
    client = es.make_client(settings)
    since = (datetime.now(UTC) - timedelta(days=days)).isoformat().replace("+00:00", "Z")
    query = {"range": {"created_at": {"gte": since}}}
    # A fresh one: the newest artefact (even if this process had loaded another) and the published
    # centring, as the enrichment job labels.
    labeller = Labeller(config=LabellerConfig.from_settings(settings))
    total = written = 0
    failed: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal written
        cols = labeller.label_columns([d.get("text") for d in batch], is_brand=[_is_brand(d) for d in batch])
        docs = []
        for i, doc in enumerate(batch):
            for key in COLUMNS:
                doc[key] = cols[key][i]
            doc["labeller_version"] = LABELLER_VERSION
            docs.append(doc)
        indices = {d["id"]: d.pop("_index") for d in docs}
        for d in docs:
            d.pop("_id", None)
        result = es.bulk_write(client, es.upsert_actions(None, docs, index_of=lambda d: indices[d["id"]]))
        written += result.ok
        failed.extend(result.failed)
        batch.clear()

    try:
        for doc in es.scan_docs(client, settings.indices.mentions, query):
            if not doc.get("id") or not isinstance(doc.get("text"), str):
                continue
            batch.append(doc)
            total += 1
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    except Exception as exc:
        console.print(f"[bold red]error:[/] backfill stopped after {written:,} mention(s): {escape(str(exc)[:300])}")
        return 1
    console.print(
        f"[green]✔[/] {written:,} of {total:,} mention(s) since {since} relabelled with model "
        f"{escape(labeller.model_version)} (labeller {LABELLER_VERSION})"
        + (f" · [red]{len(failed)} failed[/]" if failed else "")
    )
    return 1 if failed else 0


def publish_centring(console: Any, *, days: float, settings: Any = None) -> int:
    """`ecoute models centring`: build the centring of the last ``days`` days of mentions and publish it."""
    from ecoute.settings import get_settings
    from jobs.labeller.build.centring import refresh_centring

    settings = settings or get_settings()
    try:
        stats = refresh_centring(settings, days=days)
    except Exception as exc:  # the mentions live in Elasticsearch: say so plainly
        console.print(f"[bold red]error:[/] cannot build the centring: {escape(str(exc)[:300])}", soft_wrap=True)
        return 1
    if stats is None:
        console.print(f"[yellow]no labelled mention in the last {days:g} days[/]: nothing published")
        return 0
    texts = ", ".join(f"{lang} {n:,}" for lang, n in sorted(stats.meta["texts"].items(), key=lambda kv: -kv[1]))
    console.print(
        f"[green]✔[/] centring {escape(stats.version)} published ({escape(texts)}); the next enrichment run uses it"
    )
    return 0


def list_models(console: Any, *, as_json: bool = False) -> int:
    """`ecoute models list`: every model version, oldest first, the one in use marked."""
    from rich.table import Table

    from jobs.labeller import history

    rows = []
    for entry, in_use in history.iter_versions():
        meta = entry.meta
        quality = [q for q in meta.get("feedback_quality", []) if q.get("on", "page") == "page"]
        rows.append(
            {
                "version": entry.version,
                "in_use": in_use,
                "created_at": entry.created_at,
                "kind": meta.get("kind"),
                "feedback_rows": (meta.get("training") or {}).get("feedback_rows", 0),
                "own_heads": meta.get("per_language_heads", []),
                "path": str(entry.path),
                "quality": [f"{q['task']} {q['lang']} {100 * q['current']:.1f}→{100 * q['new']:.1f}" for q in quality],
            }
        )
    if as_json:
        console.print_json(data={"models": rows, "history": history.events()})
        return 0
    table = Table("", "version", "created (UTC)", "kind", "corrections", "own heads", "quality on the page (k-fold)")
    for row in rows:
        table.add_row(
            "▶" if row["in_use"] else "",
            escape(row["version"]),
            escape(row["created_at"][:19]),
            escape(str(row["kind"])),
            f"{row['feedback_rows']:,}",
            escape(", ".join(row["own_heads"]) or "—"),
            escape("; ".join(row["quality"]) or "—"),
        )
    console.print(table)
    events = history.events()
    if events:
        last = events[-1]
        console.print(
            f"in use since {escape(last['at'][:19])} ({escape(last['action'])} by {escape(str(last['who']))})"
        )
    return 0


def rollback_model(console: Any, version: str | None, *, who: str | None = None) -> int:
    """`ecoute models rollback [VERSION]`: put a previous model back in use (the labels follow it)."""
    from jobs.labeller import history

    try:
        before, now = history.rollback(version, who or default_who())
    except history.UnknownVersion as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        return 2
    console.print(
        f"[green]✔[/] model {escape(now.version)} in use again (was {escape(before.version if before else '—')}); "
        "the enrichment job takes it at its next micro-batch"
    )
    console.print("next: [bold]ecoute models backfill --days 7[/] relabels the last week with it")
    return 0
