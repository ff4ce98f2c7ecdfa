"""HTTP for polled connectors: one client with retries, back-off and per-source error rules.

Each source gives a ``classify(response)`` that turns its error dialect (Graph error codes, YouTube
``errors[].reason``, 429 + reset headers...) into a :class:`Decision`: go on, retry after a wait,
or stop with a clear message. Waits announced by the server are honoured up to ``max_wait_s``;
otherwise the wait is exponential (``backoff_base_s * 2**attempt`` capped at ``backoff_max_s``).
Tests set all three tiny; the code is the same. URLs are logged without their query string, so
tokens passed as parameters never reach the logs.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from connectors.config import HttpSourceSettings
from connectors.errors import ConnectorError

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO, query string included: Graph tokens travel there.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Decision:
    action: str  # "ok" | "retry" | "fatal" | "skip"
    message: str = ""
    wait_s: float | None = None


OK = Decision("ok")


class RetriesExhausted(ConnectorError):
    """The source kept failing transiently; a later sweep may succeed (follow mode goes on)."""


class SkipResource(Exception):
    """The resource is gone or closed (deleted post, comments disabled): skip it, go on."""


def default_classify(response: httpx.Response) -> Decision:
    status = response.status_code
    if status < 400:
        return OK
    if status == 429:
        return Decision("retry", "429 Too Many Requests", retry_after(response))
    if status >= 500 or status == 408:
        return Decision("retry", f"HTTP {status}")
    if status in (401, 403):
        return Decision("fatal", f"HTTP {status}: credentials rejected ({short_body(response)})")
    if status in (404, 410):
        return Decision("skip", f"HTTP {status}: {short_body(response)}")
    return Decision("fatal", f"HTTP {status}: {short_body(response)}")


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def short_body(response: httpx.Response, limit: int = 300) -> str:
    try:
        return response.text[:limit]
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return "(unreadable body)"


def next_params(next_url: str | None) -> dict[str, str] | None:
    """The query parameters of a 'next page' URL, without credentials: we re-issue them on our base URL."""
    if not next_url:
        return None
    params = dict(parse_qsl(urlsplit(next_url).query, keep_blank_values=True))
    for secret in ("access_token", "key", "appsecret_proof"):
        params.pop(secret, None)
    return params


class ApiClient:
    """GET/POST JSON with the source's retry rules; ``after_response`` may slow down proactively."""

    def __init__(
        self,
        name: str,
        config: HttpSourceSettings,
        classify: Callable[[httpx.Response], Decision] = default_classify,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        after_response: Callable[[httpx.Response], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        base_url: str | None = None,
    ):
        self.name = name
        self.config = config
        self.classify = classify
        self.after_response = after_response
        self.sleep = sleep
        self._params = params or {}
        base = base_url if base_url is not None else config.base_url
        self.http = httpx.Client(
            base_url=base.rstrip("/") + "/" if base else "",
            headers={"User-Agent": "ecoute-connectors/0.1", **(headers or {})},
            timeout=config.timeout_s,
            follow_redirects=True,
        )
        self.requests = 0
        self.waited_s = 0.0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def backoff(self, attempt: int) -> float:
        wait = min(self.config.backoff_max_s, self.config.backoff_base_s * (2**attempt))
        return wait * (0.8 + 0.4 * random.random())

    def _wait(self, seconds: float, why: str) -> None:
        seconds = min(max(0.0, seconds), self.config.max_wait_s)
        log.warning("%s: %s; waiting %.2fs", self.name, why, seconds)
        self.waited_s += seconds
        self.sleep(seconds)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with retries; returns the successful response, raises ConnectorError or SkipResource."""
        path = path.lstrip("/") if not path.startswith("http") else path
        params = {**self._params, **(kwargs.pop("params", None) or {})}
        last = "no attempt"
        for attempt in range(self.config.max_retries + 1):
            try:
                self.requests += 1
                response = self.http.request(method, path, params=params or None, **kwargs)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__} on {urlsplit(str(path)).path}"
                if attempt < self.config.max_retries:
                    self._wait(self.backoff(attempt), last)
                continue
            decision = self.classify(response)
            if decision.action == "ok":
                if self.after_response is not None:
                    pause = self.after_response(response)
                    if pause > 0:
                        self._wait(pause, "usage close to the rate limit, slowing down")
                return response
            where = urlsplit(str(response.request.url)).path
            if decision.action == "skip":
                raise SkipResource(f"{where}: {decision.message}")
            if decision.action == "fatal":
                raise ConnectorError(f"{self.name}: {decision.message}")
            last = f"{decision.message} on {where}"
            if attempt < self.config.max_retries:
                wait = decision.wait_s if decision.wait_s is not None else self.backoff(attempt)
                self._wait(wait, last)
        raise RetriesExhausted(f"{self.name}: gave up after {self.config.max_retries + 1} attempts ({last})")

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self.request("GET", path, params=params)
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"{self.name}: {urlsplit(path).path} did not answer JSON ({short_body(response, 120)!r})"
            ) from None
