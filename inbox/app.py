"""The inbox web app (FastAPI + Jinja2 templates + htmx, server-rendered, no build step).

Security: every page and API needs a session (pages redirect to /login, /api/ answers 401); sessions
are server side (inbox/store.py), their id in a signed, HttpOnly, SameSite=Lax cookie; every POST
carries the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``, which htmx
sends); each action checks the user's role (viewer < moderator < admin); failed logins are rate
limited per (name, address) and per address (inbox/auth.py); bad parameters are 400 naming them.

This module builds the app (session, security headers, error pages); the routes are in groups under
inbox/routes/ (pages, moderator actions, admin, JSON API), their shared plumbing in inbox/web.py.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from connectors.config import ConnectorSettings
from ecoute.settings import Settings
from inbox.actions import Services
from inbox.auth import LoginLimiter
from inbox.display import register_filters
from inbox.routes import actions, admin, api, learning, pages, team
from inbox.strings import translator
from inbox.views import BadFilter
from inbox.web import CsrfRefused, NotLoggedIn, Web

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


def create_app(settings: Settings, connectors: ConnectorSettings | None = None) -> FastAPI:
    services = Services.create(settings, connectors)
    services.store.ensure()
    inbox_settings = settings.inbox
    secret = inbox_settings.session_secret.get_secret_value() if inbox_settings.session_secret else None
    if not secret:
        log.warning("ECOUTE_INBOX__SESSION_SECRET is not set: sessions end when the server restarts")
        secret = secrets.token_urlsafe(32)
    limiter = LoginLimiter(inbox_settings.login_max_failures, inbox_settings.login_window_s)

    app = FastAPI(title="Écoute inbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="ecoute_inbox",
        max_age=inbox_settings.session_max_age_s,
        same_site="lax",
        https_only=inbox_settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        began = time.perf_counter()
        response = await call_next(request)
        # The server's own time, for the browser's developer tools and tests/benchmarks/bench_inbox.py.
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - began) * 1000:.1f}"
        # No framing (one-click actions must not be clickjacked), no MIME sniffing, scripts from here only.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages carry personal data
        return response

    templates = Jinja2Templates(directory=HERE / "templates")
    register_filters(templates.env)
    # Ids go into paths encoded (a native id may hold / ? # %); the routes take the decoded id whole.
    templates.env.filters["idpath"] = lambda value: quote(str(value), safe=":@")
    app.state.services = services
    web = Web(settings, services, templates, limiter)
    page, lang_of = web.page, web.lang_of

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "login required"}, status_code=401)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "missing or wrong CSRF token"}, status_code=403)
        return page(request, "error.html", status_code=403, message=translator(lang_of(request))("csrf_refused"))

    @app.exception_handler(BadFilter)
    async def bad_filter(request: Request, exc: BadFilter) -> Response:
        return await http_error(request, HTTPException(400, str(exc)))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        """A parameter of the wrong type or range: 400 naming it (FastAPI's default is a 422 dump)."""
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error.get('loc', ())[1:]) or 'request'}: {error.get('msg')}"
            for error in exc.errors()[:5]
        )
        return await http_error(request, HTTPException(400, problems or "bad request"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Errors in the page's language: a known reason in words, else what the status means (an
        unknown page, a form address opened directly…), never a raw JSON body on a page. A reason
        that is not a known code (a refused parameter, named) is shown beneath, as typed."""
        # A reason is a code of the strings ("rule_unknown"), free text naming what was refused, or
        # both: (code, text) — the page says the code in words and shows the text beneath.
        detail: Any = exc.detail  # typed str, but a route may raise (code, text)
        code, text = detail if isinstance(detail, tuple) else (str(detail or ""), "")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": text or code}, status_code=exc.status_code)
        t = translator(lang_of(request))
        known = t(f"error_{code}") != f"error_{code}"
        message = t(f"error_{code}") if known else t(f"http_{exc.status_code}")
        if message == f"http_{exc.status_code}":
            message = t("http_other")
        shown = text or ("" if known or exc.status_code != 400 else code)
        return page(
            request, "error.html", status_code=exc.status_code, message=message, status=exc.status_code, detail=shown
        )

    for group in (pages, actions, team, admin, api, learning):
        group.add_routes(app, web)
    return app
