"""Issue 28, items 6–10 and 14: any platform answer ends in a clear record; odd ids and links; bad
query parameters are 400 with a message; saved replies cannot break or blow up; no GET route of the
inbox writes to Elasticsearch; `ecoute inbox rules-run` reports a broken rule and runs the others."""

from __future__ import annotations

import email.policy
import hashlib
import re
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from elastic_transport import Transport
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from inbox import actions
from inbox.actions import Services
from inbox.app import create_app
from inbox.store import Store
from tests.ecoute.views.synthetic import index_mentions, mention
from tests.inbox.conftest import FB_CRITIC, FB_THREAT, PASSWORD, LiveServer
from tests.inbox.test_cli_and_demo import ECOUTE, cli_env
from tests.inbox.test_security import login

ODD_ID = "import:export/2026?page=2#c%41 été"  # an import's native id may hold any of / ? # % and spaces


@pytest.fixture
def app(inbox_settings, users, platforms):
    return create_app(inbox_settings, platforms.connector_settings())


# -- item 6 -------------------------------------------------------------------------------------
def test_a_platform_answering_200_with_html_ends_in_a_failed_record(app, inbox_settings, platforms) -> None:
    native = FB_THREAT.split(":", 1)[1]
    portal = b"<html><body>Please log in to the hotel Wi-Fi</body></html>"
    platforms.add_raw("POST", f"/v21.0/{native}", portal, "text/html; charset=utf-8")
    client = TestClient(app)
    token = login(client, "mo")
    page = client.post(
        f"/mentions/{FB_THREAT}/act/hide",
        data={"csrf_token": token},
        headers={"referer": f"{client.base_url}/threads/{FB_THREAT}"},
    )
    assert page.status_code == 200 and "flash error" in page.text and "not JSON" in page.text
    [record] = Store(inbox_settings).audit_records({"term": {"mention_id": FB_THREAT}}, {"term": {"kind": "action"}})
    assert record["status"] == "failed" and "text/html" in record["error"] and "hotel Wi-Fi" in record["error"]
    assert len(platforms.calls) == 1  # an HTML page is no transient error: not retried


def test_an_unexpected_platform_error_never_leaves_a_pending_record(inbox_settings, platforms) -> None:
    services = Services(inbox_settings, Store(inbox_settings), platforms.connector_settings())
    services.store.ensure()
    services.connectors.facebook.base_url = "http://[::1"  # a broken URL: httpx raises, not a PlatformError
    record = actions.act(services, {"username": "mo", "role": "moderator"}, FB_THREAT, "hide")
    stored = services.store.get(inbox_settings.indices.inbox_audit, record["id"])
    assert record["status"] == stored["status"] == "failed" and stored["error"]


# -- item 7 -------------------------------------------------------------------------------------
def test_ids_with_reserved_characters_work_in_links_and_actions(app, inbox_settings) -> None:
    now = datetime.now(UTC) - timedelta(hours=1)
    odd = mention(
        ODD_ID, now, source="import", text="Toujours pas de réponse du SAV", criticism=True, sentiment="negative"
    )
    hostile = mention("import:js-link", now, source="import", text="lien piégé", criticism=True, sentiment="negative")
    hostile["url"] = "javascript:alert(document.cookie)"
    data_link = mention(
        "import:data-link", now, source="import", text="lien data", criticism=True, sentiment="negative"
    )
    data_link["url"] = " data:text/html,<script>alert(1)</script>"
    index_mentions(inbox_settings, [odd, hostile, data_link])
    # A real server: Starlette's TestClient decodes paths twice (%2541 -> %41 -> A), uvicorn once.
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        login_page = client.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"username": "mo", "password": PASSWORD, "csrf_token": csrf})
        token = client.get("/api/me").json()["csrf_token"]
        queue = client.get("/queues/answer").text
        encoded = quote(ODD_ID, safe=":@")
        assert f'href="/threads/{encoded}"' in queue and f'action="/mentions/{encoded}/done"' in queue
        thread = client.get(f"/threads/{encoded}")
        assert thread.status_code == 200 and "Toujours pas de réponse du SAV" in thread.text
        assert f'href="{odd["url"]}"' in thread.text  # an https link is shown
        assert client.get(f"/api/threads/{encoded}").json()["focus"]["id"] == ODD_ID
        done = client.post(f"/mentions/{encoded}/done", data={"csrf_token": token})
        assert done.status_code == 303
        assert ODD_ID not in {r["id"] for r in client.get("/api/queues/answer").json()["items"]}
        noted = client.post(f"/mentions/{encoded}/notes", data={"csrf_token": token, "text": "vu"})
        assert noted.status_code == 303 and Store(inbox_settings).item(ODD_ID)["notes"][0]["text"] == "vu"
        for mention_id in ("import:js-link", "import:data-link"):
            page = client.get(f"/threads/{mention_id}").text
            assert "javascript:" not in page and "data:text/html" not in page
            assert client.get(f"/api/threads/{mention_id}").json()["focus"]["url"] is None


# -- item 8 -------------------------------------------------------------------------------------
BAD_PARAMETERS = [
    ("/queues/answer?end=9999-12-31", "end"),
    ("/api/queues/answer?end=9999-12-31", "end"),
    ("/queues/welcome?day=9999-12-31", "day"),
    ("/api/queues/welcome?day=9999-12-31", "day"),
    ("/stats?end=9999-12-31", "end"),
    ("/api/stats/response-times?end=9999-12-31", "end"),
    ("/api/stats/response-times?start=0001-01-01", "start"),
    ("/queues/moderate?start=yesterday", "start"),
    ("/api/queues/answer?start=2026-10-20&end=2026-10-01", "start"),
    ("/api/audit?limit=-1", "limit"),
    ("/api/audit?limit=abc", "limit"),
    ("/api/queues/moderate?limit=0", "limit"),
    # the queues' paging and searches (issue 27): refused with their name, never read as page 1 or nothing
    ("/queues/answer?page=abc", "page"),
    ("/queues/questions?page=0", "page"),
    ("/api/queues/answer?page=-2", "page"),
    ("/api/queues/answer?page=9999999", "page"),
    ("/queues/answer?assigned=everyone", "assigned"),
    ("/api/queues/questions?q=" + "x" * 201, "q"),
    ("/queues/answer?author=" + "y" * 201, "author"),
    ("/queues/answer?comment_lang=%3Cscript%3E", "comment_lang"),
    ("/queues/answer?start=31/02/2026", "start"),
    ("/replies?edit=" + "z" * 201, "edit"),
    ("/forwards/nope?k=" + "k" * 201, "k"),
]


def test_bad_query_parameters_answer_400_with_a_message(app) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    login(client, "mo")
    for path, name in BAD_PARAMETERS:
        response = client.get(path)
        assert response.status_code == 400, (path, response.status_code, response.text[:300])
        message = response.json()["error"] if path.startswith("/api/") else response.text
        assert name in message, (path, message[:300])


def test_apply_with_bad_hours_answers_400(app, inbox_settings, platforms) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    token = login(client, "claire")
    client.post("/rules", data={"csrf_token": token, "name": "Liens", "has_link": "on", "actions": ["tag"], "tag": "x"})
    rule = Store(inbox_settings).rules()[0]
    for hours in ("abc", "-3", "0", "9" * 5000, "100000"):
        response = client.post(f"/rules/{rule['id']}/apply", data={"csrf_token": token, "hours": hours})
        assert response.status_code == 400 and "hours must be a whole number" in response.text, hours[:20]
    assert platforms.calls == []


# -- item 9 -------------------------------------------------------------------------------------
def test_saved_replies_with_braces_or_format_specs_render_as_typed(app) -> None:
    client = TestClient(app)
    token = login(client, "claire")
    texts = {
        "virgule": "Bonjour {author, merci pour {page}",
        "position": "Merci {0} et {} !",
        "bombe": "Vu sur {page:>50000000} et {network!r}",
        "attribut": "{page.__class__} {author[0]}",
    }
    for title, text in texts.items():
        client.post("/replies", data={"csrf_token": token, "title": title, "lang": "fr", "text": text})
    rendered = {}
    for title in texts:
        response = client.get(f"/mentions/{FB_CRITIC}/reply-text", params={"saved": f"fr:{title}"})
        assert response.status_code == 200, title
        rendered[title] = re.search(r"<textarea[^>]*>(.*)</textarea>", response.text, re.S).group(1)
    assert rendered["virgule"] == "Bonjour {author, merci pour Maison Aurore"  # {page}: the page by its name
    assert rendered["position"] == "Merci {0} et {} !"
    assert rendered["bombe"] == "Vu sur {page:&gt;50000000} et {network!r}" and len(rendered["bombe"]) < 100
    assert rendered["attribut"] == "{page.__class__} {author[0]}"


# -- item 10 ------------------------------------------------------------------------------------
GET_ROUTES = [
    "/login",
    "/",
    "/queues/{name}",
    "/threads/{mention_id:path}",
    "/activity",
    "/stats",
    "/rules",
    "/replies",
    "/mentions/{mention_id:path}/reply-text",
    "/api/queues/{name}",
    "/api/threads/{mention_id:path}",
    "/api/audit",
    "/api/stats/response-times",
    "/api/me",
    "/alerts/feedback",
    "/learn",
    "/healthz",
    "/threads/{mention_id:path}/warm",
    "/rules/{rule_id}/edit",
    "/rules/{rule_id}/dry-run",
    "/forwards/{forward_id}",
]
VERDICT_ROUTE = "/alerts/feedback"


def _is_write(method: str, path: str) -> bool:
    path = urlsplit(path).path
    if method in ("GET", "HEAD"):
        return False
    if method == "POST" and re.search(r"/(_search|_count|_mget|_msearch|_refresh|_pit)(/|$)|/_search/scroll", path):
        return False
    return not (method == "DELETE" and re.search(r"/_search/scroll|/_pit", path))


@pytest.fixture
def es_writes(monkeypatch) -> list[tuple[str, str, Any]]:
    """Every Elasticsearch write of this process, through any client: the transport records them."""
    writes: list[tuple[str, str, Any]] = []
    original = Transport.perform_request

    def recording(self, method, target, *args, **kwargs):
        if _is_write(method, target):
            writes.append((method, target, kwargs.get("body")))
        return original(self, method, target, *args, **kwargs)

    monkeypatch.setattr(Transport, "perform_request", recording)
    return writes


def _made(client: TestClient, token: str, settings) -> dict[str, str]:
    """What the walk's other URLs name, made before it starts: a rule (its dry run recorded by the
    POST) and a thread forwarded to a colleague (its answer link)."""
    client.post("/rules", data={"csrf_token": token, "name": "Liens", "has_link": "on", "actions": ["tag"], "tag": "x"})
    store = Store(settings)
    key = "walk-key-" + "k" * 24
    forward = store.audit(
        {
            "kind": "forward",
            "action": "forward",
            "status": "done",
            "who": "claire",
            "role": "admin",
            "mention_id": FB_CRITIC,
            "to": "colleague@example.com",
            "key_digest": hashlib.sha256(key.encode()).hexdigest(),
            "expires_at": "2100-01-01T00:00:00Z",
        }
    )
    return {"rule": store.rules()[0]["id"], "forward": f"{forward['id']}?k={key}"}


def _urls(route: str, token: str, made: dict[str, str] | None = None) -> list[str]:
    ids = [FB_CRITIC, FB_THREAT]
    made = made or {}
    filled = {
        "/threads/{mention_id:path}/warm": [f"/threads/{i}/warm" for i in ids],
        "/rules/{rule_id}/edit": [f"/rules/{made.get('rule')}/edit"],
        "/rules/{rule_id}/dry-run": [f"/rules/{made.get('rule')}/dry-run", f"/rules/{made.get('rule')}/dry-run?new=1"],
        "/forwards/{forward_id}": [f"/forwards/{made.get('forward')}"],
        "/queues/{name}": [f"/queues/{q}" for q in ("moderate", "answer", "questions", "welcome")]
        + ["/queues/answer?start=2026-10-01&end=2026-10-31&lang=en", "/queues/welcome?day=2026-10-17"],
        "/api/queues/{name}": [f"/api/queues/{q}" for q in ("moderate", "answer", "questions", "welcome")]
        + ["/api/queues/answer?page=2"],
        "/threads/{mention_id:path}": [f"/threads/{i}" for i in ids],
        "/api/threads/{mention_id:path}": [f"/api/threads/{i}" for i in ids],
        "/mentions/{mention_id:path}/reply-text": [f"/mentions/{FB_CRITIC}/reply-text?saved=fr:Merci"],
        "/stats": ["/stats", "/stats?start=2026-10-01&end=2026-10-31"],
        VERDICT_ROUTE: [f"{VERDICT_ROUTE}?t={token}"],
    }
    return filled.get(route, [route])


def _verdict_token(settings) -> str:
    from jobs.alerts.verdicts import feedback_links

    alert = {"id": "overall:2026-10-17T09:00:00Z", "scope": "overall", "episode_start": "2026-10-17T09:00:00Z"}
    return urlsplit(feedback_links(settings, alert)["useful"]).query.split("t=", 1)[1]


def test_the_walk_covers_every_get_route(app) -> None:
    routes = {r.path for r in app.routes if isinstance(r, APIRoute) and "GET" in r.methods}
    assert routes == set(GET_ROUTES), "a GET route was added or renamed: walk it in test_get_never_writes"


@pytest.mark.parametrize("route", GET_ROUTES)
def test_get_never_writes(route, app, inbox_settings, es_writes) -> None:
    """Reading may leave the GDPR access record of the read itself (who saw which authors' data,
    kind "access"); nothing else: no state, no label, no verdict."""
    client = TestClient(app)
    token = login(client, "claire")
    client.post("/replies", data={"csrf_token": token, "title": "Merci", "lang": "fr", "text": "Merci {author} !"})
    made = _made(client, token, inbox_settings)
    es_writes.clear()
    for url in _urls(route, _verdict_token(inbox_settings), made):
        assert client.get(url).status_code < 400, url
    audit = inbox_settings.indices.inbox_audit
    other = [
        (m, p)
        for m, p, body in es_writes
        if not (p.startswith(f"/{audit}/_doc/") and isinstance(body, dict) and body.get("kind") == "access")
    ]
    assert other == [], f"GET {route} wrote to Elasticsearch"


# -- item 14 ------------------------------------------------------------------------------------
def test_rules_run_reports_a_broken_rule_and_applies_the_others(inbox_settings, smtp_outbox) -> None:
    fresh = "facebook:811111111111111_900000000000077"
    index_mentions(
        inbox_settings,
        [
            mention(
                fresh,
                datetime.now(UTC) - timedelta(minutes=5),
                author_id="a_spam",
                text="promo http://spam.example",
                parent_id="facebook:p1",
                thread_id="facebook:p1",
            )
        ],
    )
    store = Store(inbox_settings)
    store.ensure()
    base = {"enabled": True, "created_by": "claire", "assign_to": None}
    # Stored by hand (or an older release) without its actions: apply raises on its first match.
    broken = {
        **base,
        "id": "broken",
        "name": "Score",
        "created_at": "2026-12-01T00:00:00Z",
        "conditions": {"has_link": True},
        "tag": "x",
        "notify": None,
    }
    multiline = {
        **base,
        "id": "multiline",
        "name": "Liens\nspam\r\n(RSS)",
        "created_at": "2026-12-01T00:01:00Z",
        "conditions": {"has_link": True},
        "actions": ["tag", "notify"],
        "tag": "spam",
        "notify": "equipe@example.com",
    }
    for rule in (broken, multiline):
        store.put(inbox_settings.indices.inbox_rules, rule["id"], rule)
    env = {**cli_env(inbox_settings), "ECOUTE_SMTP__PORT": str(smtp_outbox.port)}
    run = subprocess.run(
        [ECOUTE, "inbox", "rules-run", "--hours", "1"], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 1, run.stderr
    assert "rule Score (broken) skipped: KeyError" in run.stderr
    assert "(multiline): 1 matched, 0 failed" in run.stderr
    assert Store(inbox_settings).item(fresh)["tags"] == ["spam"]
    [eml] = smtp_outbox.messages()
    message = message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Écoute — Liens spam (RSS): 1"  # the notify email is not lost
    failed = Store(inbox_settings).audit_records({"term": {"rule_id": "broken"}})
    assert failed and failed[0]["status"] == "failed"


def test_a_rule_form_refuses_a_notify_field_that_is_not_addresses(app) -> None:
    client = TestClient(app)
    token = login(client, "claire")
    response = client.post(
        "/rules",
        data={
            "csrf_token": token,
            "name": "x",
            "has_link": "on",
            "actions": ["notify"],
            "notify": "a@example.com\nBcc: everyone@example.com",
        },
    )
    assert response.status_code == 400 and "email addresses" in response.text


def test_reply_text_for_an_unknown_mention_is_404(app) -> None:
    """Found by tests/fuzz/test_fuzz_inbox.py: a saved reply asked for an unknown mention was a 500."""
    client = TestClient(app, raise_server_exceptions=False)
    token = login(client, "claire")
    client.post("/replies", data={"csrf_token": token, "title": "Merci", "lang": "fr", "text": "Merci !"})
    for mention_id in ("facebook:nope", ""):
        response = client.get(f"/mentions/{mention_id}/reply-text", params={"saved": "fr:Merci"})
        assert response.status_code == 404, mention_id
