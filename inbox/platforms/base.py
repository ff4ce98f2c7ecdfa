"""The shape every platform client shares, and the retry policy of platform calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential

# reply: answer the comment; hide/unhide: hide from the public (reversible); delete: remove for good;
# delete_reply: remove a reply the brand posted (the undo of reply).
ACTIONS = ("reply", "hide", "unhide", "delete", "delete_reply")
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}


class Unsupported(Exception):
    """The platform (or the credentials given) does not allow this action."""


class PlatformError(Exception):
    def __init__(self, message: str, *, status: int | None = None, body: Any = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.body = body
        self.retryable = retryable


@dataclass
class PlatformAnswer:
    status: int
    body: Any = None
    platform_id: str | None = None  # the id of what was created (a reply)
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


class Platform:
    source = ""
    supports: frozenset[str] = frozenset()
    undo: ClassVar[dict[str, str]] = {"hide": "unhide", "reply": "delete_reply"}

    def __init__(self, connector_settings: Any, inbox_settings: Any):
        self.inbox = inbox_settings
        self.config = getattr(connector_settings, self.source)
        self.http = httpx.Client(
            base_url=self.config.base_url.rstrip("/") + "/",
            timeout=inbox_settings.platform_timeout_s,
            headers={"User-Agent": "ecoute-inbox/0.1"},
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def undo_of(self, action: str) -> str | None:
        undo = self.undo.get(action)
        return undo if undo in self.supports else None

    def perform(self, action: str, native_id: str, text: str | None = None) -> PlatformAnswer:
        if action not in self.supports:
            raise Unsupported(f"{self.source}: {action} is not possible through its API")
        if action == "reply" and not (text or "").strip():
            raise ValueError("a reply needs a text")
        return getattr(self, f"do_{action}")(native_id, text)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One HTTP call; raises PlatformError (retryable or not) on a failure answer."""
        try:
            response = self.http.request(method, path.lstrip("/"), **kwargs)
        except httpx.TransportError as exc:
            raise PlatformError(f"{self.source}: {type(exc).__name__}: {exc}", retryable=True) from exc
        if response.status_code >= 400:
            body = _body(response)
            raise PlatformError(
                f"{self.source}: HTTP {response.status_code}: {self.error_message(body)}",
                status=response.status_code,
                body=body,
                retryable=self.is_retryable(response.status_code, body),
            )
        return response

    def json_body(self, response: httpx.Response) -> Any:
        """The JSON of a success answer (None when empty); any other body is a clear, final failure:
        an HTML page answered with 200 (a captive portal, a proxy's error page) did nothing we know."""
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise PlatformError(
                f"{self.source}: HTTP {response.status_code} answered {kind}, not JSON: {response.text[:200]!r}",
                status=response.status_code,
                body=response.text[:2000],
            ) from None

    def error_message(self, body: Any) -> str:
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return str(body["error"].get("message") or body["error"])
        return str(body)[:300]

    def is_retryable(self, status: int, body: Any) -> bool:
        return status in RETRYABLE_STATUS


def call_with_retries(platform: Platform, action: str, native_id: str, text: str | None = None) -> PlatformAnswer:
    """``platform.perform`` retried on transient failures (tenacity); raises the last error otherwise."""
    retrying = Retrying(
        # Attempts, and a deadline for all of them with their waits: an outage costs one action that long.
        stop=stop_after_attempt(max(1, platform.inbox.platform_attempts))
        | stop_after_delay(platform.inbox.platform_deadline_s),
        wait=wait_exponential(multiplier=platform.inbox.platform_backoff_s, max=30),
        retry=retry_if_exception(lambda exc: isinstance(exc, PlatformError) and exc.retryable),
        reraise=True,
    )
    attempts = 0
    for attempt in retrying:
        with attempt:
            attempts = attempt.retry_state.attempt_number
            answer = platform.perform(action, native_id, text)
            answer.attempts = attempts
    return answer
