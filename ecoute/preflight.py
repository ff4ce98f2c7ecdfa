"""Fail fast when a service is not there at all, and name it in one line.

A job that retries for minutes is right when a server blinks mid-run, and wrong when nothing
listens at the address from the start (the stack was never started): the user waits, then reads
hundreds of lines of traceback. Interactive commands (the CLI switches ``fail_fast`` on) check
with a short TCP connect the first time a process uses a service; once a service answered, the
normal retries apply for the rest of the run. Jobs under Airflow keep waiting (their default).

``describe`` turns any exception raised by the Kafka, Elasticsearch, SMTP or HTTP clients into
that one line, so the CLI prints it instead of a traceback.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ecoute.settings import Settings

START_HINT = "start the embedded stack with `ecoute stack up`"

_fail_fast = False
_reached: set[str] = set()


class ServiceUnreachable(RuntimeError):
    """Nothing answers at a service's address; ``hint`` says how to start it or where to point."""

    def __init__(self, service: str, address: str, hint: str, detail: str = "connection refused"):
        self.service, self.address, self.hint, self.detail = service, address, hint, detail
        super().__init__(f"cannot reach {service} at {address} ({detail}); {hint}")


def set_fail_fast(enabled: bool) -> None:
    global _fail_fast
    _fail_fast = enabled


def fail_fast() -> bool:
    return _fail_fast


def mask_userinfo(url: str) -> str:
    """``https://user:secret@host:9200`` → ``https://user:***@host:9200`` (credentials never printed)."""
    return re.sub(r"(?<=://)([^/@:]*):([^/@]*)@", r"\1:***@", url)


def _host_ports(addresses: str, default_port: int) -> list[tuple[str, int]]:
    pairs = []
    for address in addresses.split(","):
        address = address.strip()
        if not address:
            continue
        parsed = urlsplit(address if "://" in address else f"tcp://{address}")
        try:
            port = parsed.port
        except ValueError:
            port = None
        pairs.append((parsed.hostname or "127.0.0.1", port or default_port))
    return pairs


class NotThatService(OSError):
    """Something accepted the connection but does not speak the service's protocol."""


def kafka_probe(sock: socket.socket, timeout_s: float) -> None:
    """One ApiVersions request (v0, which every broker answers, before any SASL step): a Kafka
    broker answers with our correlation id; an HTTP server, a silent port or anything else does not."""
    client_id = b"ecoute-preflight"
    correlation = 0x0EC0
    body = struct.pack(">hhih", 18, 0, correlation, len(client_id)) + client_id
    sock.settimeout(timeout_s)
    try:
        sock.sendall(struct.pack(">i", len(body)) + body)
        answer = b""
        while len(answer) < 8:
            chunk = sock.recv(8 - len(answer))
            if not chunk:
                raise NotThatService("it closed the connection without a Kafka answer")
            answer += chunk
    except TimeoutError:
        raise NotThatService(f"it accepts connections but gave no Kafka answer within {timeout_s:g} s") from None
    size, got = struct.unpack(">ii", answer)
    if got != correlation or not 4 <= size <= 1 << 20:
        raise NotThatService("it accepts connections but does not speak the Kafka protocol")


def check(
    service: str,
    address: str,
    *,
    default_port: int,
    hint: str,
    timeout_s: float = 2.0,
    probe: Callable[[socket.socket, float], None] | None = None,
) -> None:
    """Raise :class:`ServiceUnreachable` when fail-fast is on and no address of ``address`` accepts
    a TCP connection (and, with ``probe``, answers the service's protocol within ``timeout_s``); a
    no-op when it is off or the service already answered in this process."""
    if not _fail_fast or address in _reached:
        return
    errors = []
    for host, port in _host_ports(address, default_port):
        try:
            with socket.create_connection((host, port), timeout=timeout_s) as sock:
                if probe is not None:
                    probe(sock, timeout_s)
                _reached.add(address)
                return
        except NotThatService as exc:
            errors.append(str(exc))
        except OSError as exc:
            errors.append((exc.strerror or type(exc).__name__).lower())
    raise ServiceUnreachable(service, mask_userinfo(address), hint, errors[0] if errors else "no address")


@dataclass
class Failure:
    """What to tell the user about an exception: one line, and whether it was a service being down."""

    line: str
    unreachable: bool


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen) or len(seen) > 20:
            continue
        seen.append(current)
        last_attempt = getattr(current, "last_attempt", None)  # tenacity.RetryError
        if last_attempt is not None and hasattr(last_attempt, "exception"):
            with contextlib.suppress(Exception):  # a cancelled attempt has no exception
                todo.append(last_attempt.exception())
        todo += [current.__cause__, current.__context__]
    return seen


def _from_module(exc: BaseException, module: str) -> bool:
    return any(frame.filename.endswith(f"/{module}.py") for frame in traceback.extract_tb(exc.__traceback__))


def describe(exc: BaseException, settings: Settings | None = None) -> Failure | None:
    """The one line for an exception caused by an unreachable service, or None when it is not one."""
    chain = _chain(exc)
    for current in chain:
        if isinstance(current, ServiceUnreachable):
            return Failure(f"{current}", True)
    kafka = es = smtp = "?"
    if settings is not None:
        kafka = settings.kafka.bootstrap_servers
        es = mask_userinfo(settings.es.url)
        smtp = f"{settings.smtp.host}:{settings.smtp.port}"
    for current in chain:
        name = type(current).__name__
        module = type(current).__module__
        if module.startswith(("elastic_transport", "elasticsearch")) and name in (
            "ConnectionError",
            "ConnectionTimeout",
            "TransportError",
            "TlsError",
            "SSLError",
        ):
            return Failure(f"cannot reach Elasticsearch at {es} ({name}); {START_HINT} or set ECOUTE_ES__URL", True)
        if module.startswith("kafka") and name in (
            "NoBrokersAvailable",
            "KafkaConnectionError",
            "KafkaTimeoutError",
            "NodeNotReadyError",
            "RequestTimedOutError",
        ):
            return Failure(
                f"cannot reach Kafka at {kafka} ({name}); {START_HINT} or set ECOUTE_KAFKA__BOOTSTRAP_SERVERS", True
            )
        if module.startswith("smtplib") or (isinstance(current, OSError) and _from_module(current, "smtplib")):
            return _smtp_failure(current, smtp)
        if module.startswith("httpx") and name in ("ConnectError", "ConnectTimeout"):
            request = getattr(current, "_request", None)
            where = mask_userinfo(str(request.url)) if request is not None else "its address"
            return Failure(f"cannot reach {where} ({name}); is the service running?", True)
    return None


def _smtp_failure(exc: BaseException, smtp: str) -> Failure:
    """What failed with the SMTP server: reaching it, the login, or the message it refused."""
    import smtplib

    answer = ""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        answer = f"{exc.smtp_code} {' '.join(text.split())}"[:300]
    if isinstance(exc, smtplib.SMTPNotSupportedError) or "AUTH extension not supported" in str(exc):
        return Failure(
            f"the SMTP server at {smtp} does not support login (it offers no AUTH{'' if not answer else ': ' + answer}); "
            "unset ECOUTE_SMTP__USERNAME/__PASSWORD for a server that needs none, or set "
            "ECOUTE_SMTP__STARTTLS=true if it offers AUTH after STARTTLS",
            False,
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Failure(
            f"the SMTP server at {smtp} refused the login ({answer}); check ECOUTE_SMTP__USERNAME/__PASSWORD", False
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(sorted(exc.recipients))[:300]
        return Failure(
            f"the SMTP server at {smtp} refused the recipients {refused}; check ECOUTE_ALERTS__RECIPIENTS", False
        )
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return Failure(f"the SMTP server at {smtp} refused the message ({answer}); check ECOUTE_SMTP__SENDER", False)
    if isinstance(exc, smtplib.SMTPResponseException):
        return Failure(f"the SMTP server at {smtp} answered {answer} ({type(exc).__name__})", False)
    name = type(exc).__name__
    return Failure(f"cannot reach the SMTP server at {smtp} ({name}); {START_HINT} or set ECOUTE_SMTP__*", True)
