"""The inbox web app (FastAPI + Jinja2 templates + htmx, server-rendered, no build step).

Security: every page and API needs a session (pages redirect to /login, /api/ answers 401); the
session cookie is signed, HttpOnly and SameSite=Lax; every POST carries the session's CSRF token
(form field ``csrf_token`` or header ``X-CSRF-Token``, which htmx sends); each action checks the
user's role (viewer < moderator < admin); failed logins are rate limited per name and per address.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from connectors.config import ConnectorSettings
from ecoute.feedback import SENTIMENTS, InvalidCorrection
from ecoute.settings import Settings
from ecoute.views.queues import UnknownItems, mark_handled
from inbox import actions, metrics, rules, views
from inbox.actions import ActionRefused, Services
from inbox.auth import LoginLimiter, csrf_matches, new_csrf_token, role_allows, verify_password
from inbox.saved_replies import render_reply
from inbox.strings import LANGUAGES, translator

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
LABEL_FIELDS = ("sentiment", "criticism", "constructive", "toxic", "topics")
PAGE_SIZE = 50


class NotLoggedIn(Exception):
    pass


class CsrfRefused(Exception):
    pass


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
        SessionMiddleware, secret_key=secret, session_cookie="ecoute_inbox", max_age=inbox_settings.session_max_age_s,
        same_site="lax", https_only=inbox_settings.secure_cookies,
    )  # fmt: skip
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
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
    templates.env.filters["when"] = _when
    app.state.services = services

    # -- plumbing ---------------------------------------------------------------------------
    def lang_of(request: Request) -> str:
        wanted = request.query_params.get("lang")
        if wanted in LANGUAGES:
            request.session["lang"] = wanted
        return request.session.get("lang") or inbox_settings.language

    def csrf_token(request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = new_csrf_token()
        return request.session["csrf"]

    def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        lang = lang_of(request)
        user = request.session.get("user")
        return templates.TemplateResponse(
            request, template, status_code=status_code,
            context={
                "t": translator(lang), "lang": lang, "user": user, "csrf": csrf_token(request),
                "can_act": role_allows((user or {}).get("role"), "moderator"),
                "is_admin": role_allows((user or {}).get("role"), "admin"),
                "flash": request.session.pop("flash", []), "names_shown": settings.store_author_names,
                "app_url": inbox_settings.url, **context,
            },
        )  # fmt: skip

    def flash(request: Request, kind: str, message: str) -> None:
        request.session.setdefault("flash", []).append({"kind": kind, "text": message})

    def current_user(request: Request) -> dict[str, Any]:
        session_user = request.session.get("user")
        if not session_user:
            raise NotLoggedIn()
        user = services.store.user(session_user["username"])  # a removed user or changed role counts now
        if not user:
            request.session.clear()
            raise NotLoggedIn()
        return {"username": user["username"], "role": user["role"]}

    def require(role: str):
        def check(request: Request, user: dict[str, Any] = Depends(current_user)) -> dict[str, Any]:
            if not role_allows(user["role"], role):
                raise HTTPException(403, f"the {role} role is needed for this")
            return user

        return check

    async def form_with_csrf(request: Request) -> dict[str, Any]:
        form = dict(await request.form())
        if not csrf_matches(request.session.get("csrf"), form.get("csrf_token") or request.headers.get("x-csrf-token")):
            raise CsrfRefused()
        return form

    def back(request: Request, fallback: str = "/") -> RedirectResponse:
        target = request.headers.get("referer") or fallback
        if not target.startswith(str(request.base_url)) and not target.startswith("/"):
            target = fallback
        return RedirectResponse(target, status_code=303)

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

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return page(request, "error.html", status_code=exc.status_code, message=str(exc.detail))

    # -- login ------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", next=_safe_next(next))

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await form_with_csrf(request)
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        address = request.client.host if request.client else "?"
        t = translator(lang_of(request))
        keys = (f"user:{username.lower()}", f"addr:{address}")
        wait = limiter.blocked(*keys)
        if wait:
            return page(request, "login.html", status_code=429, next=_safe_next(form.get("next")),
                        error=t("login_blocked", minutes=max(1, round(wait / 60))))  # fmt: skip
        user = services.store.user(username) if username else None
        if not verify_password((user or {}).get("password_hash"), password):
            limiter.failed(*keys)
            log.warning("inbox: failed login for %r from %s", username, address)
            return page(request, "login.html", status_code=401, next=_safe_next(form.get("next")), error=t("login_failed"))
        limiter.succeeded(*keys)
        lang = request.session.get("lang")
        request.session.clear()  # a new session (and CSRF token) at login: no fixation
        request.session.update({"user": {"username": user["username"], "role": user["role"]}, "csrf": new_csrf_token()})
        if lang:
            request.session["lang"] = lang
        return RedirectResponse(_safe_next(form.get("next")), status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await form_with_csrf(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- pages ------------------------------------------------------------------------------
    @app.get("/")
    def home(user: dict = Depends(current_user)) -> Response:
        return RedirectResponse("/queues/answer", status_code=303)

    @app.get("/queues/{name}", response_class=HTMLResponse)
    def queue_page(request: Request, name: str, user: dict = Depends(current_user)) -> HTMLResponse:
        if name not in views.QUEUES:
            raise HTTPException(404, f"no queue {name}")
        filters = views.Filters.parse(request.query_params)
        rows = views.queue(services, name, filters, limit=PAGE_SIZE + 1)
        more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
        actions.log_access(services, user, request.url.path, [r["author_id"] for r in rows if r.get("author_id")])
        welcome_day = (filters.day or views.latest_day(services)) if name == "welcome" else None
        return page(
            request, "queue.html", queue=name, rows=rows, more=more, filters=filters, facets=views.facets(services),
            query=urlencode(filters.as_query()), welcome_day=welcome_day, saved=services.store.saved_replies(),
            teammates=services.store.usernames(),
        )  # fmt: skip

    @app.get("/threads/{mention_id}", response_class=HTMLResponse)
    def thread_page(request: Request, mention_id: str, user: dict = Depends(current_user)) -> HTMLResponse:
        try:
            data = views.thread(services, mention_id)
        except ActionRefused as exc:
            raise HTTPException(404, str(exc)) from None
        actions.log_access(services, user, request.url.path, data["author_ids"])
        history = services.store.audit_records({"term": {"mention_id": mention_id}}, {"term": {"kind": "action"}})
        lang = data["focus"].get("lang") or lang_of(request)
        saved = services.store.saved_replies(lang) or services.store.saved_replies()
        return page(
            request, "thread.html", data=data, history=history, saved=saved, teammates=services.store.usernames(),
            sentiments=SENTIMENTS,
        )  # fmt: skip

    @app.get("/activity", response_class=HTMLResponse)
    def activity_page(request: Request, user: dict = Depends(current_user)) -> HTMLResponse:
        records = services.store.audit_records({"terms": {"kind": ["action", "correction", "rule"]}}, size=200)
        open_actions = [r for r in records if r.get("kind") == "action" and r.get("status") in ("failed", "pending")]
        return page(request, "activity.html", records=records, open_actions=open_actions)

    @app.get("/stats", response_class=HTMLResponse)
    def stats_page(request: Request, user: dict = Depends(current_user)) -> HTMLResponse:
        start, end = _period(request, services)
        figures = metrics.response_times(services, start, end)
        return page(request, "stats.html", figures=figures, start=start, end=end)

    @app.get("/rules", response_class=HTMLResponse)
    def rules_page(request: Request, user: dict = Depends(current_user)) -> HTMLResponse:
        listed = services.store.rules()
        counts = rules.rule_counts(services, [r["id"] for r in listed])
        return page(request, "rules.html", rules=listed, counts=counts, teammates=services.store.usernames(),
                    categories=rules.CATEGORIES, dry=None)  # fmt: skip

    @app.get("/replies", response_class=HTMLResponse)
    def replies_page(request: Request, user: dict = Depends(current_user)) -> HTMLResponse:
        return page(request, "replies.html", replies=services.store.saved_replies())

    @app.get("/mentions/{mention_id}/reply-text", response_class=HTMLResponse)
    def reply_text(request: Request, mention_id: str, saved: str = "", user: dict = Depends(current_user)) -> HTMLResponse:
        """The reply box filled with a saved reply, placeholders replaced (htmx swaps it in)."""
        text = ""
        reply = services.store.get(settings.indices.inbox_replies, saved) if saved else None
        if reply:
            text = render_reply(reply["text"], services.mention(mention_id), settings)
        return page(request, "_reply_box.html", text=text)

    # -- actions (moderator) -------------------------------------------------------------
    @app.post("/mentions/{mention_id}/act/{action}")
    async def act_on_mention(
        request: Request, mention_id: str, action: str, user: dict = Depends(require("moderator"))
    ) -> Response:
        form = await form_with_csrf(request)
        t = translator(lang_of(request))
        if action not in ("reply", "hide", "unhide", "delete"):
            raise HTTPException(404, f"no action {action}")
        text = str(form.get("text") or "").strip() or None
        if action == "reply" and not text:
            flash(request, "error", t("reply_empty"))
            return back(request)
        try:
            record = actions.act(services, user, mention_id, action, text=text, reason=str(form.get("reason") or "") or None)
        except ActionRefused as exc:
            raise HTTPException(404, str(exc)) from None
        _flash_outcome(request, t, record)
        return back(request)

    @app.post("/actions/{record_id}/undo")
    async def undo_action(request: Request, record_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        t = translator(lang_of(request))
        try:
            record = actions.undo(services, user, record_id, reason=str(form.get("reason") or "") or None)
        except ActionRefused as exc:
            flash(request, "error", str(exc))
            return back(request)
        _flash_outcome(request, t, record)
        return back(request)

    @app.post("/actions/{record_id}/retry")
    async def retry_action(request: Request, record_id: str, user: dict = Depends(require("moderator"))) -> Response:
        await form_with_csrf(request)
        t = translator(lang_of(request))
        try:
            record = actions.retry(services, record_id)
        except ActionRefused as exc:
            flash(request, "error", str(exc))
            return back(request)
        _flash_outcome(request, t, record)
        return back(request)

    @app.post("/mentions/{mention_id}/labels")
    async def correct_label(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        t = translator(lang_of(request))
        field, value = str(form.get("field") or ""), str(form.get("value") or "")
        if field not in LABEL_FIELDS:
            raise HTTPException(400, f"field must be one of {', '.join(LABEL_FIELDS)}")
        parsed: Any = value
        if field in ("criticism", "constructive", "toxic"):
            parsed = value == "true"
        elif field == "topics":
            parsed = [v.strip() for v in value.split(",") if v.strip()]
        try:
            actions.correct(services, user, mention_id, {field: parsed})
        except InvalidCorrection as exc:
            raise HTTPException(400, str(exc)) from None
        except ActionRefused as exc:
            raise HTTPException(404, str(exc)) from None
        if form.get("done") == "1":  # "not toxic" from the moderation queue: corrected, and out of the queue
            mark_handled(settings, [mention_id], handled=True, client=services.store.client)
        flash(request, "ok", t("label_saved", field=t(f"label_{field}")))
        return back(request)

    @app.post("/mentions/{mention_id}/done")
    async def mark_done(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        undo = form.get("undo") == "1"
        try:
            mark_handled(settings, [mention_id], handled=not undo, client=services.store.client)
        except UnknownItems as exc:
            raise HTTPException(404, str(exc)) from None
        services.store.audit({"kind": "action", "action": "reopen" if undo else "done", "status": "done",
                              "who": user["username"], "role": user["role"], "mention_id": mention_id})  # fmt: skip
        flash(request, "ok", translator(lang_of(request))("reopened" if undo else "marked_done"))
        return back(request)

    @app.post("/mentions/{mention_id}/assign")
    async def assign(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        assignee = str(form.get("assignee") or "").strip() or None
        if assignee and assignee not in services.store.usernames():
            raise HTTPException(400, f"no teammate {assignee}")
        item = services.store.item(mention_id)
        item.update({"assigned_to": assignee, "assigned_by": user["username"], "assigned_at": metrics.now_iso()})
        services.store.save_item(item)
        services.store.audit({"kind": "action", "action": "assign", "status": "done", "who": user["username"],
                              "role": user["role"], "mention_id": mention_id, "text": assignee})  # fmt: skip
        flash(request, "ok", translator(lang_of(request))("assigned", who=assignee or "—"))
        return back(request)

    @app.post("/mentions/{mention_id}/notes")
    async def add_note(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        text = str(form.get("text") or "").strip()
        if text:
            item = services.store.item(mention_id)
            item.setdefault("notes", []).append({"who": user["username"], "at": metrics.now_iso(), "text": text[:4000]})
            services.store.save_item(item)
        return back(request)

    # -- saved replies and rules (admin) ---------------------------------------------------
    @app.post("/replies")
    async def add_reply(request: Request, user: dict = Depends(require("admin"))) -> Response:
        form = await form_with_csrf(request)
        title, text, lang = (str(form.get(k) or "").strip() for k in ("title", "text", "lang"))
        if not (title and text and lang in (*LANGUAGES, "es", "de", "it")):
            raise HTTPException(400, "a saved reply needs a title, a text and a language")
        reply_id = f"{lang}:{title}"
        services.store.put(settings.indices.inbox_replies, reply_id, {
            "id": reply_id, "title": title, "lang": lang, "text": text, "created_by": user["username"],
            "created_at": metrics.now_iso(),
        })  # fmt: skip
        return back(request, "/replies")

    @app.post("/rules")
    async def add_rule(request: Request, user: dict = Depends(require("admin"))) -> Response:
        form = await request.form()
        if not csrf_matches(request.session.get("csrf"), form.get("csrf_token")):
            raise CsrfRefused()
        try:
            rule = rules.rule_from_form(form, user["username"])
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        services.store.put(settings.indices.inbox_rules, rule["id"], rule)
        return RedirectResponse("/rules", status_code=303)

    @app.post("/rules/{rule_id}/dry-run", response_class=HTMLResponse)
    async def dry_run(request: Request, rule_id: str, user: dict = Depends(current_user)) -> HTMLResponse:
        await form_with_csrf(request)  # a dry run changes nothing: any role may run one
        rule = services.store.get(settings.indices.inbox_rules, rule_id)
        if not rule:
            raise HTTPException(404, f"no rule {rule_id}")
        result = rules.dry_run(services, rule, who=user["username"])
        actions.log_access(services, user, request.url.path, [m["author_id"] for m in result["sample"] if m.get("author_id")])
        listed = services.store.rules()
        return page(request, "rules.html", rules=listed, counts=rules.rule_counts(services, [r["id"] for r in listed]),
                    teammates=services.store.usernames(), categories=rules.CATEGORIES, dry=result, dry_rule=rule)  # fmt: skip

    @app.post("/rules/{rule_id}/apply")
    async def apply_rule(request: Request, rule_id: str, user: dict = Depends(require("admin"))) -> Response:
        form = await form_with_csrf(request)
        rule = services.store.get(settings.indices.inbox_rules, rule_id)
        if not rule:
            raise HTTPException(404, f"no rule {rule_id}")
        hours = int(form.get("hours") or 24)
        result = rules.apply(services, rule, user, hours=hours)
        flash(request, "ok", translator(lang_of(request))("rule_applied", n=result["matched"], failed=result["failed"]))
        return RedirectResponse("/rules", status_code=303)

    @app.post("/rules/{rule_id}/toggle")
    async def toggle_rule(request: Request, rule_id: str, user: dict = Depends(require("admin"))) -> Response:
        await form_with_csrf(request)
        rule = services.store.get(settings.indices.inbox_rules, rule_id)
        if not rule:
            raise HTTPException(404, f"no rule {rule_id}")
        services.store.update(settings.indices.inbox_rules, rule_id, {"enabled": not rule.get("enabled")})
        return RedirectResponse("/rules", status_code=303)

    # -- alert-email verdict links ----------------------------------------------------------
    @app.get("/alerts/feedback", response_class=HTMLResponse)
    def alert_feedback(request: Request, t: str = "") -> HTMLResponse:
        """The "useful / not useful" link of alert emails. Managers who get alerts may have no inbox
        account, so the signed token is the credential; the page shows no data, only the outcome."""
        from jobs.alert_feedback import record_verdict_from_link

        tr = translator(lang_of(request))
        try:
            record_verdict_from_link(settings, t)
        except ValueError as exc:
            return page(request, "feedback.html", status_code=400, ok=False, message=f"{tr('feedback_invalid')} ({exc})")
        return page(request, "feedback.html", ok=True, message=tr("feedback_thanks"))

    # -- JSON API (same session, read-only) ---------------------------------------------------
    @app.get("/api/queues/{name}")
    def api_queue(request: Request, name: str, limit: int = 50, user: dict = Depends(current_user)) -> JSONResponse:
        if name not in views.QUEUES:
            raise HTTPException(404, f"no queue {name}")
        rows = views.queue(services, name, views.Filters.parse(request.query_params), limit=min(max(limit, 1), 500))
        actions.log_access(services, user, request.url.path, [r["author_id"] for r in rows if r.get("author_id")])
        return JSONResponse({"queue": name, "count": len(rows), "items": _without_author_ids(rows)})

    @app.get("/api/threads/{mention_id}")
    def api_thread(request: Request, mention_id: str, user: dict = Depends(current_user)) -> JSONResponse:
        try:
            data = views.thread(services, mention_id)
        except ActionRefused as exc:
            raise HTTPException(404, str(exc)) from None
        actions.log_access(services, user, request.url.path, data["author_ids"])
        return JSONResponse({k: v for k, v in data.items() if k not in ("mood", "author_ids")})

    @app.get("/api/audit")
    def api_audit(request: Request, limit: int = 100, user: dict = Depends(current_user)) -> JSONResponse:
        records = services.store.audit_records({"terms": {"kind": ["action", "correction", "rule"]}}, size=min(limit, 1000))
        return JSONResponse({"count": len(records), "records": records})

    @app.get("/api/stats/response-times")
    def api_stats(request: Request, user: dict = Depends(current_user)) -> JSONResponse:
        start, end = _period(request, services)
        return JSONResponse(metrics.response_times(services, start, end))

    @app.get("/api/me")
    def api_me(request: Request, user: dict = Depends(current_user)) -> JSONResponse:
        return JSONResponse({**user, "csrf_token": csrf_token(request)})

    return app


def _flash_outcome(request: Request, t: Any, record: dict[str, Any]) -> None:
    kind = "ok" if record["status"] == "done" else "error"
    message = t(f"action_{record['status']}", action=t(f"act_{record['action']}"))
    if record["status"] != "done":
        message += f" — {record.get('error')}"
    undoable = record["status"] == "done" and record["action"] in ("hide", "reply")
    retryable = record["status"] in ("failed", "pending")
    if undoable or retryable:
        request.session.setdefault("flash", []).append({"kind": kind, "text": message, "record": record["id"]})
    else:
        request.session.setdefault("flash", []).append({"kind": kind, "text": message})


def _without_author_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "author_id"} for row in rows]


def _safe_next(target: Any) -> str:
    """Only same-site paths after login (no open redirect)."""
    target = str(target or "/")
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _period(request: Request, services: Services) -> tuple[date, date]:
    filters = views.Filters.parse(request.query_params)
    end = filters.end or views.latest_day(services) or datetime.now(UTC).date()
    start = filters.start or date(end.year, end.month, 1)
    return start, end


def _when(value: str | None) -> str:
    if not value:
        return ""
    moment = views.parse_time(value)
    return moment.strftime("%d/%m/%Y %H:%M")
