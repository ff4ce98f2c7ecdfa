"""Checkpoint state: where a stream resumes, and which records it has already seen.

Checkpoints live in the state folder (``settings.checkpoints_dir``), one JSON file per stream,
written atomically (temp file + fsync + rename + fsync of the folder): a reader sees the old or
the new state, never half of one. :class:`SeenFilter` is the state of sources that list newest
first: the high water of the last sweep and the native ids already dead-lettered.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import orjson

from connectors.errors import ConnectorError
from ecoute import events


def _safe_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("_")[:180] or "default"


class CheckpointStore:
    """Durable per-stream state in the state folder, one JSON file per key, written atomically."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{_safe_name(key)}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        path = self.path(key)
        try:
            return orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except orjson.JSONDecodeError as exc:
            raise ConnectorError(f"checkpoint {path} is corrupt ({exc}); move it away to start over") from None

    def save(self, key: str, state: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps({**state, "saved_at": events.utc_now()}, option=orjson.OPT_INDENT_2))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()


class SeenFilter:
    """Which items are new, for sources that list newest first without a ``since`` filter.

    ``is_new`` compares with the committed high water (newest timestamp of the last completed
    sweep, plus the ids at exactly that timestamp so ties are neither lost nor re-sent);
    ``observe`` advances a pending high water during a sweep; ``state(commit=True)`` at its end
    makes it the committed one. Both are saved, so a sweep interrupted by a crash resumes with
    the same notion of "new".
    """

    MAX_DEAD = 500

    def __init__(self, state: dict[str, Any] | None = None):
        state = state or {}
        self.high_water: str | None = state.get("high_water")
        self.ids_at_high_water: set[str] = set(state.get("ids_at_high_water") or [])
        self._pending: str | None = state.get("pending_high_water", self.high_water)
        self._pending_ids: set[str] = set(state.get("pending_ids", self.ids_at_high_water))
        # Native ids already dead-lettered: a source re-read each sweep does not re-send them.
        self.dead: list[str] = list(state.get("dead") or [])

    def first_failure(self, native_id: str | None) -> bool:
        """True the first time a record with this native id fails mapping (then remembered)."""
        if native_id is None:
            return True
        if native_id in self.dead:
            return False
        self.dead = [*self.dead[-(self.MAX_DEAD - 1) :], native_id]
        return True

    def is_new(self, timestamp: str, item_id: str) -> bool:
        if self.high_water is None or timestamp > self.high_water:
            return True
        return timestamp == self.high_water and item_id not in self.ids_at_high_water

    def observe(self, timestamp: str, item_id: str) -> None:
        if self._pending is None or timestamp > self._pending:
            self._pending = timestamp
            self._pending_ids = {item_id}
        elif timestamp == self._pending:
            self._pending_ids.add(item_id)

    def state(self, commit: bool = False) -> dict[str, Any]:
        if commit:
            self.high_water, self.ids_at_high_water = self._pending, set(self._pending_ids)
        return {
            "high_water": self.high_water,
            "ids_at_high_water": sorted(self.ids_at_high_water),
            "pending_high_water": self._pending,
            "pending_ids": sorted(self._pending_ids),
            "dead": self.dead,
        }


def copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy (pages carry a snapshot of the state, not a reference that moves on)."""
    return orjson.loads(orjson.dumps(state))
