"""Nothing without a session; CSRF on every post; roles on every action; rate-limited login."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from inbox.auth import WeakPassword, hash_password, verify_password
from inbox.store import Store
from tests.inbox.conftest import FB_CRITIC, FB_THREAT, PASSWORD

PAGES = [
    "/",
    "/queues/moderate",
    "/queues/answer",
    "/queues/welcome",
    f"/threads/{FB_CRITIC}",
    "/activity",
    "/stats",
    "/rules",
    "/replies",
    f"/mentions/{FB_CRITIC}/reply-text",
]
APIS = [
    "/api/queues/answer",
    "/api/queues/moderate",
    "/api/queues/welcome",
    f"/api/threads/{FB_CRITIC}",
    "/api/audit",
    "/api/stats/response-times",
    "/api/me",
]
POSTS = [
    f"/mentions/{FB_THREAT}/act/hide",
    f"/mentions/{FB_CRITIC}/act/reply",
    "/actions/x/undo",
    "/actions/x/retry",
    f"/mentions/{FB_CRITIC}/labels",
    f"/mentions/{FB_CRITIC}/done",
    f"/mentions/{FB_CRITIC}/assign",
    f"/mentions/{FB_CRITIC}/notes",
    "/replies",
    "/rules",
    "/rules/x/dry-run",
    "/rules/x/apply",
    "/logout",
]


@pytest.fixture
def app(inbox_settings, users, platforms):
    return create_app(inbox_settings, platforms.connector_settings())


def csrf_of(client: TestClient, path: str = "/login") -> str:
    html = client.get(path).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    token = csrf_of(client)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return client.get("/api/me").json()["csrf_token"]


def test_without_a_session_pages_redirect_to_login_and_apis_answer_401(app) -> None:
    client = TestClient(app)
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    for path in APIS:
        response = client.get(path)
        assert response.status_code == 401 and response.json() == {"error": "login required"}, path
    for path in POSTS:  # refused before anything else: no session, so no CSRF token either
        assert client.post(path, data={"text": "x"}, follow_redirects=False).status_code in (303, 401, 403), path
    login_page = client.get("/login")
    assert login_page.status_code == 200 and "Anna" not in login_page.text and "escrocs" not in login_page.text


def test_login_sets_an_httponly_samesite_cookie_and_a_new_csrf_token(app) -> None:
    client = TestClient(app)
    before = csrf_of(client)
    token = csrf_of(client)
    response = client.post(
        "/login", data={"username": "mo", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/api/me").json()["csrf_token"] not in (before, token)
    assert client.get("/queues/answer").status_code == 200


def test_wrong_password_then_rate_limited(inbox_settings, users, platforms) -> None:
    settings = inbox_settings.model_copy(
        update={"inbox": inbox_settings.inbox.model_copy(update={"login_max_failures": 3})}
    )
    client = TestClient(create_app(settings, platforms.connector_settings()))
    for _ in range(3):
        token = csrf_of(client)
        assert (
            client.post(
                "/login", data={"username": "mo", "password": "wrong-password", "csrf_token": token}
            ).status_code
            == 401
        )
    token = csrf_of(client)
    blocked = client.post("/login", data={"username": "mo", "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429  # even the right password waits out the window
    assert client.get("/api/me").status_code == 401


def test_posts_without_or_with_a_wrong_csrf_token_are_refused(app, inbox_settings, platforms) -> None:
    client = TestClient(app)
    assert client.post("/login", data={"username": "mo", "password": PASSWORD}).status_code == 403
    login(client, "claire")
    for path in POSTS:
        assert client.post(path, data={"text": "x", "field": "toxic", "value": "false"}).status_code == 403, path
        assert client.post(path, data={"csrf_token": "forged", "text": "x"}).status_code == 403, path
    assert platforms.calls == []  # nothing reached a platform
    assert Store(inbox_settings).audit_records({"term": {"kind": "action"}}) == []


def test_a_viewer_reads_but_cannot_act(app, inbox_settings, platforms) -> None:
    client = TestClient(app)
    token = login(client, "vic")
    assert client.get("/queues/moderate").status_code == 200
    assert client.get("/api/queues/answer").json()["count"] >= 1
    page = client.get(f"/threads/{FB_THREAT}").text
    assert 'data-action="hide"' not in page and "/labels" not in page
    for path in POSTS[:-1]:
        if path.endswith("dry-run"):
            continue  # a dry run changes nothing: viewers may run one
        response = client.post(path, data={"csrf_token": token, "text": "x", "field": "toxic", "value": "false"})
        assert response.status_code == 403, path
    assert platforms.calls == []
    assert Store(inbox_settings).audit_records({"term": {"kind": "action"}}) == []


def test_a_moderator_cannot_do_admin_things(app) -> None:
    client = TestClient(app)
    token = login(client, "mo")
    assert (
        client.post("/replies", data={"csrf_token": token, "title": "x", "text": "y", "lang": "fr"}).status_code == 403
    )
    assert client.post("/rules", data={"csrf_token": token, "name": "x"}).status_code == 403


def test_logout_ends_the_session(app) -> None:
    client = TestClient(app)
    token = login(client, "mo")
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/api/me").status_code == 401


def test_open_redirect_after_login_is_refused(app) -> None:
    client = TestClient(app)
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": "mo", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_passwords_are_argon2id_hashes_and_weak_ones_refused() -> None:
    digest = hash_password("a long enough password")
    assert digest.startswith("$argon2id$") and "a long enough" not in digest
    assert verify_password(digest, "a long enough password") and not verify_password(digest, "another one!!")
    assert not verify_password(None, "anything at all")
    with pytest.raises(WeakPassword):
        hash_password("short")


def test_author_data_access_is_logged_and_names_follow_the_setting(app, inbox_settings) -> None:
    client = TestClient(app)
    login(client, "mo")
    rows = client.get("/api/queues/answer").json()["items"]
    critic = next(r for r in rows if r["id"] == FB_CRITIC)
    assert critic["author"] == "a_anna"  # ECOUTE_STORE_AUTHOR_NAMES is false: the pseudonym only
    store = Store(inbox_settings)
    store.client.indices.refresh(index=inbox_settings.indices.inbox_audit)
    access = store.audit_records({"term": {"kind": "access"}})
    assert access and access[0]["who"] == "mo" and "a_anna" in access[0]["author_ids"]

    named = inbox_settings.model_copy(update={"store_author_names": True})
    client = TestClient(create_app(named))
    login(client, "mo")
    rows = client.get("/api/queues/answer").json()["items"]
    assert next(r for r in rows if r["id"] == FB_CRITIC)["author"] == "Anna Martin"


def test_pages_cannot_be_framed_nor_cached(app) -> None:
    client = TestClient(app)
    for response in (client.get("/login"), client.get("/api/queues/answer")):
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert (
            response.headers["cache-control"] == "no-store" and response.headers["x-content-type-options"] == "nosniff"
        )
