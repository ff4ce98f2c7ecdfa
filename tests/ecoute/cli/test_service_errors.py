"""Issue 28 items 20 and 21: a port that accepts TCP but is not Kafka is named in about 2 s (not
the client's 30 s bootstrap), and an SMTP failure says what failed (login not offered, login
refused) instead of "cannot reach". Real servers: noida-db and Tansu, aiosmtpd, plain sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from ecoute import preflight
from ecoute.smtp_sink import OutboxHandler
from tests.conftest import free_port

ECOUTE = str(Path(sys.executable).with_name("ecoute"))


def ecoute(*argv: str, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "COLUMNS": "250",
        "ECOUTE_STATE_DIR": str(tmp_path / "state"),
    }
    started = time.monotonic()
    run = subprocess.run(
        [ECOUTE, *argv], env={**base, **env}, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    return run, time.monotonic() - started


class NotKafka:
    """A port that accepts connections and then stays silent, or answers like an HTTP server."""

    def __init__(self, answer: bytes | None):
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.open: list[socket.socket] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            if self.answer is not None:
                try:
                    conn.recv(4096)
                    conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (None, "gave no Kafka answer within 2 s"),
        (
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            "does not speak the Kafka protocol",
        ),
    ],
)
def test_a_port_that_is_not_kafka_is_named_quickly(tmp_path, answer, words) -> None:
    export = tmp_path / "a.jsonl"
    export.write_text('{"native_id":"1","created_at":"2026-10-01T10:00:00Z","text":"x"}\n')
    impostor = NotKafka(answer)
    try:
        run, took = ecoute(
            "connect",
            "import",
            str(export),
            "--no-progress",
            tmp_path=tmp_path,
            ECOUTE_KAFKA__BOOTSTRAP_SERVERS=f"127.0.0.1:{impostor.port}",
        )
    finally:
        impostor.close()
    assert run.returncode == 1 and f"cannot reach Kafka at 127.0.0.1:{impostor.port}" in run.stderr
    assert words in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert took < 15, f"{took:.0f} s before the error"  # the client alone took 32 s


def test_real_brokers_pass_the_kafka_probe(broker) -> None:
    preflight.set_fail_fast(True)
    try:
        preflight._reached.discard(broker.bootstrap)
        preflight.check("Kafka", broker.bootstrap, default_port=9092, hint="-", probe=preflight.kafka_probe)
        assert broker.bootstrap in preflight._reached
    finally:
        preflight.set_fail_fast(False)


def _sink(tmp_path: Path, **options) -> Controller:
    controller = Controller(OutboxHandler(tmp_path / "outbox"), hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller


def _digest(settings, tmp_path: Path, port: int) -> subprocess.CompletedProcess:
    env = {
        "ECOUTE_ES__URL": settings.es.url,
        "ECOUTE_SMTP__PORT": str(port),
        "ECOUTE_SMTP__USERNAME": "ecoute",
        "ECOUTE_SMTP__PASSWORD": "a-password",
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        **{f"ECOUTE_INDICES__{k.upper()}": v for k, v in settings.indices.model_dump().items()},
    }
    run, _ = ecoute("digest", "--day", "2026-10-17", tmp_path=tmp_path, **env)
    return run


def test_an_smtp_server_without_login_is_not_called_unreachable(settings, tmp_path) -> None:
    sink = _sink(tmp_path)  # offers no AUTH on a plain connection
    try:
        run = _digest(settings, tmp_path, sink.port)
    finally:
        sink.stop()
    assert run.returncode == 1, run.stderr
    assert f"the SMTP server at 127.0.0.1:{sink.port} does not support login" in run.stderr
    assert "cannot reach" not in run.stderr and "ECOUTE_SMTP__USERNAME" in run.stderr


def test_a_refused_smtp_login_says_so(settings, tmp_path) -> None:
    sink = _sink(tmp_path, authenticator=lambda *args: AuthResult(success=False, handled=False), auth_require_tls=False)
    try:
        run = _digest(settings, tmp_path, sink.port)
    finally:
        sink.stop()
    assert run.returncode == 1, run.stderr
    assert f"the SMTP server at 127.0.0.1:{sink.port} refused the login (535" in run.stderr
    assert "cannot reach" not in run.stderr
