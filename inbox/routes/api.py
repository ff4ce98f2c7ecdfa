"""The JSON API: the same session as the pages, read-only."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
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
        request: Request, name: str, limit: int = 50, page: int = 1, user: dict = Depends(current_user)
    ) -> JSONResponse:
        """One page of a queue (``?page=N``, ``limit`` per page) and the whole queue's ``total``."""
        known_queue(name)
        result = views.queue_page(
            services, name, views.Filters.parse(request.query_params), page=max(1, page), per_page=min(max(limit, 1), 500),
            user=user["username"],
        )  # fmt: skip
        rows = result["items"]
        actions.log_access(services, user, request.url.path, [r["author_id"] for r in rows if r.get("author_id")])
        return JSONResponse({"queue": name, "count": len(rows), "total": result["total"], "page": result["page"],
                             "per_page": result["per_page"], "items": _without_author_ids(rows)})  # fmt: skip

    @app.get("/api/threads/{mention_id}")
    def api_thread(request: Request, mention_id: str, user: dict = Depends(current_user)) -> JSONResponse:
        data = web.thread(request, user, mention_id)
        return JSONResponse({k: v for k, v in data.items() if k not in ("mood", "author_ids")})

    @app.get("/api/audit")
    def api_audit(request: Request, limit: int = 100, user: dict = Depends(current_user)) -> JSONResponse:
        records = services.store.audit_records({"terms": {"kind": ["action", "correction", "rule"]}}, size=min(limit, 1000))
        return JSONResponse({"count": len(records), "records": records})

    @app.get("/api/stats/response-times")
    def api_stats(request: Request, user: dict = Depends(current_user)) -> JSONResponse:
        start, end = period(request, services)
        return JSONResponse(metrics.response_times(services, start, end))

    @app.get("/api/me")
    def api_me(request: Request, user: dict = Depends(current_user)) -> JSONResponse:
        return JSONResponse({**user, "csrf_token": csrf_token(request)})
