"""Issue 19 regressions for the webhook receiver (real server in a thread, real Kafka).

Item 3: a signed payload of an unexpected shape gets an HTTP answer and a dead letter, and a
``Content-Length: ²`` is a 411, not an uncaught error. Item 4: stalled clients (slowloris) are cut
off by timeouts, concurrency is capped, and replayed deliveries are recorded and not re-produced.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import orjson
import pytest
from pydantic import SecretStr

from connectors.config import WebhookSettings
from connectors.webhooks import PATH, make_server
from tests.connectors.conftest import dead_letters, raw_events
from tests.connectors.test_webhooks import SECRET, sign


def start(settings, **options):
    config = WebhookSettings(app_secret=SecretStr(SECRET), max_body_bytes=64 * 1024, **options)
    server = make_server(settings, config, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def webhook(settings):
    server = start(settings, timeout_s=1.0, body_timeout_s=2.0, max_connections=8)
    yield server
    server.shutdown()
    server.server_close()
    server.sink.close()


def url(server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{PATH}"


def now_entry(**fields) -> dict:
    return {"id": "104857600123456", "time": int(time.time()), **fields}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"object": "page", "entry": ["not an object"]}, "an entry is a string"),
        ({"object": "page", "entry": [42]}, "an entry is a number"),
        ({"object": "page", "entry": [now_entry(changes="feed")]}, "entry.changes is a string"),
        ({"object": "page", "entry": [now_entry(changes={"field": "feed"})]}, "entry.changes is an object"),
        ({"object": "page", "entry": [now_entry(changes=["x"])]}, "a change is a string"),
        (
            {"object": "page", "entry": [now_entry(changes=[{"field": "feed", "value": "add"}])]},
            "change.value is a string",
        ),
        (
            {"object": "instagram", "entry": [now_entry(changes=[{"field": "comments", "value": [1]}])]},
            "change.value is a list",
        ),
        (
            {
                "object": "page",
                "entry": [
                    now_entry(
                        changes=[
                            {
                                "field": "feed",
                                "value": {
                                    "verb": "add",
                                    "item": "comment",
                                    "comment_id": "1_2",
                                    "post_id": "1",
                                    "from": "not-an-object",
                                    "created_time": 1714723200,
                                },
                            }
                        ]
                    )
                ],
            },
            "unexpected record shape",
        ),
    ],
)
def test_signed_payloads_of_unexpected_shape_are_answered_and_dead_lettered(webhook, settings, payload, reason):
    body = orjson.dumps(payload)
    answer = httpx.post(url(webhook), content=body, headers=sign(body), timeout=10)
    assert (answer.status_code, answer.text) == (200, "EVENT_RECEIVED")
    (letter,) = dead_letters(settings)
    assert reason in letter["reason"] and letter["stage"] == "connector:webhook"
    assert raw_events(settings) == []


# Headers are read as latin-1: '²' and '¹³' are str.isdigit() there, and int() refuses them.
@pytest.mark.parametrize("length", ["²", "¹³", "1²", "-5", "1e3", " ", "12abc"])
def test_a_content_length_that_is_not_ascii_digits_is_411(webhook, length):
    with socket.create_connection(webhook.server_address[:2], timeout=5) as sock:
        sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode("latin-1"))
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 411"), answer


def _stalled_clients(server, count: int, declared: int = 1000, sent: int = 10) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(server.server_address[:2], timeout=10)
        sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n".encode() + b"x" * sent)
        sockets.append(sock)
    return sockets


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


def test_slowloris_clients_are_cut_off_and_never_block_real_deliveries(settings):
    webhook = start(settings, timeout_s=3.0, body_timeout_s=4.0, max_connections=8)
    stalled = _stalled_clients(webhook, 50)
    try:
        # The cap (8) is full: a real delivery meanwhile gets a quick 503 that Meta retries, not a hang.
        body = orjson.dumps({"object": "page", "entry": []})
        assert httpx.post(url(webhook), content=body, headers=sign(body), timeout=5).status_code == 503
        started = time.monotonic()
        for sock in stalled:
            sock.settimeout(max(0.1, 10 - (time.monotonic() - started)))
        assert all(_closed_by_server(sock) for sock in stalled)
        assert time.monotonic() - started < 10  # timeout_s is 3 s
        assert webhook.timed_out == 8 and webhook.busy >= 42
        assert httpx.post(url(webhook), content=body, headers=sign(body), timeout=5).status_code == 200
    finally:
        for sock in stalled:
            sock.close()
        webhook.shutdown()
        webhook.server_close()
        webhook.sink.close()


def test_a_client_trickling_its_body_is_cut_off_by_the_body_deadline(webhook):
    (sock,) = _stalled_clients(webhook, 1, declared=100, sent=1)
    started = time.monotonic()
    try:
        sock.settimeout(10)
        for _ in range(8):  # one byte every 0.5 s: each read is within timeout_s, the whole is not
            time.sleep(0.5)
            try:
                sock.sendall(b"x")
            except OSError:
                break
        answer = sock.recv(4096)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 6


def test_replays_are_recorded_and_not_produced_again_and_stale_deliveries_refused(webhook, settings):
    change = {
        "field": "feed",
        "value": {
            "verb": "add",
            "item": "status",
            "post_id": "104857600123456_1",
            "message": "nouveau",
            "created_time": int(time.time()),
        },
    }
    body = orjson.dumps({"object": "page", "entry": [now_entry(changes=[change])]})
    for _ in range(3):
        assert httpx.post(url(webhook), content=body, headers=sign(body), timeout=10).status_code == 200
    assert len(raw_events(settings)) == 1 and webhook.replays == 2
    stale = orjson.dumps(
        {"object": "page", "entry": [{**now_entry(changes=[change]), "time": int(time.time()) - 3 * 86400}]}
    )
    answer = httpx.post(url(webhook), content=stale, headers=sign(stale), timeout=10)
    assert answer.status_code == 400 and "replay" in answer.text and webhook.replays == 3
    assert len(raw_events(settings)) == 1


# -- issue 28 items 18 and 19 --------------------------------------------------------------------
def test_the_replay_window_survives_a_restart(settings):
    import stat

    change = {
        "field": "feed",
        "value": {
            "verb": "add",
            "item": "status",
            "post_id": "104857600123456_9",
            "message": "avant redémarrage",
            "created_time": int(time.time()),
        },
    }
    body = orjson.dumps({"object": "page", "entry": [now_entry(changes=[change])]})
    for _ in range(2):  # the receiver, then the same receiver restarted, get the same delivery
        server = start(settings, timeout_s=1.0, body_timeout_s=2.0)
        try:
            assert httpx.post(url(server), content=body, headers=sign(body), timeout=10).status_code == 200
        finally:
            server.shutdown()
            server.server_close()
            server.sink.close()
    assert len(raw_events(settings)) == 1 and server.replays == 1  # produced once, counted once
    kept = settings.state_dir / "webhook" / "deliveries.log"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and sign(body)["X-Hub-Signature-256"] not in kept.read_text()


def test_the_delivery_log_drops_expired_and_torn_lines_at_start(tmp_path):
    from connectors.webhook_deliveries import DeliveryLog

    path = tmp_path / "deliveries.log"
    log = DeliveryLog(3600, path=path)
    log.record("sha256=fresh")
    key = DeliveryLog._key("sha256=old")
    with path.open("a") as handle:
        handle.write(f"{time.time() - 7200:.3f} {key}\n12.5 torn-li")
    again = DeliveryLog(3600, path=path)
    assert again.seen("sha256=fresh") and not again.seen("sha256=old")
    assert len(path.read_text().splitlines()) == 1  # rewritten compacted


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Length: {n}\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: {n}\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Content-Length: {n}\r\nContent-Length: 5\r\n",
    ],
)
def test_chunked_or_ambiguous_lengths_are_refused_with_400(webhook, settings, headers):
    body = orjson.dumps({"object": "page", "entry": [now_entry(changes=[])]})
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    signature = sign(body)["X-Hub-Signature-256"]
    head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: {signature}\r\n" + headers.format(n=len(body))
    with socket.create_connection(webhook.server_address[:2], timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n" + (body if "chunked" not in headers else chunked))
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert raw_events(settings) == [] and dead_letters(settings) == []
