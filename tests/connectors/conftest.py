"""Helpers for connector tests: read back what a connector produced, tiny back-off settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from ecoute import kafka
from ecoute.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"


def read_topic(settings: Settings, topic: str) -> list[tuple[str | None, dict[str, Any]]]:
    """Every (key, JSON value) of a topic, all partitions."""
    marks = kafka.high_watermarks(topic, settings=settings)
    records = []
    for partition, end in sorted(marks.items()):
        for record in kafka.read_range(topic, partition, 0, end, settings):
            records.append((record.key.decode() if record.key else None, orjson.loads(record.value)))
    return records


def raw_events(settings: Settings) -> list[dict[str, Any]]:
    return [value for _, value in read_topic(settings, settings.topics.raw)]


def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    return [value for _, value in read_topic(settings, settings.topics.dlq)]


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def fast_http() -> dict[str, Any]:
    """HTTP source options that keep every back-off wait tiny in tests."""
    return {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "max_wait_s": 0.05, "max_retries": 4, "timeout_s": 5}


class FakeApi:
    """Serves recorded-shape fixture pages from pytest-httpserver, routed by path and query params.

    ``add(path, fixture, params={...})`` queues a response for requests to ``path`` whose query
    contains ``params``; queued responses are served in order and the last one stays. A fixture is
    a file under fixtures/ holding either a JSON body (status 200) or ``{"status", "headers", "body"}``.
    """

    def __init__(self, httpserver: Any):
        self.server = httpserver
        self.routes: list[tuple[str, dict[str, str], list[tuple[int, Any, dict[str, str]]]]] = []
        self.calls: list[tuple[str, dict[str, str], dict[str, str]]] = []
        import re

        httpserver.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    def url(self, path: str = "") -> str:
        return self.server.url_for(path)

    def add(
        self,
        path: str,
        fixture: str | dict[str, Any] | list[Any],
        *,
        params: dict[str, str] | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: Any = None,
        replace: bool = False,
    ) -> FakeApi:
        content = fixture_json(fixture) if isinstance(fixture, str) else fixture
        if (
            isinstance(content, dict)
            and set(content) >= {"status", "body"}
            and set(content) <= {"status", "body", "headers"}
        ):
            status, headers, content = (
                content["status"],
                {**content.get("headers", {}), **(headers or {})},
                content["body"],
            )
        if body is not None:
            content = body
        for route_path, route_params, responses in self.routes:
            if route_path == path and route_params == (params or {}):
                if replace:
                    responses.clear()
                responses.append((status, content, headers or {}))
                return self
        self.routes.append((path, params or {}, [(status, content, headers or {})]))
        return self

    def handle(self, request: Any) -> Any:
        from werkzeug import Response

        args = {key: value for key, value in request.args.items()}
        self.calls.append((request.path, args, dict(request.headers)))
        candidates = [
            route
            for route in self.routes
            if route[0] == request.path and all(args.get(k) == v for k, v in route[1].items())
        ]
        if not candidates:
            return Response(
                orjson.dumps({"error": {"message": f"no fixture for {request.path} {args}", "code": 803}}), 404
            )
        _, _, responses = max(candidates, key=lambda route: len(route[1]))  # the most specific route
        status, content, headers = responses.pop(0) if len(responses) > 1 else responses[0]
        payload = content if isinstance(content, bytes | str) else orjson.dumps(content)
        content_type = headers.get("Content-Type", "application/json; charset=UTF-8")
        return Response(
            payload,
            status,
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
            content_type=content_type,
        )

    def count(self, path: str) -> int:
        return sum(1 for call in self.calls if call[0] == path)


@pytest.fixture
def fake_api(httpserver: Any) -> FakeApi:
    return FakeApi(httpserver)


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for running ``ecoute`` in a subprocess against the test's broker and topics."""
    import os

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "COLUMNS": "250",
        "ECOUTE_STATE_DIR": str(settings.state_dir),
        "ECOUTE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        **{f"ECOUTE_TOPICS__{role.upper()}": name for role, name in settings.topics.model_dump().items()},
    }
    env.update(extra)
    return env
