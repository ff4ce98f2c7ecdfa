"""The embedded stack: noida-db (Kafka + Elasticsearch APIs) and the SMTP sink, on 127.0.0.1.

``up`` starts what is not running, records the pids it started in ``<state>/stack.json``, creates
the topics and applies the index templates; ``down`` stops only those pids. Both are idempotent.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlparse

from ecoute.settings import Settings, get_settings


class StackError(RuntimeError):
    """A clear, user-facing problem with the embedded stack."""


@dataclass
class Service:
    name: str
    host: str
    ports: list[int]
    log: Path

    def describe(self) -> str:
        return ", ".join(f"{self.host}:{p}" for p in self.ports)


def _host_port(address: str) -> tuple[str, int]:
    if "://" in address:
        parsed = urlparse(address)
        return parsed.hostname or "127.0.0.1", parsed.port or 9200
    host, _, port = address.split(",")[0].rpartition(":")
    return host or "127.0.0.1", int(port)


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not alive.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def noida_binary() -> Path:
    binary = Path(str(files("noida_db").joinpath("noida-db")))
    if not binary.is_file():
        raise StackError(f"noida-db binary not found at {binary}: run `uv sync` (noida-db==0.2.3)")
    binary.chmod(0o755)
    return binary


def provision(settings: Settings) -> list[str]:
    """Create the topics and apply the index templates on the configured servers (idempotent)."""
    from ecoute import es, kafka

    created = kafka.ensure_topics(settings)
    client = es.make_client(settings)
    es.wait_until_up(client)
    templates = es.apply_templates(client, settings)
    return [
        f"topics: {len(created)} created ({', '.join(created) or 'all present'})",
        f"index templates applied: {', '.join(templates)}",
    ]


class EmbeddedStack:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.state_dir = self.settings.state_dir
        self.state_file = self.state_dir / "stack.json"
        self.logs = self.state_dir / "logs"
        kafka_host, kafka_port = _host_port(self.settings.kafka.bootstrap_servers)
        es_host, es_port = _host_port(self.settings.es.url)
        if kafka_host != es_host:
            raise StackError("the embedded stack serves Kafka and Elasticsearch on one host")
        self.noida = Service("noida-db", kafka_host, [kafka_port, es_port], self.logs / "noida-db.log")
        self.smtp = Service(
            "smtp-sink", self.settings.smtp.host, [self.settings.smtp.port], self.logs / "smtp-sink.log"
        )

    # -- state -----------------------------------------------------------------------------------
    def _load(self) -> dict[str, dict]:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict[str, dict]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)

    def _ours(self, name: str) -> int | None:
        entry = self._load().get(name)
        if entry and pid_alive(entry["pid"]) and entry["marker"] in _cmdline(entry["pid"]):
            return int(entry["pid"])
        return None

    # -- commands ----------------------------------------------------------------------------------
    def status(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        state = self._load()
        for service in (self.noida, self.smtp):
            pid = self._ours(service.name)
            listening = all(port_open(service.host, p) for p in service.ports)
            if pid and listening:
                health = "running"
            elif pid:
                health = "starting or unhealthy (process alive, ports not answering)"
            elif service.name in state:
                health = f"died (pid {state[service.name]['pid']} is gone; see {service.log})"
            elif listening:
                health = "ports answer, but not started by `ecoute stack up` (not managed)"
            else:
                health = "stopped"
            rows.append({"service": service.name, "pid": pid, "address": service.describe(), "status": health})
        return rows

    def up(self, timeout_s: float = 60.0) -> list[str]:
        """Start what is not running; returns human-readable lines of what was done."""
        done = []
        self.logs.mkdir(parents=True, exist_ok=True)
        for service, command, marker in (
            (self.noida, self._noida_command(), str(self.state_dir / "noida")),
            (self.smtp, self._smtp_command(), "ecoute.smtp_sink"),
        ):
            if self._ours(service.name):
                done.append(f"{service.name} already running ({service.describe()})")
                continue
            busy = [p for p in service.ports if port_open(service.host, p)]
            if busy:
                raise StackError(
                    f"cannot start {service.name}: port {', '.join(map(str, busy))} on {service.host} is taken by "
                    "another process. Stop it, or choose other ports with ECOUTE_KAFKA__BOOTSTRAP_SERVERS, "
                    "ECOUTE_ES__URL and ECOUTE_SMTP__PORT."
                )
            pid = self._spawn(service, command)
            state = self._load()
            state[service.name] = {"pid": pid, "marker": marker, "started_at": time.time(), "command": command}
            self._save(state)
            self._wait_listening(service, pid, timeout_s)
            done.append(f"{service.name} started (pid {pid}, {service.describe()})")
        done.extend(self.provision())
        return done

    def provision(self) -> list[str]:
        return provision(self.settings)

    def down(self, timeout_s: float = 20.0) -> list[str]:
        done = []
        state = self._load()
        for service in (self.smtp, self.noida):
            pid = self._ours(service.name)
            if pid is None:
                if service.name in state:
                    done.append(f"{service.name} was not running (pid {state[service.name]['pid']} gone)")
                state.pop(service.name, None)
                continue
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
                done.append(f"{service.name} (pid {pid}) did not stop in {timeout_s:.0f}s: killed")
            else:
                done.append(f"{service.name} stopped (pid {pid}); data kept in {self.state_dir}")
            state.pop(service.name, None)
        self._save(state)
        return done

    # -- helpers -----------------------------------------------------------------------------------
    def _noida_command(self) -> list[str]:
        kafka_port, es_port = self.noida.ports
        return [
            str(noida_binary()),
            "start",
            "--data-dir",
            str(self.state_dir / "noida"),
            "--host",
            self.noida.host,
            "--only",
            "kafka,elasticsearch",
            "--kafka-port",
            str(kafka_port),
            "--elasticsearch-port",
            str(es_port),
        ]

    def _smtp_command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "ecoute.smtp_sink",
            "--dir",
            str(self.settings.outbox_dir),
            "--host",
            self.smtp.host,
            "--port",
            str(self.smtp.ports[0]),
        ]

    def _spawn(self, service: Service, command: list[str]) -> int:
        log = open(service.log, "ab")  # noqa: SIM115 - handed to the child, which outlives us
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        return process.pid

    def _wait_listening(self, service: Service, pid: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                tail = service.log.read_text(errors="replace")[-800:] if service.log.exists() else ""
                raise StackError(f"{service.name} exited at start; its log ({service.log}) ends with:\n{tail}")
            if all(port_open(service.host, p) for p in service.ports):
                return
            time.sleep(0.1)
        raise StackError(f"{service.name} (pid {pid}) did not listen on {service.describe()} within {timeout_s:.0f}s")
