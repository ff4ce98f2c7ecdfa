"""Facebook Pages and Instagram comments through the Graph API (same base URL as the connectors).

Facebook: ``POST /{comment-id}/comments`` (reply), ``POST /{comment-id}`` with ``is_hidden``
(hide/unhide), ``DELETE /{comment-id}``. Instagram: ``POST /{ig-comment-id}/replies``,
``POST /{ig-comment-id}`` with ``hide``, ``DELETE /{ig-comment-id}``. The token goes as the
``access_token`` parameter, as the connectors send it.
"""

from __future__ import annotations

from typing import Any

from inbox.platforms.base import Platform, PlatformAnswer, Unsupported

# Graph error codes that say "try again later": unknown, service, app/user/page rate limits.
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613}


class Graph(Platform):
    token_field = ""
    hidden_field = ""
    reply_edge = ""
    supports = frozenset({"reply", "hide", "unhide", "delete", "delete_reply"})

    def token(self) -> str:
        secret = getattr(self.config, self.token_field)
        if not secret:
            raise Unsupported(f"{self.source}: no token (ECOUTE_{self.source.upper()}__{self.token_field.upper()})")
        return secret.get_secret_value()

    def is_retryable(self, status: int, body: Any) -> bool:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return bool(error.get("is_transient")) or error.get("code") in TRANSIENT_CODES
        return super().is_retryable(status, body)

    def _post(self, path: str, data: dict[str, str]) -> PlatformAnswer:
        response = self.request("POST", path, data={**data, "access_token": self.token()})
        body = self.json_body(response)
        return PlatformAnswer(
            response.status_code, body, platform_id=body.get("id") if isinstance(body, dict) else None
        )

    def do_reply(self, native_id: str, text: str | None) -> PlatformAnswer:
        return self._post(f"{native_id}/{self.reply_edge}", {"message": text or ""})

    def do_hide(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        return self._post(native_id, {self.hidden_field: "true"})

    def do_unhide(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        return self._post(native_id, {self.hidden_field: "false"})

    def do_delete(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        response = self.request("DELETE", native_id, params={"access_token": self.token()})
        return PlatformAnswer(response.status_code, self.json_body(response))

    do_delete_reply = do_delete


class Facebook(Graph):
    source = "facebook"
    token_field = "page_token"
    hidden_field = "is_hidden"
    reply_edge = "comments"


class Instagram(Graph):
    source = "instagram"
    token_field = "access_token"
    hidden_field = "hide"
    reply_edge = "replies"
