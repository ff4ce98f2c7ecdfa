"""Fuzz: the webhook receiver (real server in a thread, real Kafka) on hostile bodies and headers.

Every request gets an HTTP answer within the timeouts and the server keeps serving; a signed
delivery's changes are all produced, dead-lettered with a reason or counted as skipped, and what the
server says it produced and dead-lettered is exactly what the topics received.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from connectors.config import WebhookSettings
from connectors.webhooks import PATH, make_server
from ecoute import kafka
from tests.fuzz.conftest import account
from tests.fuzz.strategies import json_values

SECRET = "fuzz-app-secret"
counter = itertools.count()


@pytest.fixture
def receiver(settings):
    config = WebhookSettings(
        app_secret=SecretStr(SECRET),
        max_body_bytes=16 * 1024,
        timeout_s=0.5,
        body_timeout_s=1.0,
        max_connections=8,
        replay_window_s=None,
    )
    server = make_server(settings, config, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
    server.sink.close()


def change(marker: str) -> dict:
    return {
        "field": "feed",
        "value": {
            "verb": "add",
            "item": "comment",
            "comment_id": f"1_{marker}",
            "post_id": "1_0",
            "from": {"id": "u1", "name": "A"},
            "message": "Super !",
            "created_time": 1760263200,
        },
    }


@st.composite
def payloads(draw) -> bytes:
    kind = draw(st.sampled_from(["good", "mutated", "shape", "json", "bytes"]))
    entry = {
        "id": "104857600123456",
        "time": 1760263200,
        "changes": [change(f"fz{next(counter)}") for _ in range(draw(st.integers(0, 3)))],
    }
    payload: object = {"object": draw(st.sampled_from(["page", "instagram", "page", None])), "entry": [entry]}
    if kind == "mutated" and entry["changes"]:
        target = draw(st.sampled_from(["value", "change", "field"]))
        picked = entry["changes"][0]
        if target == "change":
            entry["changes"][0] = draw(json_values)
        elif target == "field":
            picked["value"][draw(st.sampled_from(list(picked["value"])))] = draw(json_values)
        else:
            picked["value"] = draw(json_values)
    elif kind == "shape":
        payload = {"object": "page", "entry": draw(json_values)}
    elif kind == "json":
        payload = draw(json_values)
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")


lengths = st.sampled_from(["exact", "exact", "exact", "missing", "short", "long", "junk"])
signatures = st.sampled_from(["good", "good", "good", "missing", "wrong", "junk"])


def request(server, body: bytes, length: str, signature: str) -> bytes:
    digest = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = [f"POST {PATH} HTTP/1.1", "Host: x", "Content-Type: application/json", "Connection: close"]
    if length != "missing":
        declared = {"exact": len(body), "short": max(0, len(body) - 1), "long": len(body) + 10}.get(length, "²1")
        headers.append(f"Content-Length: {declared}")
    if signature != "missing":
        headers.append(
            f"X-Hub-Signature-256: {digest if signature == 'good' else 'sha256=00' if signature == 'wrong' else '²'}"
        )
    raw = ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=payloads(), length=lengths, signature=signatures)
def test_every_delivery_is_answered_and_every_change_accounted_for(receiver, settings, body, length, signature):
    before = (receiver.stats.produced, receiver.stats.dead_lettered, receiver.stats.skipped)
    in_kafka = [
        sum(kafka.high_watermarks(t, settings=settings).values()) for t in (settings.topics.raw, settings.topics.dlq)
    ]
    started = time.monotonic()
    answer = request(receiver, body, length, signature)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    assert status is not None, f"no HTTP answer: {answer[:200]!r}"
    assert status in (200, 400, 401, 408, 411, 413), answer[:300]
    assert time.monotonic() - started < 10
    produced = receiver.stats.produced - before[0]
    dead = receiver.stats.dead_lettered - before[1]
    if status in (200, 400):  # read and signed: acknowledged (200) or dead-lettered as not JSON (400)
        assert signature == "good" and (status == 200 or dead == 1)
    else:
        assert produced == dead == 0  # refused at the door, with a status Meta sees
    account(
        "webhook deliveries",
        tried=1,
        enriched=int(status == 200),
        dead_lettered=int(status == 400),
        rejected=int(status not in (200, 400)),
    )
    raw, dlq = (
        sum(kafka.high_watermarks(t, settings=settings).values()) - n
        for t, n in zip((settings.topics.raw, settings.topics.dlq), in_kafka, strict=True)
    )
    assert (raw, dlq) == (produced, dead)  # what the server acknowledged is in Kafka, once
    account(
        "webhook changes (in Kafka)",
        tried=produced + dead,
        enriched=raw,
        dead_lettered=dlq,
        lost=produced + dead - raw - dlq,
    )


def test_what_the_server_counted_is_what_kafka_received(receiver, settings):
    """After a fuzz-like burst, the server's counters match the topics (nothing lost on the way)."""
    bodies = [
        orjson.dumps(
            {
                "object": "page",
                "entry": [
                    {"id": "1", "time": 1760263200, "changes": [change(f"k{i}"), {"field": "feed", "value": "x"}]}
                ],
            }
        )
        for i in range(10)
    ]
    for body in bodies:
        assert request(receiver, body, "exact", "good").startswith(b"HTTP/1.1 200")
    raw = sum(kafka.high_watermarks(settings.topics.raw, settings=settings).values())
    dlq = sum(kafka.high_watermarks(settings.topics.dlq, settings=settings).values())
    assert (receiver.stats.produced, receiver.stats.dead_lettered) == (raw, dlq) == (10, 10)
    account("webhook burst (in Kafka)", tried=20, enriched=raw, dead_lettered=dlq, lost=20 - raw - dlq)
