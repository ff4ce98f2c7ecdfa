"""The model history: which labeller artefact is in use, and every change of it (build, rollback).

Models built from feedback are versioned files ``e5-heads-<version>.npz`` in the user's model
folder (``<state_dir>/labeller/models/``, see `jobs.labeller.heads.user_model_dir`); the packaged
artefact is the first version of every installation. ``history.jsonl`` beside them is an append-only
log, one line per change: ``{"at", "version", "action": build|force|rollback, "who", "note"}``. The
model in use is the last logged version whose artefact is still there; without a log (models built
before it existed) it is the newest artefact by creation time, as before.

The enrichment job reads the model in use again at every micro-batch when ``token()`` changed (one
``stat`` and one directory listing), so a build or a rollback reaches it without a restart.
Numpy only (run time): no scikit-learn here.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

HISTORY_FILE = "history.jsonl"
ACTIONS = ("build", "force", "rollback")


class UnknownVersion(ValueError):
    """A version that is not (or no longer) among the artefacts; the message lists the known ones."""


@dataclass(frozen=True)
class ModelEntry:
    version: str
    path: Path
    meta: dict[str, Any]

    @property
    def created_at(self) -> str:
        return str(self.meta.get("created_at", ""))

    @property
    def packaged(self) -> bool:
        return self.meta.get("kind") == "base"


def _model_dir(state_dir: Path | None = None) -> Path:
    from jobs.labeller.heads import user_model_dir

    return user_model_dir(state_dir)


def history_path(state_dir: Path | None = None) -> Path:
    """The history of ``state_dir`` (a labeller config's; default: the settings' labeller dir)."""
    return _model_dir(state_dir) / HISTORY_FILE


def read_meta(path: Path) -> dict[str, Any]:
    """An artefact's metadata only (the arrays stay on disk)."""
    with np.load(path, allow_pickle=False) as z:
        return json.loads(str(z["meta"]))


def entries(state_dir: Path | None = None) -> list[ModelEntry]:
    """Every readable artefact, oldest first (the packaged one first); unreadable files are skipped."""
    from jobs.labeller.heads import artefact_candidates

    out: list[ModelEntry] = []
    for path in artefact_candidates(state_dir):
        try:
            meta = read_meta(path)
        except Exception as exc:  # a damaged file must not hide the others
            log.warning("labeller artefact %s is not usable (%s): skipped", path, exc)
            continue
        out.append(ModelEntry(str(meta.get("version", path.stem)), path, meta))
    return sorted(out, key=lambda e: (not e.packaged, e.created_at))


def events(state_dir: Path | None = None) -> list[dict[str, Any]]:
    """The logged changes, oldest first (a torn last line, from a crash mid-write, is ignored)."""
    path = history_path(state_dir)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("version"):
            out.append(event)
    return out


def active(known: list[ModelEntry] | None = None, state_dir: Path | None = None) -> ModelEntry | None:
    """The model in use: the last logged version still present, else the newest artefact."""
    known = entries(state_dir) if known is None else known
    by_version = {e.version: e for e in known}
    for event in reversed(events(state_dir)):
        if event["version"] in by_version:
            return by_version[event["version"]]
    return max(known, key=lambda e: e.created_at, default=None)


def record(version: str, action: str, who: str, note: str = "") -> dict[str, Any]:
    """Log that ``version`` is now in use (appended under a file lock: builds and rollbacks may race)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    event = {"at": datetime.now(UTC).isoformat(), "version": version, "action": action, "who": who, "note": note}
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(json.dumps(event, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return event


def previous_version(known: list[ModelEntry] | None = None) -> str | None:
    """The version in use before the current one (what a rollback without a version goes back to)."""
    known = entries() if known is None else known
    present = {e.version for e in known}
    current = active(known)
    if current is None:
        return None
    seen_current = False
    for event in reversed(events()):
        if event["version"] not in present:
            continue
        if event["version"] == current.version:
            seen_current = True
            continue
        if seen_current:
            return str(event["version"])
    older = [e for e in known if e.created_at < current.created_at]
    return older[-1].version if older else None


def rollback(version: str | None, who: str) -> tuple[ModelEntry | None, ModelEntry]:
    """Put ``version`` (default: the previous one; ``base``: the packaged model) back in use.
    Returns (the model that was in use, the one in use now)."""
    known = entries()
    current = active(known)
    if version in (None, ""):
        version = previous_version(known)
        if version is None:
            raise UnknownVersion("no previous model to roll back to")
    by_version = {e.version: e for e in known}
    if version == "base":
        version = next((e.version for e in known if e.packaged), "base")
    if version not in by_version:
        raise UnknownVersion(f"no model {version!r}; known: {', '.join(by_version) or 'none'}")
    record(version, "rollback", who, f"from {current.version}" if current else "")
    return current, by_version[version]


def token(state_dir: Path | None = None) -> tuple[Any, ...]:
    """Changes whenever the model in use may have changed (a build, a rollback, a removed file)."""
    directory = _model_dir(state_dir)
    try:
        stat = (directory / HISTORY_FILE).stat()
        logged: tuple[Any, ...] = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        logged = ()
    try:
        names = tuple(sorted(n for n in os.listdir(directory) if n.endswith(".npz") and n.startswith("e5-heads-")))
    except OSError:
        names = ()
    return logged, names


def iter_versions() -> Iterator[tuple[ModelEntry, bool]]:
    """(model, in use?) for every model, oldest first."""
    known = entries()
    current = active(known)
    for entry in known:
        yield entry, current is not None and entry.version == current.version
