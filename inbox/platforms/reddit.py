"""Reddit: ``/api/comment`` (reply), ``/api/remove`` (hide = removal by a moderator),
``/api/approve`` (unhide), ``/api/del`` (the brand's own reply). Acting needs a moderator's
OAuth refresh token (``ECOUTE_INBOX__REDDIT_REFRESH_TOKEN``), exchanged at the connector's token
URL with its client id and secret; a moderator cannot delete someone else's comment, only remove it.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from inbox.platforms.base import Platform, PlatformAnswer, PlatformError, Unsupported


class Reddit(Platform):
    source = "reddit"
    supports = frozenset({"reply", "hide", "unhide", "delete_reply"})
    _token: tuple[str, float] | None = None

    def access_token(self) -> str:
        if self._token and self._token[1] > time.monotonic():
            return self._token[0]
        refresh = self.inbox.reddit_refresh_token
        if not (refresh and self.config.client_id and self.config.client_secret):
            raise Unsupported(
                "reddit: acting needs ECOUTE_REDDIT__CLIENT_ID/__CLIENT_SECRET and ECOUTE_INBOX__REDDIT_REFRESH_TOKEN"
            )
        try:
            response = self.http.post(
                self.config.token_url,
                auth=(self.config.client_id, self.config.client_secret.get_secret_value()),
                data={"grant_type": "refresh_token", "refresh_token": refresh.get_secret_value()},
                headers={"User-Agent": self.config.user_agent},
            )
        except httpx.TransportError as exc:
            raise PlatformError(f"reddit token: {exc}", retryable=True) from exc
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = response.text[:2000]
        if response.status_code >= 400 or not isinstance(body, dict) or "access_token" not in body:
            raise PlatformError(
                f"reddit token refused: {body}",
                status=response.status_code,
                body=body,
                retryable=response.status_code >= 500 or response.status_code == 429,
            )
        self._token = (body["access_token"], time.monotonic() + float(body.get("expires_in", 3600)) - 60)
        return body["access_token"]

    def _post(self, path: str, data: dict[str, str]) -> PlatformAnswer:
        headers = {"Authorization": f"bearer {self.access_token()}", "User-Agent": self.config.user_agent}
        response = self.request("POST", path, data=data, headers=headers)
        body = self.json_body(response) or {}
        errors = (body.get("json") or {}).get("errors") if isinstance(body, dict) else None
        if errors:  # Reddit answers 200 with a list of [code, message, field]
            raise PlatformError(
                f"reddit: {errors}",
                status=response.status_code,
                body=body,
                retryable=any(e and e[0] == "RATELIMIT" for e in errors),
            )
        return PlatformAnswer(response.status_code, body, platform_id=self._created_id(body))

    @staticmethod
    def _created_id(body: Any) -> str | None:
        try:
            return body["json"]["data"]["things"][0]["data"]["name"]
        except (KeyError, IndexError, TypeError):
            return None

    def do_reply(self, native_id: str, text: str | None) -> PlatformAnswer:
        return self._post("api/comment", {"thing_id": native_id, "text": text or "", "api_type": "json"})

    def do_hide(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        return self._post("api/remove", {"id": native_id, "spam": "false"})

    def do_unhide(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        return self._post("api/approve", {"id": native_id})

    def do_delete_reply(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        return self._post("api/del", {"id": native_id})
