"""Login and the pages people read: queues, threads, activity, stats, rules, saved replies, and the
verdict links of alert emails."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ecoute.feedback import SENTIMENTS
from ecoute.views.ranking import PAGE_SIZE
from inbox import actions, metrics, rules, views
from inbox.actions import ActionRefused
from inbox.auth import new_csrf_token, verify_password
from inbox.display import PSEUDONYM_ID
from inbox.routes.admin import REPLY_LANGUAGES
from inbox.saved_replies import render_reply
from inbox.strings import translator
from inbox.web import Web, known_queue, period

log = logging.getLogger(__name__)
MAX_USERNAME = 150  # longer names exist nowhere: not looked up
MAX_PAGE = 100_000


def _safe_next(target: Any) -> str:
    """Only same-site paths after login (no open redirect)."""
    target = str(target or "/")
    return target if target.startswith("/") and not target.startswith("//") else "/"


def add_routes(app: FastAPI, web: Web) -> None:
    settings, services, limiter = web.settings, web.services, web.limiter
    page, lang_of, current_user, form_with_csrf = web.page, web.lang_of, web.current_user, web.form_with_csrf
    page_of = web.page

    # -- health (the deployment's check; public, shows nothing) --------------------------------
    @app.get("/healthz")
    def healthz() -> JSONResponse:
        """200 when the inbox answers and reaches Elasticsearch, 503 otherwise."""
        try:
            reachable = bool(services.store.client.ping())
        except Exception:  # unreachable, refused, timed out: all mean "not healthy"
            reachable = False
        return JSONResponse(
            {"status": "ok" if reachable else "elasticsearch unreachable"}, status_code=200 if reachable else 503
        )

    # -- login ------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", next=_safe_next(next))

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(log_in, request, form)  # argon2 and Elasticsearch: off the event loop

    def log_in(request: Request, form: dict[str, Any]) -> Response:
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        address = web.client_address(request)
        t = translator(lang_of(request))
        wait = limiter.blocked(username, address)
        if wait:
            return page(
                request,
                "login.html",
                status_code=429,
                next=_safe_next(form.get("next")),
                error=t("login_blocked", minutes=max(1, round(wait / 60))),
            )
        user = services.store.user(username) if 0 < len(username) <= MAX_USERNAME else None
        if not verify_password((user or {}).get("password_hash"), password) or user is None:
            limiter.failed(username, address)
            log.warning("inbox: failed login for %r from %s", username[:80], address)
            return page(
                request, "login.html", status_code=401, next=_safe_next(form.get("next")), error=t("login_failed")
            )
        limiter.succeeded(username, address)
        lang = request.session.get("lang")
        session_id = services.store.open_session(user, settings.inbox.session_max_age_s, address)
        request.session.clear()  # a new session (and CSRF token) at login: no fixation
        request.session.update(
            {"user": {"username": user["username"], "role": user["role"]}, "sid": session_id, "csrf": new_csrf_token()}
        )
        if lang:
            request.session["lang"] = lang
        return RedirectResponse(_safe_next(form.get("next")), status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await form_with_csrf(request)
        await run_in_threadpool(services.store.close_session, request.session.get("sid"))
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- pages ------------------------------------------------------------------------------
    @app.get("/")
    def home(user: dict = Depends(current_user)) -> Response:
        return RedirectResponse("/queues/answer", status_code=303)

    @app.get("/queues/{name}", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        name: str,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
        user: dict = Depends(current_user),
    ) -> HTMLResponse:
        known_queue(name)
        filters = views.Filters.parse(request.query_params)
        result = views.queue(
            services, name, filters, page=page, page_size=PAGE_SIZE, lang=lang_of(request), user=user["username"]
        )
        rows = result.items
        actions.log_access(services, user, request.url.path, [r["author_id"] for r in rows if r.get("author_id")])
        welcome_day = (filters.day or views.latest_day(services)) if name == "welcome" else None
        author_shown = filters.author or ""
        if author_shown and (PSEUDONYM_ID.match(author_shown) or any(r.get("author_id") == author_shown for r in rows)):
            author_shown = web.display(request).person({"author_id": author_shown})  # a name, never the hash
        return page_of(
            request,
            "queue.html",
            queue=name,
            rows=rows,
            total=result.total,
            page=result.page,
            page_number=result.page,
            pages=result.pages,
            per_page=result.page_size,
            sections=result.sections,
            filters=filters,
            facets=views.facets(services),
            query=urlencode(filters.as_query()),
            welcome_day=welcome_day,
            saved=services.store.saved_replies(),
            teammates=services.store.usernames(),
            author_shown=author_shown,
        )

    @app.get("/threads/{mention_id:path}/warm")
    def warm_thread(request: Request, mention_id: str, user: dict = Depends(current_user)) -> Response:
        """(Declared before the thread page, whose id may hold slashes.) The queue's cards ask this
        when the pointer or the keyboard rests on them (inbox.js)."""
        views.warm_thread(services, mention_id)
        return Response(status_code=204)

    @app.get("/threads/{mention_id:path}", response_class=HTMLResponse)
    def thread_page(request: Request, mention_id: str, user: dict = Depends(current_user)) -> HTMLResponse:
        data = web.thread(request, user, mention_id)
        ids = [mention_id, *(item["id"] for item in data["items"])]
        records = services.store.audit_records(
            {"terms": {"mention_id": sorted(set(ids))}},
            {"terms": {"kind": ["action", "correction", "forward"]}},
            size=500,
        )
        history = [
            r for r in records if r.get("mention_id") == mention_id and r.get("kind") in ("action", "correction")
        ]
        lang = data["focus"].get("lang") or lang_of(request)
        saved = services.store.saved_replies(lang) or services.store.saved_replies()
        return page(
            request,
            "thread.html",
            data=data,
            history=history,
            saved=saved,
            teammates=services.store.usernames(),
            sentiments=SENTIMENTS,
            hidden=views.is_hidden(history),
            sent=views.sent_replies(records, ids),
            forwards=[r for r in records if r.get("kind") == "forward" and r.get("mention_id") == mention_id],
        )

    @app.get("/activity", response_class=HTMLResponse)
    def activity_page(request: Request, user: dict = Depends(current_user)) -> HTMLResponse:
        records = services.store.audit_records(
            {"terms": {"kind": ["action", "correction", "rule", "forward"]}}, size=200
        )
        open_actions = [r for r in records if r.get("kind") == "action" and r.get("status") in ("failed", "pending")]
        about = views.mentions_about([r["mention_id"] for r in records if r.get("mention_id")], services)
        actions.log_access(
            services, user, request.url.path, sorted({a["author_id"] for a in about.values() if a.get("author_id")})
        )
        rule_names = {r["id"]: r.get("name") for r in services.store.rules()}
        return page(
            request, "activity.html", records=records, open_actions=open_actions, about=about, rule_names=rule_names
        )

    @app.get("/stats", response_class=HTMLResponse)
    def stats_page(request: Request, user: dict = Depends(current_user)) -> HTMLResponse:
        start, end = period(request, services)
        figures = metrics.response_times(services, start, end)
        return page(request, "stats.html", figures=figures, start=start, end=end)

    @app.get("/rules", response_class=HTMLResponse)
    def rules_page(request: Request, user: dict = Depends(current_user)) -> HTMLResponse:
        listed = services.store.rules()
        counts = rules.rule_counts(services, [r["id"] for r in listed])
        rules.warm_dry_run_window(services)  # a dry run is what people do here next
        return page(
            request,
            "rules.html",
            rules=listed,
            counts=counts,
            teammates=services.store.usernames(),
            categories=rules.CATEGORIES,
            dry=None,
        )

    @app.get("/replies", response_class=HTMLResponse)
    def replies_page(
        request: Request, edit: Annotated[str, Query(max_length=200)] = "", user: dict = Depends(current_user)
    ) -> HTMLResponse:
        editing = services.store.get(settings.indices.inbox_replies, edit) if edit else None
        return page(
            request,
            "replies.html",
            replies=services.store.saved_replies(),
            editing=editing,
            reply_languages=REPLY_LANGUAGES,
        )

    @app.get("/mentions/{mention_id:path}/reply-text", response_class=HTMLResponse)
    def reply_text(
        request: Request, mention_id: str, saved: str = "", user: dict = Depends(current_user)
    ) -> HTMLResponse:
        """The reply box filled with a saved reply, placeholders replaced (htmx swaps it in)."""
        text = ""
        reply = services.store.get(settings.indices.inbox_replies, saved) if saved else None
        if reply:
            try:
                mention = services.mention(mention_id)
            except ActionRefused as exc:
                raise HTTPException(404, str(exc)) from None
            blank = translator(lang_of(request))("reply_author_blank")
            text = render_reply(reply["text"], mention, settings, missing_author=blank, display=web.display(request))
        return page(request, "_reply_box.html", text=text)

    # -- alert-email verdict links ----------------------------------------------------------
    @app.get("/alerts/feedback", response_class=HTMLResponse)
    def alert_feedback(request: Request, t: str = "") -> HTMLResponse:
        """The "useful / not useful" link of alert emails: a confirmation page, it records nothing
        (mail scanners open every link). Managers who get alerts may have no inbox account, so
        the signed token is the credential; its button POSTs the token back."""
        from jobs.alerts.verdicts import verdict_prompt

        try:
            prompt = verdict_prompt(settings, t)
        except ValueError as exc:
            return _feedback_page(request, 400, f"{translator(lang_of(request))('feedback_invalid')} ({exc})")
        return page(request, "feedback.html", token=t, prompt=prompt)

    @app.post("/alerts/feedback", response_class=HTMLResponse)
    async def alert_feedback_record(request: Request) -> HTMLResponse:
        """Record the verdict of the token in the form: one per alert and manager; a different
        verdict replaces the stored one only when the form asks for the change."""
        from jobs.alerts.verdicts import VerdictConflict, record_verdict, verdict_prompt

        form = await request.form()
        token, tr = str(form.get("t") or ""), translator(lang_of(request))
        try:
            recorded = record_verdict(settings, token, change=form.get("change") == "1")
        except VerdictConflict:
            return page(request, "feedback.html", status_code=409, token=token, prompt=verdict_prompt(settings, token))
        except ValueError as exc:
            return _feedback_page(request, 400, f"{tr('feedback_invalid')} ({exc})")
        return _feedback_page(
            request, 200, tr(f"feedback_{recorded['outcome']}", verdict=tr(f"verdict_{recorded['verdict']}"))
        )

    def _feedback_page(request: Request, status: int, message: str) -> HTMLResponse:
        return page(request, "feedback.html", status_code=status, ok=status == 200, message=message, prompt=None)
