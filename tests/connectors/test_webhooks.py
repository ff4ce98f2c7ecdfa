"""Webhook receiver: handshake, signature checks, size limit, mapping to Kafka (real broker)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading

import httpx
import pytest
from pydantic import SecretStr

from connectors.base import ConnectorError
from connectors.config import WebhookSettings
from connectors.webhooks import PATH, make_server, signature_ok
from ecoute import events
from tests.connectors.conftest import FIXTURES, dead_letters, raw_events

SECRET = "meta-app-secret-for-tests"
VERIFY = "verify-me-please"


@pytest.fixture
def receiver(settings):
    # The recorded deliveries are from 2024: no replay window for them.
    config = WebhookSettings(
        app_secret=SecretStr(SECRET), verify_token=SecretStr(VERIFY), max_body_bytes=64 * 1024, replay_window_s=None
    )
    server = make_server(settings, config, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    with httpx.Client(base_url=f"http://{host}:{port}", timeout=30) as client:
        yield client, server
    server.shutdown()
    server.server_close()
    server.sink.close()


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def test_verification_handshake(receiver):
    client, _ = receiver
    ok = client.get(PATH, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = client.get(PATH, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong.status_code == 403 and "1" not in wrong.text
    assert client.get(PATH, params={"hub.mode": "unsubscribe", "hub.verify_token": VERIFY}).status_code == 403


def test_signed_page_feed_is_produced_and_acknowledged(receiver, settings):
    client, server = receiver
    body = (FIXTURES / "webhooks" / "page_feed.json").read_bytes()
    response = client.post(PATH, content=body, headers=sign(body))
    assert (response.status_code, response.text) == (200, "EVENT_RECEIVED")
    produced = {event["id"]: event for event in raw_events(settings)}
    assert set(produced) == {
        "facebook:811111111111111_900000000000101",
        "facebook:811111111111111_900000000000102",
        "facebook:104857600123456_855555555555555",
    }
    assert all(events.validation_errors(event) == [] for event in produced.values())
    comment = produced["facebook:811111111111111_900000000000101"]
    assert comment["kind"] == "comment" and comment["thread_id"] == "facebook:104857600123456_811111111111111"
    assert comment["created_at"] == "2024-05-03T08:00:00Z" and comment["text"] == "Livraison super rapide 🚀 merci !"
    brand = produced["facebook:811111111111111_900000000000102"]
    assert brand["kind"] == "reply" and brand["parent_id"] == comment["id"] and brand["author"]["is_brand"] is True
    post = produced["facebook:104857600123456_855555555555555"]
    assert post["kind"] == "post" and post["text"] == "שלום, يا جماعة — nouveau post d'un fan"
    assert [letter["reason"] for letter in dead_letters(settings)] == [
        "mapping: unexpected record shape (KeyError: 'comment_id')"
    ]
    assert (server.stats.produced, server.stats.dead_lettered, server.stats.skipped) == (3, 1, 2)  # remove + reaction


def test_signed_instagram_comments(receiver, settings):
    client, _ = receiver
    body = (FIXTURES / "webhooks" / "instagram_comments.json").read_bytes()
    assert client.post(PATH, content=body, headers=sign(body)).status_code == 200
    produced = {event["id"]: event for event in raw_events(settings)}
    reply = produced["instagram:18000000000000202"]
    assert reply["kind"] == "reply" and reply["parent_id"] == "instagram:18000000000000201"
    assert reply["thread_id"] == "instagram:17900000000000001" and reply["author"]["is_brand"] is True
    assert produced["instagram:18000000000000201"]["created_at"] == "2024-05-03T11:00:00Z"


def test_bad_signature_rejected_and_logged_nothing_produced(receiver, settings, caplog):
    client, server = receiver
    body = (FIXTURES / "webhooks" / "page_feed.json").read_bytes()
    caplog.set_level(logging.WARNING, logger="connectors.webhooks")
    assert client.post(PATH, content=body, headers=sign(body, "wrong-secret")).status_code == 401
    assert client.post(PATH, content=body, headers={"Content-Type": "application/json"}).status_code == 401
    tampered = body.replace(b"super rapide", b"super lente!")
    assert client.post(PATH, content=tampered, headers=sign(body)).status_code == 401
    assert server.rejected == 3 and server.stats.produced == 0
    assert sum("X-Hub-Signature-256" in r.getMessage() for r in caplog.records) == 3
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    # Nothing reached Kafka (the topics exist: the sink created them).
    assert raw_events(settings) == [] and dead_letters(settings) == []


def test_oversize_and_malformed_bodies(receiver, settings):
    client, _ = receiver
    big = b'{"object":"page","entry":[]}' + b" " * (70 * 1024)
    assert client.post(PATH, content=big, headers=sign(big)).status_code == 413
    garbage = b"not json {"
    assert client.post(PATH, content=garbage, headers=sign(garbage)).status_code == 400
    letters = dead_letters(settings)
    assert len(letters) == 1 and letters[0]["original"] == "not json {" and letters[0]["stage"] == "connector:webhook"


def test_signature_helper_and_missing_secret(settings):
    body = b"{}"
    assert signature_ok(body, sign(body)["X-Hub-Signature-256"], SECRET)
    assert not signature_ok(body, "sha1=abc", SECRET) and not signature_ok(body, None, SECRET)
    with pytest.raises(ConnectorError, match="ECOUTE_WEBHOOK__APP_SECRET"):
        make_server(settings, WebhookSettings(), host="127.0.0.1", port=0)


def test_cli_connect_webhook_serves_until_sigterm(settings):
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import free_port
    from tests.connectors.conftest import cli_env

    port = free_port()
    env = cli_env(
        settings,
        ECOUTE_WEBHOOK__APP_SECRET=SECRET,
        ECOUTE_WEBHOOK__VERIFY_TOKEN=VERIFY,
        ECOUTE_WEBHOOK__REPLAY_WINDOW_S=str(10**10),
    )  # recorded 2024 deliveries
    process = subprocess.Popen(
        [sys.executable, "-m", "ecoute.cli", "connect", "webhook", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}{PATH}",
                    params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "42"},
                )
                break
            except httpx.ConnectError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    process.stderr.read() if process.stderr else ""
                )
                time.sleep(0.2)
        assert answer.text == "42"
        body = (FIXTURES / "webhooks" / "instagram_comments.json").read_bytes()
        assert httpx.post(f"http://127.0.0.1:{port}{PATH}", content=body, headers=sign(body)).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert process.returncode == 0
    assert len(raw_events(settings)) == 2
