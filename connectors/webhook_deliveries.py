"""The webhook receiver's memory of acknowledged deliveries (its replay window), kept in the state
folder so a restart does not forget it: a delivery Meta sends again after the receiver restarted is
answered 200 and not produced a second time (downstream is idempotent, the metrics would count it twice).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path


class DeliveryLog:
    """Signatures of the deliveries acknowledged within the replay window (bounded, oldest dropped first).

    With a ``path`` the window survives restarts: each acknowledged delivery is appended (sha256 of
    its signature and the time) and fsync'ed before the 200 goes out; at start the file is read back,
    expired lines are dropped, and it is rewritten compacted when it has grown to twice what it holds.
    """

    def __init__(self, window_s: float | None, capacity: int = 100_000, path: Path | None = None):
        self.window_s = window_s
        self.capacity = capacity
        self.path = path
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._lines = 0
        if path is not None:
            self._load()

    @staticmethod
    def _key(signature: str) -> str:
        return hashlib.sha256(signature.encode("utf-8", "surrogatepass")).hexdigest()

    def _load(self) -> None:
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            text = ""
        for line in text.splitlines():
            stamp, _, key = line.partition(" ")
            try:
                self._seen[key] = float(stamp)
            except ValueError:
                continue  # a line torn by a crash mid-write
            self._seen.move_to_end(key)
        self._seen = OrderedDict(sorted(self._seen.items(), key=lambda item: item[1]))  # oldest first, for _expire
        self._expire(time.time())
        self._rewrite()

    def _rewrite(self) -> None:
        assert self.path is not None
        from ecoute.private_files import private_folder, write_private

        private_folder(self.path.parent)
        tmp = self.path.with_suffix(".tmp")
        write_private(tmp, "".join(f"{stamp:.3f} {key}\n" for key, stamp in self._seen.items()).encode("ascii"))
        os.replace(tmp, self.path)
        self._lines = len(self._seen)

    def _append(self, key: str, stamp: float) -> None:
        assert self.path is not None
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{stamp:.3f} {key}\n".encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self._lines += 1
        if self._lines > 2 * len(self._seen) + 1000:
            self._rewrite()

    def _expire(self, now: float) -> None:
        while self._seen and (
            len(self._seen) > self.capacity
            or (self.window_s is not None and next(iter(self._seen.values())) < now - self.window_s)
        ):
            self._seen.popitem(last=False)

    def seen(self, signature: str) -> bool:
        with self._lock:
            self._expire(time.time())
            return self._key(signature) in self._seen

    def record(self, signature: str) -> None:
        key, now = self._key(signature), time.time()
        with self._lock:
            self._seen[key] = now
            self._seen.move_to_end(key)
            self._expire(now)
            if self.path is not None:
                self._append(key, now)
