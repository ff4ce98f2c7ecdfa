"""The moderator's actions on a mention: reply/hide/delete (and undo, retry), labels, done, assign, notes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ecoute.feedback import InvalidCorrection
from ecoute.views.common import author_label
from ecoute.views.queues import UnknownItems, mark_handled
from inbox import actions, cache, learning, metrics
from inbox.actions import ActionRefused
from inbox.display import Display, taxonomy
from inbox.strings import translator
from inbox.web import Form, Web

LABEL_FIELDS = ("sentiment", "criticism", "constructive", "toxic", "topics")


def _about(services: Any, t: Any, lang: str, mention_id: str) -> str:
    """The comment an action was about, as its confirmation names it: « Toujours pas reçu… » (Loutre calme 48)."""
    try:
        mention = services.mention(mention_id)
    except ActionRefused:
        return ""
    display = Display(services.settings, lang)
    text = " ".join((mention.get("text") or "").split())
    short = text if len(text) <= 60 else text[:59].rstrip() + "…"
    who = display.person(
        {
            **mention,
            "author_id": (mention.get("author") or {}).get("id"),
            "is_brand": (mention.get("author") or {}).get("is_brand"),
            "author": author_label(mention, services.settings),
        }
    )
    return t("about_comment", text=short, who=who)


def _flash_outcome(request: Request, t: Any, record: dict[str, Any], about: str = "") -> None:
    kind = "ok" if record["status"] == "done" else "error"
    message = t(f"action_{record['status']}", action=t(f"act_{record['action']}"))
    if about:
        message += f" {about}"
    if record["status"] != "done":
        message += f" — {record.get('error')}"
    undoable = record["status"] == "done" and record["action"] in ("hide", "reply")
    retryable = record["status"] in ("failed", "pending")
    if undoable or retryable:
        request.session.setdefault("flash", []).append({"kind": kind, "text": message, "record": record["id"]})
    else:
        request.session.setdefault("flash", []).append({"kind": kind, "text": message})


def _reason(form: dict[str, Any]) -> str | None:
    return str(form.get("reason") or "") or None


def add_routes(app: FastAPI, web: Web) -> None:
    """Each POST reads its form on the event loop, then does its work (Elasticsearch, the platform's
    API with its retries) in the worker pool: one slow platform never holds other people's requests."""
    settings, services = web.settings, web.services
    flash, back, lang_of, require, form_with_csrf = web.flash, web.back, web.lang_of, web.require, web.form_with_csrf

    def taught(user: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        """The action's label for the learning loop: a separate write after its outcome."""
        learning.label_action(services, user, record)
        return record

    # -- actions (moderator) -------------------------------------------------------------
    @app.post("/mentions/{mention_id:path}/act/{action}")
    async def act_on_mention(
        request: Request, mention_id: str, action: str, user: dict = Depends(require("moderator"))
    ) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(act, request, mention_id, action, user, form)

    def act(request: Request, mention_id: str, action: str, user: dict[str, Any], form: dict[str, Any]) -> Response:
        t = translator(lang_of(request))
        if action not in ("reply", "hide", "unhide", "delete"):
            raise HTTPException(404, f"no action {action}")
        text = str(form.get("text") or "").strip() or None
        if action == "reply" and not text:
            flash(request, "error", t("reply_empty"))
            return back(request)
        if action == "reply" and text and t("reply_author_blank") in text:  # the saved reply's blank for the name
            flash(request, "error", t("reply_fill_author", blank=t("reply_author_blank")))
            return back(request)
        try:
            record = actions.act(services, user, mention_id, action, text=text, reason=_reason(form))
        except ActionRefused as exc:
            raise HTTPException(404, str(exc)) from None
        taught(user, record)
        _flash_outcome(request, t, record, _about(services, t, lang_of(request), mention_id))
        return back(request)

    def recorded(request: Request, run: Callable[[], dict[str, Any]]) -> Response:
        """Undo and retry: run the recorded action again, flash its outcome (or why it was refused), go back."""
        try:
            record = run()
        except ActionRefused as exc:
            flash(request, "error", str(exc))
        else:
            t = translator(lang_of(request))
            _flash_outcome(request, t, record, _about(services, t, lang_of(request), record["mention_id"]))
        return back(request)

    @app.post("/actions/{record_id}/undo")
    async def undo_action(request: Request, record_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        run = partial(actions.undo, services, user, record_id, reason=_reason(form))
        return await run_in_threadpool(recorded, request, lambda: taught(user, run()))

    @app.post("/actions/{record_id}/retry")
    async def retry_action(request: Request, record_id: str, user: dict = Depends(require("moderator"))) -> Response:
        await form_with_csrf(request)
        run = partial(actions.retry, services, record_id)
        return await run_in_threadpool(recorded, request, lambda: taught(user, run()))

    @app.post("/mentions/{mention_id:path}/labels")
    async def correct_label(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(correct, request, mention_id, user, form)

    def correct(request: Request, mention_id: str, user: dict[str, Any], form: Form) -> Response:
        t = translator(lang_of(request))
        field, value = str(form.get("field") or ""), str(form.get("value") or "")
        topics = form.getlist("value")
        if field not in LABEL_FIELDS:
            raise HTTPException(400, f"field must be one of {', '.join(LABEL_FIELDS)}")
        parsed: Any = value
        if field in ("criticism", "constructive", "toxic"):
            parsed = value == "true"
        elif field == "topics":  # chosen from the taxonomy (checkboxes), never typed
            parsed = [v for v in topics if v in taxonomy()]
            if len(parsed) != len(topics):
                raise HTTPException(400, "unknown_topic")
        quick = {"toxic": "not_toxic", "criticism": "not_criticism"}.get(field) if form.get("done") == "1" else None
        try:
            actions.correct(services, user, mention_id, {field: parsed}, action=quick)
        except InvalidCorrection as exc:
            raise HTTPException(400, str(exc)) from None
        except ActionRefused as exc:
            raise HTTPException(404, str(exc)) from None
        if form.get("done") == "1":  # "not toxic" from the moderation queue: corrected, and out of the queue
            mark_handled(settings, [mention_id], handled=True, client=services.store.client)
            cache.forget([mention_id])
        display = Display(settings, lang_of(request))
        flash(
            request,
            "ok",
            t(
                "label_saved",
                field=t(f"label_{field}"),
                value=display.label_value(field, parsed),
                about=_about(services, t, lang_of(request), mention_id),
            ),
        )
        return back(request)

    @app.post("/mentions/{mention_id:path}/done")
    async def mark_done(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(done, request, mention_id, user, form.get("undo") == "1")

    def done(request: Request, mention_id: str, user: dict[str, Any], undo: bool) -> Response:
        try:
            mark_handled(settings, [mention_id], handled=not undo, client=services.store.client)
        except UnknownItems as exc:
            raise HTTPException(404, str(exc)) from None
        if undo:
            cache.put_back([mention_id], services.store.mentions_by_id)
        else:
            cache.forget([mention_id])
        services.store.audit(
            {
                "kind": "action",
                "action": "reopen" if undo else "done",
                "status": "done",
                "who": user["username"],
                "role": user["role"],
                "mention_id": mention_id,
            }
        )
        if undo:
            learning.unlabel_done(services, mention_id)
        else:
            learning.label_done(services, user, mention_id)
        t = translator(lang_of(request))
        flash(
            request,
            "ok",
            t("reopened" if undo else "marked_done", about=_about(services, t, lang_of(request), mention_id)),
        )
        return back(request)

    @app.post("/mentions/{mention_id:path}/assign")
    async def assign(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(assign_to, request, mention_id, user, str(form.get("assignee") or "").strip())

    def assign_to(request: Request, mention_id: str, user: dict[str, Any], assignee: str) -> Response:
        if assignee and assignee not in services.store.usernames():
            raise HTTPException(400, f"no teammate {assignee}")
        item = services.store.item(mention_id)
        item.update(
            {"assigned_to": assignee or None, "assigned_by": user["username"], "assigned_at": metrics.now_iso()}
        )
        services.store.save_item(item)
        services.store.audit(
            {
                "kind": "action",
                "action": "assign",
                "status": "done",
                "who": user["username"],
                "role": user["role"],
                "mention_id": mention_id,
                "text": assignee or None,
            }
        )
        t = translator(lang_of(request))
        flash(
            request,
            "ok",
            t("assigned", who=assignee or t("nobody"), about=_about(services, t, lang_of(request), mention_id)),
        )
        return back(request)

    @app.post("/mentions/{mention_id:path}/notes")
    async def add_note(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        text = str(form.get("text") or "").strip()
        if not text:
            flash(request, "error", translator(lang_of(request))("note_empty"))
            return back(request)
        await run_in_threadpool(note, request, mention_id, user, text)
        return back(request)

    def note(request: Request, mention_id: str, user: dict[str, Any], text: str) -> None:
        item = services.store.item(mention_id)
        item.setdefault("notes", []).append({"who": user["username"], "at": metrics.now_iso(), "text": text[:4000]})
        services.store.save_item(item)
        t = translator(lang_of(request))
        flash(request, "ok", t("note_saved", about=_about(services, t, lang_of(request), mention_id)))
