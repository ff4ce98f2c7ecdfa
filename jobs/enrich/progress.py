"""Progress of an available-now run: documents done, rate and time left, reported at a steady pace.

The driver knows a batch's counts when the batch ends and, from the checkpoint and the topic's high
watermarks, how many records are still behind it (the lag). An available-now run therefore reads the
backlog in bounded batches (``AVAILABLE_NOW_BATCH`` records each) and reports after each one, plus
every ``interval_s`` in between (what is done so far and how long the current batch has been
running), so a long backlog never goes silent.

    progress = BacklogProgress(report=lambda p: print(p.line()))
    progress.start(); …; progress.batch_done(rows=2000, left=8774); …; progress.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("ecoute.enrich")

# Records per batch of an available-now run: small enough to report every few seconds of labelling
# (≈ 10–15 s on 2 cores), large enough that a batch's fixed cost (plan, gate, bulk, offsets) stays small.
AVAILABLE_NOW_BATCH = 2_000
REPORT_EVERY_S = 10.0


@dataclass(frozen=True)
class ProgressReport:
    done: int
    left: int | None  # None until the first batch ended (the lag is read after a batch)
    elapsed_s: float
    batches: int
    batch_running_s: float  # how long the current batch has been running (0 right after one ended)

    @property
    def rate(self) -> float:
        """Documents per second since the run's first batch started."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        if self.left is None or self.rate <= 0:
            return None
        return self.left / self.rate

    @property
    def fraction(self) -> float | None:
        if self.left is None or self.done + self.left == 0:
            return None
        return self.done / (self.done + self.left)

    def line(self) -> str:
        if self.left is None:
            return f"enrichment: first batch running ({self.batch_running_s:.0f} s)"
        parts = [f"enrichment: {self.done:,} docs done, {self.left:,} left"]
        if self.fraction is not None:
            parts[0] += f" ({self.fraction:.0%})"
        parts.append(f"{self.rate:,.0f} docs/s")
        left_s = self.seconds_left
        if left_s is not None and self.left:
            parts.append(f"about {_duration(left_s)} left")
        if self.batch_running_s >= 1:
            parts.append(f"batch {self.batches + 1} running for {self.batch_running_s:.0f} s")
        return ", ".join(parts)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def log_report(report: ProgressReport) -> None:
    log.info("%s", report.line())


class BacklogProgress:
    """Counts what an available-now run did and reports it after each batch and every `interval_s`."""

    def __init__(
        self,
        report: Callable[[ProgressReport], None] = log_report,
        interval_s: float = REPORT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._report = report
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started: float | None = None
        self._batch_started: float | None = None
        self._last_report = float("-inf")
        self.done = 0
        self.left: int | None = None
        self.batches = 0

    def start(self) -> None:
        """The first batch starts now; reports begin (a daemon thread: it never keeps a process alive)."""
        with self._lock:
            self._started = self._batch_started = self._clock()
        if self._interval_s > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._tick, name="enrich-progress", daemon=True)
            self._thread.start()

    def batch_done(self, rows: int, left: int | None) -> None:
        with self._lock:
            self.done += rows
            self.batches += 1
            if left is not None:
                self.left = left
            elif self.left is not None:
                self.left = max(0, self.left - rows)
            self._batch_started = self._clock()
        self._emit()

    def snapshot(self) -> ProgressReport:
        with self._lock:
            now = self._clock()
            elapsed = now - self._started if self._started is not None else 0.0
            running = now - self._batch_started if self._batch_started is not None else 0.0
            return ProgressReport(self.done, self.left, elapsed, self.batches, running)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _emit(self) -> None:
        self._last_report = self._clock()
        try:
            self._report(self.snapshot())
        except Exception as exc:  # a reporter's failure must never stop the job
            log.debug("progress report failed: %r", exc)

    def _tick(self) -> None:
        while not self._stop.wait(self._interval_s / 4):
            if self._clock() - self._last_report >= self._interval_s:  # a batch's own report counts
                self._emit()
