"""Inbox fixtures: settings with inbox indices unique to the test, mentions seeded in noida-db through
the real ES wrapper, recorded-shape platform servers (pytest-httpserver), users, a running server."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.config import ConnectorSettings, FacebookSettings, InstagramSettings, RedditSettings, YouTubeSettings
from ecoute.settings import Settings
from inbox.auth import hash_password
from inbox.store import Store
from tests.conftest import free_port
from tests.ecoute.views.synthetic import index_mentions, mention

FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, headless, with nothing that reaches the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"
FB_THREAT = "facebook:811111111111111_900000000000001"
FB_CRITIC = "facebook:811111111111111_900000000000002"
IG_COMMENT = "instagram:17895695668004550"
YT_COMMENT = "youtube:UgzAbC123dEf456"
RD_COMMENT = "reddit:t1_lz9abc"


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def seed_docs() -> list[dict[str, Any]]:
    """A small month on four networks: a pile-on under one post, toxic items, constructive criticism,
    a first-time commenter, brand replies. Hand-made: a smoke test of the wiring, not a judge."""
    post = dict(kind="post", author_id="brand", is_brand=True)
    fb = dict(parent_id="facebook:p1", thread_id="facebook:p1")
    return [
        mention("facebook:p0", t(3, 8), text="Nos nouveautés d'octobre", sentiment="positive", **post),
        mention("facebook:p1", t(17, 8), text="Votre avis sur la nouvelle livraison ?", sentiment="neutral", **post),
        mention(
            "facebook:c0",
            t(3, 9),
            parent_id="facebook:p0",
            thread_id="facebook:p0",
            author_id="a_bob",
            text="Top, merci",
            sentiment="positive",
        ),
        mention(
            FB_THREAT,
            t(17, 12),
            author_id="a_dan",
            text="Je vais venir vous trouver, vous allez le regretter",
            sentiment="negative",
            toxic=True,
            toxic_score=0.95,
            **fb,
        ),
        mention(
            "facebook:811111111111111_900000000000003",
            t(17, 12, 30),
            author_id="a_eve",
            text="bande d'escrocs http://arnaque.example",
            sentiment="negative",
            toxic=True,
            toxic_score=0.8,
            **fb,
        ),
        mention(
            FB_CRITIC,
            t(17, 9, 10),
            author_id="a_anna",
            author_name="Anna Martin",
            text="Proposez le suivi du colis dès l'expédition, ce serait plus simple",
            sentiment="negative",
            criticism=True,
            constructive=True,
            topics=["delivery"],
            likes=40,
            **fb,
        ),
        mention(
            "facebook:811111111111111_900000000000004",
            t(17, 9, 20),
            author_id="a_carl",
            text="Toujours pas reçu ma commande",
            sentiment="negative",
            criticism=True,
            topics=["delivery"],
            **fb,
        ),
        mention(
            "facebook:811111111111111_900000000000005",
            t(17, 9, 40),
            author_id="a_gus",
            text="pareil",
            sentiment="negative",
            criticism=True,
            answered_at=t(17, 11),
            **fb,
        ),
        mention(
            "facebook:811111111111111_900000000000006",
            t(17, 11),
            kind="reply",
            parent_id="facebook:811111111111111_900000000000005",
            thread_id="facebook:p1",
            author_id="brand",
            is_brand=True,
            text="Nous regardons votre commande",
        ),
        mention(
            IG_COMMENT,
            t(17, 14),
            source="instagram",
            author_id="a_ivy",
            lang="en",
            text="Delivery took three weeks, please add tracking",
            sentiment="negative",
            criticism=True,
            constructive=True,
            parent_id="instagram:p9",
            thread_id="instagram:p9",
        ),
        mention(
            YT_COMMENT,
            t(17, 15),
            source="youtube",
            author_id="a_jo",
            text="vidéo nulle, marque de voleurs",
            sentiment="negative",
            toxic=True,
            toxic_score=0.7,
            parent_id="youtube:v1",
            thread_id="youtube:v1",
        ),
        mention(
            RD_COMMENT,
            t(17, 16),
            source="reddit",
            author_id="a_kim",
            text="Le SAV ne répond jamais",
            sentiment="negative",
            criticism=True,
            parent_id="reddit:t3_1cxb001",
            thread_id="reddit:t3_1cxb001",
        ),
        mention(
            "facebook:811111111111111_900000000000007",
            t(17, 17),
            author_id="a_new",
            text="Première fois ici, j'adore vos produits",
            sentiment="positive",
            **fb,
        ),
    ]


def inbox_settings_for(settings: Settings, **inbox: Any) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    indices = settings.indices.model_dump()
    indices.update({name: f"{indices[name]}-t{suffix}" for name in indices if name.startswith("inbox_")})
    options = {
        "platform_attempts": 2,
        "platform_backoff_s": 0.01,
        "platform_timeout_s": 5,
        "youtube_oauth_token": "ya29.test-oauth",
        "reddit_refresh_token": "-refreshtest",
        "login_max_failures": 5,
        **inbox,
    }
    return settings.model_copy(
        update={"indices": type(settings.indices)(**indices), "inbox": type(settings.inbox)(**options)}
    )


@pytest.fixture
def inbox_settings(settings: Settings) -> Settings:
    seeded = inbox_settings_for(settings)
    index_mentions(seeded, seed_docs())
    return seeded


@dataclass
class Call:
    method: str
    path: str
    args: dict[str, str]
    form: dict[str, str]
    json: Any
    headers: dict[str, str]


@dataclass
class RawAnswer:
    body: bytes
    content_type: str


@dataclass
class PlatformServer:
    """The four platforms' write endpoints on one pytest-httpserver, answering recorded-shape fixtures.

    ``add(method, path, fixture)`` queues an answer; queued answers are served in order and the last
    one stays. Every request is kept in ``calls`` (method, path, query, form, JSON body, headers).
    """

    server: Any
    routes: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    def add(self, method: str, path: str, fixture: str | None, status: int = 200) -> PlatformServer:
        body: Any = None
        if fixture:
            body = json.loads((FIXTURES / fixture).read_text(encoding="utf-8"))
            if isinstance(body, dict) and set(body) >= {"status", "body"}:
                status, body = body["status"], body["body"]
        self.routes.setdefault((method, path), []).append((status, body))
        return self

    def add_raw(self, method: str, path: str, body: bytes, content_type: str, status: int = 200) -> PlatformServer:
        """Queue an answer that is not a recorded JSON fixture (an HTML error page answered with 200…)."""
        self.routes.setdefault((method, path), []).append((status, RawAnswer(body, content_type)))
        return self

    def handle(self, request: Any) -> Any:
        from werkzeug import Response

        body = None
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
        self.calls.append(
            Call(request.method, request.path, dict(request.args), dict(request.form), body, dict(request.headers))
        )
        answers = self.routes.get((request.method, request.path))
        if not answers:
            return Response(
                json.dumps({"error": {"message": f"no fixture for {request.method} {request.path}"}}),
                404,
                content_type="application/json",
            )
        status, payload = answers.pop(0) if len(answers) > 1 else answers[0]
        if payload is None:
            return Response(b"", status)
        if isinstance(payload, RawAnswer):
            return Response(payload.body, status, content_type=payload.content_type)
        return Response(json.dumps(payload), status, content_type="application/json; charset=UTF-8")

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def connector_settings(self) -> ConnectorSettings:
        url = self.server.url_for
        return ConnectorSettings(
            facebook=FacebookSettings(
                base_url=url("/v21.0"), page_id="104857600123456", page_token=SecretStr("EAAGpage")
            ),
            instagram=InstagramSettings(
                base_url=url("/v21.0"), user_id="17841400000000000", access_token=SecretStr("IGQVtoken")
            ),
            youtube=YouTubeSettings(base_url=url("/youtube/v3"), api_key=SecretStr("AIzaKey")),
            reddit=RedditSettings(
                base_url=url("/reddit"),
                token_url=url("/reddit/api/v1/access_token"),
                client_id="clientid",
                client_secret=SecretStr("clientsecret"),
            ),
        )


@pytest.fixture
def platforms(httpserver: Any) -> PlatformServer:
    return PlatformServer(httpserver)


def add_user(settings: Settings, name: str, role: str, password: str = PASSWORD) -> None:
    store = Store(settings)
    store.ensure()
    store.put_user(name, role, hash_password(password))


@pytest.fixture
def users(inbox_settings: Settings) -> dict[str, str]:
    for name, role in (("claire", "admin"), ("mo", "moderator"), ("vic", "viewer")):
        add_user(inbox_settings, name, role)
    return {"admin": "claire", "moderator": "mo", "viewer": "vic"}


class LiveServer:
    """The inbox under uvicorn in a thread, on a free port (what `ecoute inbox serve` runs)."""

    def __init__(self, app: Any):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the inbox did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def browser():
    """Playwright driving the system Chromium (never `playwright install`: it would download one)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not executable:
        pytest.skip("no Chromium: infra/setup.sh --browser installs it")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"inbox-{name}.png"), full_page=True)
