"""The JSON API: the same session as the pages, read-only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from inbox import actions, metrics, views
from inbox.web import Web, known_queue, period


def _without_author_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "author_id"} for row in rows]


def add_routes(app: FastAPI, web: Web) -> None:
    services = web.services
    current_user, csrf_token = web.current_user, web.csrf_token

    # -- JSON API (same session, read-only) ---------------------------------------------------
    @app.get("/api/queues/{name}")
    def api_queue(
        request: Request,
        name: str,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        user: dict = Depends(current_user),
    ) -> JSONResponse:
        """One page of a queue: ``{"items": [...], "total": N, "page", "pages", "page_size", "sections"}``
        (``limit`` is the page size, 1–500; ``page`` starts at 1), searched like the page (``q``,
        ``author``, ``assigned``, ``comment_lang``)."""
        known_queue(name)
        filters = views.Filters.parse(request.query_params)
        result = views.queue(
            services, name, filters, page=page, page_size=limit, lang=web.lang_of(request), user=user["username"]
        )
        rows = result.items
        actions.log_access(services, user, request.url.path, [r["author_id"] for r in rows if r.get("author_id")])
        return JSONResponse(
            {
                "queue": name,
                "items": _without_author_ids(rows),
                "total": result.total,
                "count": len(rows),
                "page": result.page,
                "pages": result.pages,
                "page_size": result.page_size,
                "sections": result.sections,
            }
        )

    @app.get("/api/threads/{mention_id:path}")
    def api_thread(request: Request, mention_id: str, user: dict = Depends(current_user)) -> JSONResponse:
        data = web.thread(request, user, mention_id)
        return JSONResponse({k: v for k, v in data.items() if k not in ("mood", "author_ids")})

    @app.get("/api/audit")
    def api_audit(
        request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100, user: dict = Depends(current_user)
    ) -> JSONResponse:
        records = services.store.audit_records({"terms": {"kind": ["action", "correction", "rule"]}}, size=limit)
        return JSONResponse({"count": len(records), "records": records})

    @app.get("/api/stats/response-times")
    def api_stats(request: Request, user: dict = Depends(current_user)) -> JSONResponse:
        start, end = period(request, services)
        return JSONResponse(metrics.response_times(services, start, end))

    @app.get("/api/me")
    def api_me(request: Request, user: dict = Depends(current_user)) -> JSONResponse:
        return JSONResponse({**user, "csrf_token": csrf_token(request)})
