"""Issue 28, items 1–5: a slow platform never holds other people's requests; sessions end at logout,
password change and disable (POSTs included); `ecoute inbox user disable|enable|list`; lockout per
account and address, X-Forwarded-For only from trusted proxies, bounded limiter memory; no
credentials printed at start-up."""

from __future__ import annotations

import re
import subprocess
import threading
import time
import tracemalloc

import httpx
import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer

from ecoute.stack import port_open
from inbox.app import create_app
from inbox.auth import LoginLimiter, hash_password
from inbox.store import Store
from tests.conftest import free_port
from tests.inbox.conftest import FB_THREAT, PASSWORD, LiveServer
from tests.inbox.test_cli_and_demo import ECOUTE, cli_env
from tests.inbox.test_security import csrf_of, login

NEW_PASSWORD = "another long passphrase"


@pytest.fixture
def app(inbox_settings, users, platforms):
    return create_app(inbox_settings, platforms.connector_settings())


def _cookie_of(client: TestClient) -> str:
    return client.cookies["ecoute_inbox"]


def _with_cookie(app, cookie: str) -> TestClient:
    replay = TestClient(app)
    replay.cookies.set("ecoute_inbox", cookie)
    return replay


# -- item 1 -------------------------------------------------------------------------------------
def test_a_slow_platform_call_does_not_hold_another_users_requests(inbox_settings, users, platforms) -> None:
    """A real slow Graph API (4 s per call) on its own server; while one hide waits on it, another
    person's GET answers at once (it waited the whole 4 s when actions ran on the event loop)."""
    slow = HTTPServer(host="127.0.0.1", port=free_port())
    called = threading.Event()

    def answer_slowly(request):
        from werkzeug import Response

        called.set()
        time.sleep(4)
        return Response('{"success": true}', 200, content_type="application/json")

    slow.expect_request(re.compile(".*")).respond_with_handler(answer_slowly)
    slow.start()
    try:
        connectors = platforms.connector_settings()
        connectors.facebook.base_url = slow.url_for("/v21.0")
        with LiveServer(create_app(inbox_settings, connectors)) as server:
            mo = httpx.Client(base_url=server.url, timeout=30)
            token = re.search(r'name="csrf_token" value="([^"]+)"', mo.get("/login").text).group(1)
            mo.post("/login", data={"username": "mo", "password": PASSWORD, "csrf_token": token})
            token = mo.get("/api/me").json()["csrf_token"]
            outcome: dict[str, httpx.Response] = {}
            hide = threading.Thread(
                target=lambda: outcome.update(
                    hide=mo.post(f"/mentions/{FB_THREAT}/act/hide", data={"csrf_token": token})
                )
            )
            hide.start()
            assert called.wait(10), "the platform was never called"
            started = time.monotonic()
            other = httpx.get(f"{server.url}/login", timeout=30)
            waited = time.monotonic() - started
            hide.join(30)
            mo.close()
        assert other.status_code == 200
        assert waited < 1.5, f"another user's GET /login waited {waited:.1f} s behind the platform call"
        assert outcome["hide"].status_code in (200, 303)
        record = Store(inbox_settings).audit_records({"term": {"mention_id": FB_THREAT}}, {"term": {"action": "hide"}})[
            0
        ]
        assert record["status"] == "done"
    finally:
        slow.clear()
        if slow.is_running():
            slow.stop()


def test_an_action_gives_up_at_its_deadline(inbox_settings, users, platforms) -> None:
    from inbox import actions
    from inbox.actions import Services

    platforms.add("POST", f"/v21.0/{FB_THREAT.split(':', 1)[1]}", None, status=503)
    quick = inbox_settings.model_copy(
        update={
            "inbox": inbox_settings.inbox.model_copy(
                update={"platform_attempts": 8, "platform_backoff_s": 0.2, "platform_deadline_s": 1.0}
            )
        }
    )
    services = Services(quick, Store(quick), platforms.connector_settings())
    started = time.monotonic()
    record = actions.act(services, {"username": "mo", "role": "moderator"}, FB_THREAT, "hide")
    assert record["status"] == "failed" and "503" in record["error"]
    assert time.monotonic() - started < 5  # 8 attempts and their back-off: 25 s
    assert len(platforms.calls) < 8


# -- items 2 and 3 ------------------------------------------------------------------------------
def test_logout_ends_the_session_on_the_server(app, platforms) -> None:
    client = TestClient(app)
    token = login(client, "mo")
    cookie = _cookie_of(client)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    replay = _with_cookie(app, cookie)  # the cookie copied before logout, sent again
    assert replay.get("/api/me").status_code == 401
    hide = replay.post(f"/mentions/{FB_THREAT}/act/hide", data={"csrf_token": token}, follow_redirects=False)
    assert hide.status_code in (303, 401) and platforms.calls == []


def test_a_password_change_ends_every_session_of_that_user(app, inbox_settings, platforms) -> None:
    phone, laptop, other = TestClient(app), TestClient(app), TestClient(app)
    token = login(phone, "mo")
    login(laptop, "mo")
    login(other, "claire")
    Store(inbox_settings).put_user("mo", "moderator", hash_password(NEW_PASSWORD))  # what `user add` does
    for client in (phone, laptop):
        assert client.get("/api/me").status_code == 401
    hide = phone.post(f"/mentions/{FB_THREAT}/act/hide", data={"csrf_token": token}, follow_redirects=False)
    assert hide.status_code in (303, 401) and platforms.calls == []
    assert other.get("/api/me").json()["username"] == "claire"  # other people stay logged in
    login(TestClient(app), "mo", NEW_PASSWORD)


def test_user_disable_enable_list_commands(app, inbox_settings, platforms) -> None:
    client = TestClient(app)
    token = login(client, "mo")
    env = cli_env(inbox_settings)

    def ecoute(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([ECOUTE, "inbox", "user", *args], capture_output=True, text=True, env=env, timeout=120)

    disabled = ecoute("disable", "mo")
    assert disabled.returncode == 0 and "mo disabled" in disabled.stderr, disabled.stderr
    assert client.get("/api/me").status_code == 401
    hide = client.post(f"/mentions/{FB_THREAT}/act/hide", data={"csrf_token": token}, follow_redirects=False)
    assert hide.status_code in (303, 401) and platforms.calls == []
    refused = TestClient(app)
    assert (
        refused.post(
            "/login", data={"username": "mo", "password": PASSWORD, "csrf_token": csrf_of(refused)}
        ).status_code
        == 401
    )

    listed = ecoute("list", "--json")
    assert listed.returncode == 0, listed.stderr
    users = {u["username"]: u for u in __import__("json").loads(listed.stdout)}
    assert users["mo"]["disabled"] is True and users["claire"]["disabled"] is False
    assert "password_hash" not in listed.stdout and "argon2" not in listed.stdout
    table = ecoute("list")
    assert re.search(r"mo\s.*moderator\s.*disabled", table.stdout), table.stdout

    assert ecoute("enable", "mo").returncode == 0
    assert client.get("/api/me").status_code == 401  # the old session stays ended
    login(TestClient(app), "mo")
    missing = ecoute("disable", "nobody")
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr


# -- item 4 -------------------------------------------------------------------------------------
def test_wrong_passwords_for_one_name_do_not_lock_the_others_behind_the_same_address(
    inbox_settings, users, platforms
) -> None:
    office = ("198.51.100.7", 40000)  # one NAT address for the whole team
    app = create_app(inbox_settings, platforms.connector_settings())
    intruder = TestClient(app, client=office)
    for _ in range(inbox_settings.inbox.login_max_failures + 1):
        intruder.post(
            "/login", data={"username": "claire", "password": "not the password", "csrf_token": csrf_of(intruder)}
        )
    blocked = intruder.post(
        "/login", data={"username": "claire", "password": PASSWORD, "csrf_token": csrf_of(intruder)}
    )
    assert blocked.status_code == 429  # that account from that address waits
    colleague = TestClient(app, client=office)
    login(colleague, "mo")  # the rest of the office logs in
    assert colleague.get("/api/me").json()["username"] == "mo"


def test_forwarded_for_is_believed_only_from_trusted_proxies(inbox_settings, users, platforms) -> None:
    from inbox.auth import client_address

    behind = inbox_settings.model_copy(
        update={
            "inbox": inbox_settings.inbox.model_copy(
                update={"trusted_proxies": ["10.0.0.0/8"], "login_max_failures": 2}
            )
        }
    )
    app = create_app(behind, platforms.connector_settings())
    proxy = ("10.1.2.3", 40000)

    def attempt(client: TestClient, forwarded: str, password: str = "wrong password!") -> int:
        data = {"username": "mo", "password": password, "csrf_token": csrf_of(client)}
        return client.post(
            "/login", data=data, headers={"x-forwarded-for": forwarded}, follow_redirects=False
        ).status_code

    via_proxy = TestClient(app, client=proxy)
    assert [attempt(via_proxy, "203.0.113.5") for _ in range(3)] == [401, 401, 429]
    assert attempt(TestClient(app, client=proxy), "203.0.113.6", PASSWORD) == 303  # another person behind the proxy
    # Not from a trusted proxy: the header is the client's own words, and changing it changes nothing.
    direct = TestClient(app, client=("192.0.2.9", 40000))
    assert [attempt(direct, f"203.0.113.{n}") for n in range(10, 13)] == [401, 401, 429]
    assert client_address("10.1.2.3", "198.51.100.1, 203.0.113.5, 10.9.9.9", ["10.0.0.0/8"]) == "203.0.113.5"
    assert client_address("10.1.2.3", "not-an-address", ["10.0.0.0/8"]) == "10.1.2.3"
    assert client_address("192.0.2.9", "203.0.113.5", ["10.0.0.0/8"]) == "192.0.2.9"


def test_trusted_proxies_setting_reads_a_comma_separated_list(monkeypatch) -> None:
    from ecoute.settings import Settings

    monkeypatch.setenv("ECOUTE_INBOX__TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    assert Settings().inbox.trusted_proxies == ["127.0.0.1", "10.0.0.0/8"]
    monkeypatch.setenv("ECOUTE_INBOX__TRUSTED_PROXIES", "10.0.0.300")
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        Settings()


def test_the_limiter_memory_is_bounded() -> None:
    """400 refused attempts with 100 kB names kept 38 MB; the limiter now keeps fixed-size keys."""
    limiter = LoginLimiter(5, 300, max_keys=1000)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for n in range(400):
        limiter.failed(f"{n}" + "x" * 100_000, "203.0.113.5")
    grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert grown < 1_000_000, f"{grown} bytes for 400 attempts"
    for n in range(5000):
        limiter.failed(f"user{n}", f"198.51.100.{n % 250}")
    assert len(limiter) <= 1000


# -- item 5 -------------------------------------------------------------------------------------
def test_serve_never_prints_the_elasticsearch_password(inbox_settings, tmp_path) -> None:
    port = free_port()
    env = cli_env(inbox_settings)
    env["ECOUTE_ES__URL"] = inbox_settings.es.url.replace("http://", "http://elastic:s3cret-pw@")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [ECOUTE, "inbox", "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(10)
    printed = log.read_text()
    assert "inbox on http://127.0.0.1" in printed and "elastic:***@" in printed
    assert "s3cret-pw" not in printed
