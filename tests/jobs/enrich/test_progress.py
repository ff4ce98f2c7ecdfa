"""Progress of an available-now run: docs done, rate, time left — after each batch and at a steady pace."""

from __future__ import annotations

import threading
import time

from jobs.enrich.progress import BacklogProgress, ProgressReport


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_batch_reports_done_left_rate_and_time_left():
    clock, reports = Clock(), []
    progress = BacklogProgress(reports.append, interval_s=0, clock=clock)
    progress.start()
    clock.now += 20
    progress.batch_done(rows=2000, left=8000)
    first = reports[-1]
    assert (first.done, first.left, first.batches) == (2000, 8000, 1)
    assert first.rate == 100.0 and first.seconds_left == 80.0 and first.fraction == 0.2
    assert first.line() == "enrichment: 2,000 docs done, 8,000 left (20%), 100 docs/s, about 1 min 20 s left"
    clock.now += 5
    running = progress.snapshot()
    assert running.batch_running_s == 5 and "batch 2 running for 5 s" in running.line()
    clock.now += 15
    progress.batch_done(rows=2000, left=None)  # lag unreadable: the count goes down by the batch
    assert reports[-1].left == 6000 and reports[-1].rate == 100.0
    progress.stop()


def test_before_the_first_batch_ends_the_report_says_it_is_running():
    clock = Clock()
    progress = BacklogProgress(lambda r: None, interval_s=0, clock=clock)
    progress.start()
    clock.now += 7
    report = progress.snapshot()
    assert report.left is None and report.seconds_left is None
    assert report.line() == "enrichment: first batch running (7 s)"


def test_reports_come_at_a_steady_pace_between_batches_and_stop_with_the_run():
    reports: list[ProgressReport] = []
    got_three = threading.Event()

    def report(r: ProgressReport) -> None:
        reports.append(r)
        if len(reports) >= 3:
            got_three.set()

    progress = BacklogProgress(report, interval_s=0.05)
    progress.start()
    assert got_three.wait(5), "no report while a batch runs"
    progress.stop()
    count = len(reports)
    time.sleep(0.2)
    assert len(reports) == count  # stopped: no report after the run


def test_a_failing_reporter_never_stops_the_job():
    def broken(_report: ProgressReport) -> None:
        raise OSError("terminal gone")

    progress = BacklogProgress(broken, interval_s=0)
    progress.start()
    progress.batch_done(rows=10, left=0)
    assert progress.done == 10
