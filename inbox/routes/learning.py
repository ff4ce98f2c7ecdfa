"""The "Aidez Écoute à apprendre" page: the day's questions, one click per label."""

from __future__ import annotations

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from inbox import learning
from inbox.strings import translator
from inbox.web import Web


def add_routes(app: FastAPI, web: Web) -> None:
    settings, services = web.settings, web.services

    @app.get("/learn", response_class=HTMLResponse)
    def learn_page(request: Request, user: dict = Depends(web.current_user)) -> HTMLResponse:
        data = learning.questions(services, settings.learning.questions_per_day)
        return web.page(request, "learn.html", active="learn", data=data, teachable=learning.TEACHABLE)

    @app.post("/learn/{mention_id:path}")
    async def teach(request: Request, mention_id: str, user: dict = Depends(web.require("moderator"))) -> Response:
        form = await web.form_with_csrf(request)
        field, value = str(form.get("field") or ""), str(form.get("value") or "")
        return await run_in_threadpool(teach_label, request, user, mention_id, field, value)

    def teach_label(request: Request, user: dict, mention_id: str, field: str, value: str) -> Response:
        try:
            stored = learning.teach(services, user, mention_id, field, value)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        t = translator(web.lang_of(request))
        web.flash(request, "ok" if stored else "error", t("learn_saved" if stored else "learn_not_saved"))
        return web.back(request, "/learn")
