"""`ecoute stack up | status | down` on free ports: idempotent, clear errors, leaves nothing behind."""

from __future__ import annotations

import socket

import pytest

from ecoute.settings import Settings
from ecoute.stack import EmbeddedStack, StackError, pid_alive
from tests.conftest import free_port


@pytest.fixture
def stack_settings(tmp_path):
    return Settings(
        state_dir=tmp_path / "state",
        kafka={"bootstrap_servers": f"127.0.0.1:{free_port()}"},
        es={"url": f"http://127.0.0.1:{free_port()}"},
        smtp={"port": free_port()},
    )


def test_up_is_idempotent_and_down_stops_only_what_up_started(stack_settings):
    stack = EmbeddedStack(stack_settings)
    try:
        lines = stack.up()
        assert any("noida-db started" in line for line in lines)
        assert any("topics: 4 created" in line for line in lines)
        assert all(row["status"] == "running" for row in stack.status())
        again = stack.up()
        assert any("already running" in line for line in again) and any("all present" in line for line in again)
        pids = [row["pid"] for row in stack.status()]
    finally:
        stack.down()
    assert not any(pid_alive(pid) for pid in pids)
    assert all(row["status"] == "stopped" for row in stack.status())


def test_taken_port_gives_a_clear_error(stack_settings):
    port = int(stack_settings.kafka.bootstrap_servers.rsplit(":", 1)[1])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(StackError, match=f"port {port} .* is taken"):
            EmbeddedStack(stack_settings).up()


def test_a_dead_process_is_reported(stack_settings):
    stack = EmbeddedStack(stack_settings)
    try:
        stack.up()
        import os
        import signal

        smtp_pid = next(row["pid"] for row in stack.status() if row["service"] == "smtp-sink")
        os.kill(smtp_pid, signal.SIGKILL)
        import time

        deadline = time.monotonic() + 5
        while pid_alive(smtp_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        status = {row["service"]: row["status"] for row in stack.status()}
        assert status["smtp-sink"].startswith("died")
    finally:
        stack.down()
