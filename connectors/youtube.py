"""YouTube Data API v3: comment threads on a channel's videos, and their replies.

- ``GET /commentThreads?part=snippet,replies&allThreadsRelatedToChannelId=...&order=time`` lists
  threads newest first with ``pageToken``. A sweep reads until threads older than the last sweep's
  newest comment minus ``revisit_days`` (first run: ``lookback_days``), so new replies on recent
  threads are found too; only comments newer than the last sweep are emitted (SeenFilter).
- A thread carries up to 5 replies; when ``totalReplyCount`` is larger, ``GET /comments?parentId=``
  pages through all of them.
- Errors (``error.errors[].reason``): ``quotaExceeded``/``dailyLimitExceeded`` stop the run with a
  clear message (the quota resets at midnight Pacific time; the next run resumes from the
  checkpoint); ``rateLimitExceeded`` and 5xx are retried with back-off; ``keyInvalid``/401 stop;
  ``commentsDisabled``/``videoNotFound``/``commentNotFound`` skip that object.
- Brand replies: comments whose ``authorChannelId`` is the channel itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from connectors.config import ConnectorSettings, YouTubeSettings
from connectors.errors import ConnectorError
from connectors.http import ApiClient, Decision, SkipResource, default_classify
from connectors.mapping import build_raw_event
from connectors.source import HttpSource, Item, PolledStream, Sweep, TokenPaginator, dig
from ecoute.settings import Settings

KEY_SETTING = "ECOUTE_YOUTUBE__API_KEY"
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"}
RETRY_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}
SKIP_REASONS = {"commentsDisabled", "videoNotFound", "commentNotFound", "commentThreadNotFound", "channelNotFound"}
CREDENTIAL_REASONS = {
    "keyInvalid",
    "keyExpired",
    "forbidden",
    "accessNotConfigured",
    "ipRefererBlocked",
    "API_KEY_INVALID",
    "API_KEY_EXPIRED",
}


def classify(response: httpx.Response) -> Decision:
    if response.status_code < 400:
        return Decision("ok")
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return default_classify(response)
    reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
    reasons |= {d.get("reason") for d in error.get("details") or [] if isinstance(d, dict)}
    message = (
        f"YouTube {response.status_code} {'/'.join(sorted(r for r in reasons if r))}: {error.get('message', '')[:200]}"
    )
    if reasons & QUOTA_REASONS:
        return Decision(
            "fatal",
            f"quota exhausted ({message}). The daily quota resets at midnight Pacific time; "
            "the next run resumes from the checkpoint.",
        )
    if reasons & RETRY_REASONS or response.status_code >= 500 or response.status_code == 429:
        return Decision("retry", message)
    if reasons & SKIP_REASONS or response.status_code == 404:
        return Decision("skip", message)
    if reasons & CREDENTIAL_REASONS or response.status_code == 401:
        return Decision("fatal", f"the API key was refused ({message}); check {KEY_SETTING}")
    return Decision("fatal", message)


class YouTubeChannelStream(PolledStream):
    """Comment threads on the channel's videos, newest first, with all their replies."""

    config: YouTubeSettings
    path = "commentThreads"
    paginator = TokenPaginator("nextPageToken", "pageToken")
    newest_first = True
    sweep_token = "page_token"
    replies_paginator = TokenPaginator("nextPageToken", "pageToken")

    def __init__(self, settings: Settings, config: YouTubeSettings, client: ApiClient | None = None):
        super().__init__(settings, config, client)
        self.channel_id = config.channel_id or ""
        self.key = f"channel.{self.channel_id}"

    def params(self) -> dict[str, Any]:
        return {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": self.channel_id,
            "order": "time",
            "textFormat": "plainText",
            "maxResults": min(100, self.config.page_size),
        }

    def records(self, body: Any, sweep: Sweep) -> Iterator[Item]:
        """Each thread's top comment, then its replies (all of them when the thread holds only the first 5)."""
        for thread in body.get("items") or []:
            snippet = thread.get("snippet") or {}
            video_id = snippet.get("videoId")
            top = snippet.get("topLevelComment") or {}
            total = snippet.get("totalReplyCount")
            yield Item(top, {"video_id": video_id, "kind": "comment", "replies": total}, original=thread)
            replies = (thread.get("replies") or {}).get("comments") or []
            thread_id = thread.get("id") or top.get("id")
            if isinstance(total, int) and total > len(replies) and thread_id:
                with contextlib.suppress(SkipResource):
                    replies = list(self._all_replies(thread_id))
            for reply in replies:
                yield Item(reply, {"video_id": video_id, "kind": "reply"})

    def _all_replies(self, parent_id: str) -> Iterator[dict[str, Any]]:
        params = {"part": "snippet", "parentId": parent_id, "maxResults": 100, "textFormat": "plainText"}
        for body in self.answers("comments", params, self.replies_paginator):
            yield from body.get("items") or []

    def listed_at(self, item: Item, event: dict[str, Any] | None) -> Any:
        # Threads are listed by their top comment's time (replies do not move them).
        if item.context["kind"] != "comment":
            return None
        return dig(item.original, "snippet.topLevelComment.snippet.publishedAt")

    def map(self, comment: dict[str, Any], video_id: str, kind: str, replies: Any = None) -> dict[str, Any]:
        snippet = comment["snippet"]
        author = (snippet.get("authorChannelId") or {}).get("value")
        parent = snippet.get("parentId") if kind == "reply" else video_id
        return build_raw_event(
            self.settings,
            source="youtube",
            native_id=comment["id"],
            kind=kind,
            channel=self.channel_id,
            author_native_id=author,
            author_name=snippet.get("authorDisplayName"),
            author_is_brand=author == self.channel_id,
            parent_native_id=parent,
            thread_native_id=video_id,
            text=snippet.get("textOriginal") or snippet.get("textDisplay") or "",
            url=f"https://www.youtube.com/watch?v={video_id}&lc={comment['id']}" if video_id else None,
            created_at=snippet.get("publishedAt"),
            likes=snippet.get("likeCount"),
            replies=replies,
            raw=comment,
        )


class YouTubeSource(HttpSource):
    name = "youtube"

    def streams(self, settings: Settings, connector_settings: ConnectorSettings) -> list[PolledStream]:
        config = connector_settings.youtube
        if not config.channel_id:
            raise ConnectorError("youtube: no channel id; set ECOUTE_YOUTUBE__CHANNEL_ID")
        if not config.api_key:
            raise ConnectorError(f"youtube: no API key; set {KEY_SETTING}")
        # The key goes in a header (Google accepts X-Goog-Api-Key), not in URLs that proxies log.
        headers = {"X-Goog-Api-Key": config.api_key.get_secret_value()}
        return [
            YouTubeChannelStream(settings, config, self.client(ApiClient("youtube", config, classify, headers=headers)))
        ]


__all__ = ["YouTubeChannelStream", "YouTubeSource", "classify"]
