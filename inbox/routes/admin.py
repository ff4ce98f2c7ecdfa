"""The admin's routes: saved replies (add, edit, delete) and rules (add, edit, delete, dry run,
enable after the dry run, apply). A new or edited rule starts disabled and opens on its dry run:
it acts only once someone saw what it would have done and enabled it.

Every POST reads its form on the event loop, then does its work (Elasticsearch, the platforms) in
the worker pool."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from inbox import actions, metrics, rules
from inbox.strings import LANGUAGES, translator
from inbox.web import Web

REPLY_LANGUAGES = (*LANGUAGES, "es", "de", "it", "pt")
MAX_APPLY_HOURS = 30 * 24  # what the rules page offers at most: a month back


def add_routes(app: FastAPI, web: Web) -> None:
    settings, services = web.settings, web.services
    page, flash, lang_of = web.page, web.flash, web.lang_of
    current_user, require, form_with_csrf = web.current_user, web.require, web.form_with_csrf

    def rule_or_404(rule_id: str) -> dict[str, Any]:
        rule = services.store.get(settings.indices.inbox_rules, rule_id)
        if not rule:
            raise HTTPException(404, "rule_unknown")
        return rule

    def reply_or_404(reply_id: str) -> dict[str, Any]:
        reply = services.store.get(settings.indices.inbox_replies, reply_id)
        if not reply:
            raise HTTPException(404, "reply_unknown")
        return reply

    def rules_page(request: Request, **context: Any) -> HTMLResponse:
        listed = services.store.rules()
        context.setdefault("dry", None)
        return page(
            request,
            "rules.html",
            rules=listed,
            counts=rules.rule_counts(services, [r["id"] for r in listed]),
            teammates=services.store.usernames(),
            categories=rules.CATEGORIES,
            **context,
        )

    # -- saved replies (admin) ------------------------------------------------------------
    @app.post("/replies")
    async def save_reply(request: Request, user: dict = Depends(require("admin"))) -> Response:
        form = await form_with_csrf(request)
        title, text, lang = (str(form.get(k) or "").strip() for k in ("title", "text", "lang"))
        if not (title and text and lang in REPLY_LANGUAGES):
            raise HTTPException(400, "reply_incomplete")
        return await run_in_threadpool(store_reply, request, user, title, text, lang, str(form.get("id") or ""))

    def store_reply(
        request: Request, user: dict[str, Any], title: str, text: str, lang: str, previous: str
    ) -> Response:
        old = services.store.get(settings.indices.inbox_replies, previous) if previous else None
        reply_id = previous if old else f"{lang}:{title}"  # an edit keeps its id
        services.store.put(
            settings.indices.inbox_replies,
            reply_id,
            {
                "id": reply_id,
                "title": title,
                "lang": lang,
                "text": text,
                "created_by": (old or {}).get("created_by", user["username"]),
                "created_at": (old or {}).get("created_at", metrics.now_iso()),
                "updated_by": user["username"],
                "updated_at": metrics.now_iso(),
            },
        )
        flash(request, "ok", translator(lang_of(request))("reply_saved", title=title))
        return RedirectResponse("/replies", status_code=303)

    @app.post("/replies/{reply_id:path}/delete")
    async def delete_reply(request: Request, reply_id: str, user: dict = Depends(require("admin"))) -> Response:
        await form_with_csrf(request)
        return await run_in_threadpool(remove_reply, request, reply_id)

    def remove_reply(request: Request, reply_id: str) -> Response:
        reply = reply_or_404(reply_id)
        services.store.delete(settings.indices.inbox_replies, reply_id)
        flash(request, "ok", translator(lang_of(request))("reply_deleted", title=reply["title"]))
        return RedirectResponse("/replies", status_code=303)

    # -- rules (admin; any role may look at a dry run) --------------------------------------
    @app.post("/rules")
    async def add_rule(request: Request, user: dict = Depends(require("admin"))) -> Response:
        form = await form_with_csrf(request)
        try:
            rule = rules.rule_from_form(form, user["username"])
        except ValueError as exc:
            raise HTTPException(400, exc.args if len(exc.args) == 2 else str(exc)) from None
        await run_in_threadpool(save_and_dry_run, rule, user)
        return RedirectResponse(f"/rules/{quote(rule['id'], safe='')}/dry-run?new=1", status_code=303)

    def save_and_dry_run(rule: dict[str, Any], user: dict[str, Any]) -> None:
        """Store the rule (disabled) and record its dry run: the page it opens on shows that run."""
        services.store.put(settings.indices.inbox_rules, rule["id"], rule)
        rules.dry_run(services, rule, who=user["username"])

    @app.get("/rules/{rule_id}/edit", response_class=HTMLResponse)
    def edit_rule_page(request: Request, rule_id: str, user: dict = Depends(require("admin"))) -> HTMLResponse:
        return rules_page(request, editing=rule_or_404(rule_id))

    @app.post("/rules/{rule_id}")
    async def edit_rule(request: Request, rule_id: str, user: dict = Depends(require("admin"))) -> Response:
        form = await form_with_csrf(request)
        try:
            rule = rules.rule_from_form(form, user["username"])
        except ValueError as exc:
            raise HTTPException(400, exc.args if len(exc.args) == 2 else str(exc)) from None
        return await run_in_threadpool(replace_rule, rule_id, user, rule)

    def replace_rule(rule_id: str, user: dict[str, Any], rule: dict[str, Any]) -> Response:
        old = rule_or_404(rule_id)
        # Same id (its counts and history stay), disabled again until its new dry run was seen.
        rule.update(
            {
                "id": rule_id,
                "created_by": old.get("created_by"),
                "created_at": old.get("created_at"),
                "updated_by": user["username"],
                "updated_at": metrics.now_iso(),
                "enabled": False,
            }
        )
        save_and_dry_run(rule, user)
        return RedirectResponse(f"/rules/{quote(rule_id, safe='')}/dry-run?new=1", status_code=303)

    @app.post("/rules/{rule_id}/delete")
    async def delete_rule(request: Request, rule_id: str, user: dict = Depends(require("admin"))) -> Response:
        await form_with_csrf(request)
        return await run_in_threadpool(remove_rule, request, rule_id, user)

    def remove_rule(request: Request, rule_id: str, user: dict[str, Any]) -> Response:
        rule = rule_or_404(rule_id)
        services.store.delete(settings.indices.inbox_rules, rule_id)
        services.store.audit(
            {
                "kind": "rule",
                "action": "delete_rule",
                "status": "done",
                "rule_id": rule_id,
                "who": user["username"],
                "text": rule.get("name"),
            }
        )
        flash(request, "ok", translator(lang_of(request))("rule_deleted", name=rule.get("name")))
        return RedirectResponse("/rules", status_code=303)

    @app.get("/rules/{rule_id}/dry-run", response_class=HTMLResponse)
    def dry_run_page(request: Request, rule_id: str, new: str = "", user: dict = Depends(current_user)) -> HTMLResponse:
        """What the rule would have done on the last 30 days: a GET writes nothing (reloading shows it
        again); the POSTs that lead here recorded the run."""
        rule = rule_or_404(rule_id)
        result = rules.dry_run(services, rule, who=user["username"], record=False)
        actions.log_access(
            services, user, request.url.path, [m["author_id"] for m in result["sample"] if m.get("author_id")]
        )
        return rules_page(request, dry=result, dry_rule=rule, new=bool(new))

    @app.post("/rules/{rule_id}/dry-run")
    async def dry_run(request: Request, rule_id: str, user: dict = Depends(current_user)) -> Response:
        await form_with_csrf(request)  # a dry run changes nothing: any role may run one
        await run_in_threadpool(lambda: rules.dry_run(services, rule_or_404(rule_id), who=user["username"]))
        return RedirectResponse(f"/rules/{quote(rule_id, safe='')}/dry-run", status_code=303)

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
        return await run_in_threadpool(toggle, request, rule_id)

    def toggle(request: Request, rule_id: str) -> Response:
        rule = rule_or_404(rule_id)
        enabled = not rule.get("enabled")
        services.store.update(settings.indices.inbox_rules, rule_id, {"enabled": enabled})
        t = translator(lang_of(request))
        flash(request, "ok", t("rule_enabled" if enabled else "rule_disabled", name=rule.get("name")))
        return RedirectResponse("/rules", status_code=303)


def _hours(value: Any) -> int:
    """The apply form's ``hours`` (default 24); 400 with the reason when it is not 1..720."""
    text = str(value or "24").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or not 1 <= int(text) <= MAX_APPLY_HOURS:
        raise HTTPException(
            400, ("hours_invalid", f"hours must be a whole number from 1 to {MAX_APPLY_HOURS}, got {text[:40]!r}")
        )
    return int(text)
