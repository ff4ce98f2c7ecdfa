"""What every route group of the inbox shares: services, the page renderer and the session helpers.

Security: every page and API needs a session (pages redirect to /login, /api/ answers 401, see the
handlers in inbox/app.py); every POST carries the session's CSRF token (form field ``csrf_token``
or header ``X-CSRF-Token``, which htmx sends); each action checks the user's role
(viewer < moderator < admin).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from ecoute.settings import Settings
from inbox import actions, views
from inbox.actions import ActionRefused, Services
from inbox.auth import LoginLimiter, client_address, csrf_matches, new_csrf_token, role_allows
from inbox.display import Display
from inbox.strings import LANGUAGES, translator

LANG_COOKIE = "ecoute_inbox_lang"


def _here(request: Request) -> str:
    """This page's path and query without ``lang`` (the language switch links to it)."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    return request.url.path + (f"?{query}&" if query else "?")


class Form(dict[str, Any]):
    """A posted form: its last value per name, and ``getlist(name)`` for the names sent many times."""

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        self._lists = {key: [str(v) for v in data.getlist(key)] for key in data}

    def getlist(self, key: str) -> list[str]:
        return list(self._lists.get(key, []))


class NotLoggedIn(Exception):
    pass


class CsrfRefused(Exception):
    pass


class Web:
    """The plumbing of the routes: one per app, handed to each route group's ``add_routes``."""

    def __init__(self, settings: Settings, services: Services, templates: Jinja2Templates, limiter: LoginLimiter):
        self.settings = settings
        self.services = services
        self.templates = templates
        self.limiter = limiter

    def lang_of(self, request: Request) -> str:
        """The interface language: ``?lang=`` (remembered in the session and a cookie), else the
        remembered one, else the setting. Never the comment-language filter (``comment_lang``)."""
        wanted = request.query_params.get("lang")
        if wanted in LANGUAGES:
            request.session["lang"] = wanted
            return wanted
        remembered = request.session.get("lang") or request.cookies.get(LANG_COOKIE)
        return remembered if remembered in LANGUAGES else self.settings.inbox.language

    def csrf_token(self, request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = new_csrf_token()
        return request.session["csrf"]

    def display(self, request: Request) -> Display:
        return Display(self.settings, self.lang_of(request))

    def page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        lang = self.lang_of(request)
        user = request.session.get("user")
        response = self.templates.TemplateResponse(
            request,
            template,
            status_code=status_code,
            context={
                "t": translator(lang),
                "lang": lang,
                "d": Display(self.settings, lang),
                "user": user,
                "csrf": self.csrf_token(request),
                "can_act": role_allows((user or {}).get("role"), "moderator"),
                "is_admin": role_allows((user or {}).get("role"), "admin"),
                "flash": request.session.pop("flash", []),
                "names_shown": self.settings.store_author_names,
                "app_url": self.settings.inbox.url,
                "here": _here(request),
                **context,
            },
        )
        if request.query_params.get("lang") in LANGUAGES:  # kept for the next visits and logins
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=365 * 86400,
                httponly=True,
                samesite="lax",
                secure=self.settings.inbox.secure_cookies,
            )
        return response

    def flash(self, request: Request, kind: str, message: str) -> None:
        request.session.setdefault("flash", []).append({"kind": kind, "text": message})

    def current_user(self, request: Request) -> dict[str, Any]:
        """The user of the request's server-side session (a sync dependency: FastAPI runs it in its
        worker pool). Logged out, expired, disabled or password changed since: not logged in."""
        session_user = request.session.get("user")
        if not session_user:
            raise NotLoggedIn()
        user = self.services.store.session_user(request.session.get("sid"))  # a changed role counts now
        if not user or user["username"] != session_user.get("username"):
            request.session.clear()
            raise NotLoggedIn()
        return {"username": user["username"], "role": user["role"]}

    def client_address(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"), self.settings.inbox.trusted_proxies)

    def require(self, role: str) -> Callable[..., dict[str, Any]]:
        def check(request: Request, user: dict[str, Any] = Depends(self.current_user)) -> dict[str, Any]:
            if not role_allows(user["role"], role):
                raise HTTPException(403, f"the {role} role is needed for this")
            return user

        return check

    async def form_with_csrf(self, request: Request) -> Form:
        form = Form(await request.form())
        if not csrf_matches(request.session.get("csrf"), form.get("csrf_token") or request.headers.get("x-csrf-token")):
            raise CsrfRefused()
        return form

    def thread(self, request: Request, user: dict[str, Any], mention_id: str) -> dict[str, Any]:
        """The thread of a mention (404 when unknown); the read is logged with the authors it shows."""
        try:
            data = views.thread(self.services, mention_id)
        except ActionRefused as exc:
            raise HTTPException(404, str(exc)) from None
        actions.log_access(self.services, user, request.url.path, data["author_ids"])
        return data

    def back(self, request: Request, fallback: str = "/") -> RedirectResponse:
        target = request.headers.get("referer") or fallback
        if not target.startswith(str(request.base_url)) and not target.startswith("/"):
            target = fallback
        return RedirectResponse(target, status_code=303)


def known_queue(name: str) -> str:
    """``name`` when it is a queue, else 404."""
    if name not in views.QUEUES:
        raise HTTPException(404, f"no queue {name}")
    return name


def period(request: Request, services: Services) -> tuple[date, date]:
    """The period of the stats page and API: the filters' dates, else the month of the latest day."""
    filters = views.Filters.parse(request.query_params)
    end = filters.end or views.latest_day(services) or datetime.now(UTC).date()
    start = filters.start or date(end.year, end.month, 1)
    return start, end
