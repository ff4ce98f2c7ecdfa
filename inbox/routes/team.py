"""Working through many items and with colleagues: bulk actions on a queue's picked items, and
forwarding a thread to a colleague by email (their answer, typed on the link's page, is noted in the
thread: a colleague needs no inbox account, the link's secret is their credential)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ecoute.events import to_rfc3339
from ecoute.views.queues import UnknownItems, mark_handled
from inbox import actions, cache, learning, metrics, views
from inbox.display import Display
from inbox.strings import translator
from inbox.web import Web

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
FORWARD_DAYS = 14  # how long a colleague's answer link stays valid
MAX_BULK = 200


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add_routes(app: FastAPI, web: Web) -> None:
    settings, services = web.settings, web.services
    flash, back, lang_of, require, form_with_csrf, page = (
        web.flash,
        web.back,
        web.lang_of,
        web.require,
        web.form_with_csrf,
        web.page,
    )

    # -- bulk actions (moderator) -----------------------------------------------------------
    @app.post("/mentions/bulk")
    async def bulk(request: Request, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        t = translator(lang_of(request))
        ids = list(dict.fromkeys(form.getlist("ids")))[:MAX_BULK]
        action = str(form.get("action") or "")
        if not ids:
            flash(request, "error", t("bulk_none"))
            return back(request)
        if action not in ("done", "hide", "assign"):
            raise HTTPException(400, "bulk_action")
        done = await run_in_threadpool(_bulk, user, ids, action, str(form.get("assignee") or "").strip() or None)
        flash(request, "ok" if done == len(ids) else "error", t(f"bulk_{action}_done", n=done, of=len(ids)))
        return back(request)

    def _bulk(user: dict[str, Any], ids: list[str], action: str, assignee: str | None) -> int:
        if action == "done":
            try:
                mark_handled(settings, ids, handled=True, client=services.store.client)
            except UnknownItems as exc:
                raise HTTPException(404, str(exc)) from None
            cache.forget(ids)
            for mention_id in ids:
                services.store.audit(
                    {
                        "kind": "action",
                        "action": "done",
                        "status": "done",
                        "who": user["username"],
                        "role": user["role"],
                        "mention_id": mention_id,
                        "bulk": True,
                    },
                    wait=False,
                )
                learning.label_done(services, user, mention_id)  # each one teaches, as one by one
            return len(ids)
        if action == "hide":
            records = [actions.act(services, user, mention_id, "hide", reason="bulk") for mention_id in ids]
            for record in records:
                learning.label_action(services, user, record)
            return sum(r["status"] == "done" for r in records)
        if assignee and assignee not in services.store.usernames():
            raise HTTPException(400, "unknown_teammate")
        for mention_id in ids:
            item = services.store.item(mention_id)
            item.update({"assigned_to": assignee, "assigned_by": user["username"], "assigned_at": metrics.now_iso()})
            services.store.save_item(item)
            services.store.audit(
                {
                    "kind": "action",
                    "action": "assign",
                    "status": "done",
                    "who": user["username"],
                    "role": user["role"],
                    "mention_id": mention_id,
                    "text": assignee,
                    "bulk": True,
                },
                wait=False,
            )
        return len(ids)

    # -- forward a thread to a colleague ------------------------------------------------------
    @app.post("/mentions/{mention_id:path}/forward")
    async def forward(request: Request, mention_id: str, user: dict = Depends(require("moderator"))) -> Response:
        form = await form_with_csrf(request)
        lang = lang_of(request)
        t = translator(lang)
        to = str(form.get("to") or "").strip()
        question = str(form.get("question") or "").strip()[:2000]
        if not EMAIL.match(to) or len(to) > 254:
            flash(request, "error", t("forward_bad_address"))
            return back(request)
        record = await run_in_threadpool(_forward, user, mention_id, to, question, lang)
        if record["status"] == "done":
            flash(request, "ok", t("forward_sent", to=to))
        else:
            flash(request, "error", t("forward_failed", to=to, error=record.get("error") or ""))
        return back(request)

    def _forward(user: dict[str, Any], mention_id: str, to: str, question: str, lang: str) -> dict[str, Any]:
        try:
            data = views.thread(services, mention_id)
        except actions.ActionRefused as exc:
            raise HTTPException(404, str(exc)) from None
        key = secrets.token_urlsafe(24)
        record = services.store.audit(
            {
                "kind": "forward",
                "action": "forward",
                "status": "pending",
                "who": user["username"],
                "role": user["role"],
                "mention_id": mention_id,
                "to": to,
                "question": question or None,
                "key_digest": _digest(key),
                "expires_at": to_rfc3339(datetime.now(UTC) + timedelta(days=FORWARD_DAYS)),
                "author_ids": data["author_ids"],
            }
        )
        base = settings.inbox.url.rstrip("/")
        links = {
            "answer": f"{base}/forwards/{record['id']}?k={key}",
            "thread": f"{base}/threads/{quote(mention_id, safe=':@')}",
        }
        try:
            send_forward(settings, Display(settings, lang), data, user["username"], to, question, links)
        except Exception as exc:  # SMTP refused, unreachable, misconfigured: said on the page, kept in the audit
            services.store.audit_update(record["id"], {"status": "failed", "error": str(exc)[:500]})
            return {**record, "status": "failed", "error": str(exc)[:200]}
        services.store.audit_update(record["id"], {"status": "done"})
        return {**record, "status": "done"}

    def forward_or_404(forward_id: str, key: str) -> dict[str, Any]:
        record = services.store.get(settings.indices.inbox_audit, forward_id)
        if not record or record.get("kind") != "forward" or not key:
            raise HTTPException(404, "forward_unknown")
        if not hmac.compare_digest(record.get("key_digest") or "", _digest(key)):
            raise HTTPException(404, "forward_unknown")
        if (record.get("expires_at") or "") < metrics.now_iso():
            raise HTTPException(410, "forward_expired")
        return record

    @app.get("/forwards/{forward_id}", response_class=HTMLResponse)
    def forward_page(request: Request, forward_id: str, k: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
        """The colleague's page: the thread and a box for their answer (GET writes nothing)."""
        record = forward_or_404(forward_id, k)
        data = views.thread(services, record["mention_id"])
        return page(request, "forward.html", record=record, data=data, key=k)

    @app.post("/forwards/{forward_id}", response_class=HTMLResponse)
    async def forward_answer(request: Request, forward_id: str) -> HTMLResponse:
        """The colleague's answer (no session: the link's key is the credential), noted in the thread."""
        form = await request.form()
        key, answer = str(form.get("k") or ""), str(form.get("answer") or "").strip()[:4000]
        return await run_in_threadpool(note_answer, request, forward_id, key, answer)

    def note_answer(request: Request, forward_id: str, key: str, answer: str) -> HTMLResponse:
        record = forward_or_404(forward_id, key)
        t = translator(lang_of(request))
        if not answer:
            data = views.thread(services, record["mention_id"])
            return page(
                request,
                "forward.html",
                status_code=400,
                record=record,
                data=data,
                key=key,
                error=t("forward_answer_empty"),
            )
        services.store.audit_update(forward_id, {"answer": answer, "answered_at": metrics.now_iso()})
        item = services.store.item(record["mention_id"])
        item.setdefault("notes", []).append(
            {"who": record["to"], "at": metrics.now_iso(), "text": answer, "forward_id": forward_id}
        )
        services.store.save_item(item)
        return page(
            request,
            "forward.html",
            record={**record, "answer": answer},
            data=None,
            key=None,
            thanks=t("forward_thanks"),
        )


def send_forward(
    settings: Any, display: Display, data: dict[str, Any], who: str, to: str, question: str, links: dict[str, str]
) -> None:
    """The thread by email through the alert emails' stack (jobs.notify: templates, Airflow's SMTP hook)."""
    from jobs.notify import Email, render, send_email

    focus = data["focus"]
    people = {
        item["id"]: display.person(item) for item in [focus, *data["items"], *([data["post"]] if data["post"] else [])]
    }
    context = {
        "who": who,
        "question": question,
        "links": links,
        "focus": focus,
        "post": data["post"],
        "parent": data["parent"],
        "nearby": data["nearby"],
        "people": people,
        "when": display.when,
        "page": display.page(focus.get("channel")),
        "network": display.network(focus.get("source")),
        "zone": display.zone_name(),
    }
    html, text = render("forward", display.lang, **context)
    excerpt = " ".join((focus.get("text") or "").split())
    excerpt = excerpt if len(excerpt) <= 60 else excerpt[:59] + "…"
    subject = display.t("forward_subject", who=who, text=excerpt)
    send_email(settings, Email(subject=subject, html=html, text=text, recipients=[to]))
