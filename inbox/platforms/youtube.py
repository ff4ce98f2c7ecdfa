"""YouTube Data API v3: ``comments.insert`` (reply), ``comments.setModerationStatus`` (hide =
heldForReview, unhide = published, delete = rejected) and ``comments.delete`` (the brand's own reply).
Writes need an OAuth token of the channel owner (``ECOUTE_INBOX__YOUTUBE_OAUTH_TOKEN``): the
connector's API key only reads.
"""

from __future__ import annotations

from typing import Any

from inbox.platforms.base import Platform, PlatformAnswer, Unsupported

RETRYABLE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}


class YouTube(Platform):
    source = "youtube"
    supports = frozenset({"reply", "hide", "unhide", "delete", "delete_reply"})

    def headers(self) -> dict[str, str]:
        token = self.inbox.youtube_oauth_token
        if not token:
            raise Unsupported("youtube: acting needs an OAuth token (ECOUTE_INBOX__YOUTUBE_OAUTH_TOKEN)")
        return {"Authorization": f"Bearer {token.get_secret_value()}"}

    def is_retryable(self, status: int, body: Any) -> bool:
        error = body.get("error") if isinstance(body, dict) else None
        reasons = {e.get("reason") for e in (error or {}).get("errors", [])} if isinstance(error, dict) else set()
        return bool(reasons & RETRYABLE_REASONS) or super().is_retryable(status, body)

    def do_reply(self, native_id: str, text: str | None) -> PlatformAnswer:
        response = self.request(
            "POST",
            "comments",
            params={"part": "snippet"},
            headers=self.headers(),
            json={"snippet": {"parentId": native_id, "textOriginal": text}},
        )
        body = self.json_body(response)
        return PlatformAnswer(
            response.status_code, body, platform_id=body.get("id") if isinstance(body, dict) else None
        )

    def _moderate(self, native_id: str, status: str) -> PlatformAnswer:
        response = self.request(
            "POST",
            "comments/setModerationStatus",
            params={"id": native_id, "moderationStatus": status},
            headers=self.headers(),
        )
        return PlatformAnswer(response.status_code, None)

    def do_hide(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        return self._moderate(native_id, "heldForReview")

    def do_unhide(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        return self._moderate(native_id, "published")

    def do_delete(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        return self._moderate(native_id, "rejected")

    def do_delete_reply(self, native_id: str, text: str | None = None) -> PlatformAnswer:
        response = self.request("DELETE", "comments", params={"id": native_id}, headers=self.headers())
        return PlatformAnswer(response.status_code, None)
