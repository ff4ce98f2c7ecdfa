"""The admin's routes: saved replies and rules (add, dry run, apply, enable/disable)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from inbox import actions, metrics, rules
from inbox.auth import csrf_matches
from inbox.strings import LANGUAGES, translator
from inbox.web import CsrfRefused, Web


def add_routes(app: FastAPI, web: Web) -> None:
    settings, services = web.settings, web.services
    page, flash, back, lang_of = web.page, web.flash, web.back, web.lang_of
    current_user, require, form_with_csrf = web.current_user, web.require, web.form_with_csrf

    def rule_or_404(rule_id: str) -> dict[str, Any]:
        rule = services.store.get(settings.indices.inbox_rules, rule_id)
        if not rule:
            raise HTTPException(404, f"no rule {rule_id}")
        return rule

    # -- saved replies and rules (admin): forms read on the event loop, the work in the worker pool --
    @app.post("/replies")
    async def add_reply(request: Request, user: dict = Depends(require("admin"))) -> Response:
        form = await form_with_csrf(request)
        title, text, lang = (str(form.get(k) or "").strip() for k in ("title", "text", "lang"))
        if not (title and text and lang in (*LANGUAGES, "es", "de", "it")):
            raise HTTPException(400, "a saved reply needs a title, a text and a language")
        reply_id = f"{lang}:{title}"
        await run_in_threadpool(services.store.put, settings.indices.inbox_replies, reply_id, {
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
        await run_in_threadpool(services.store.put, settings.indices.inbox_rules, rule["id"], rule)
        return RedirectResponse("/rules", status_code=303)

    @app.post("/rules/{rule_id}/dry-run", response_class=HTMLResponse)
    async def dry_run(request: Request, rule_id: str, user: dict = Depends(current_user)) -> HTMLResponse:
        await form_with_csrf(request)  # a dry run changes nothing: any role may run one
        return await run_in_threadpool(dry_run_page, request, rule_id, user)

    def dry_run_page(request: Request, rule_id: str, user: dict[str, Any]) -> HTMLResponse:
        rule = rule_or_404(rule_id)
        result = rules.dry_run(services, rule, who=user["username"])
        actions.log_access(services, user, request.url.path, [m["author_id"] for m in result["sample"] if m.get("author_id")])
        listed = services.store.rules()
        return page(request, "rules.html", rules=listed, counts=rules.rule_counts(services, [r["id"] for r in listed]),
                    teammates=services.store.usernames(), categories=rules.CATEGORIES, dry=result, dry_rule=rule)  # fmt: skip

    @app.post("/rules/{rule_id}/apply")
    async def apply_rule(request: Request, rule_id: str, user: dict = Depends(require("admin"))) -> Response:
        form = await form_with_csrf(request)
        hours = _hours(form.get("hours"))
        return await run_in_threadpool(apply, request, rule_id, user, hours)

    def apply(request: Request, rule_id: str, user: dict[str, Any], hours: int) -> Response:
        rule = rule_or_404(rule_id)
        result = rules.apply(services, rule, user, hours=hours)
        flash(request, "ok", translator(lang_of(request))("rule_applied", n=result["matched"], failed=result["failed"]))
        return RedirectResponse("/rules", status_code=303)

    @app.post("/rules/{rule_id}/toggle")
    async def toggle_rule(request: Request, rule_id: str, user: dict = Depends(require("admin"))) -> Response:
        await form_with_csrf(request)
        await run_in_threadpool(toggle, rule_id)
        return RedirectResponse("/rules", status_code=303)

    def toggle(rule_id: str) -> None:
        rule = rule_or_404(rule_id)
        services.store.update(settings.indices.inbox_rules, rule_id, {"enabled": not rule.get("enabled")})


MAX_APPLY_HOURS = 30 * 24  # what the rules page offers at most: a month back


def _hours(value: Any) -> int:
    """The apply form's ``hours`` (default 24); 400 with the reason when it is not 1..720."""
    text = str(value or "24").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or not 1 <= int(text) <= MAX_APPLY_HOURS:
        raise HTTPException(400, f"hours must be a whole number from 1 to {MAX_APPLY_HOURS}, got {text[:40]!r}")
    return int(text)
