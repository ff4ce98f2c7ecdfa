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

from connectors.base import (
    ConnectorError,
    Mapped,
    Page,
    SeenFilter,
    Stream,
    build_raw_event,
    copy_state,
    epoch_now,
    epoch_of,
    map_record,
)
from connectors.config import ConnectorSettings, YouTubeSettings
from connectors.http import ApiClient, Decision, SkipResource, default_classify
from ecoute.settings import Settings

KEY_SETTING = "ECOUTE_YOUTUBE__API_KEY"
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"}
RETRY_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}
SKIP_REASONS = {"commentsDisabled", "videoNotFound", "commentNotFound", "commentThreadNotFound", "channelNotFound"}
CREDENTIAL_REASONS = {
    "keyInvalid", "keyExpired", "forbidden", "accessNotConfigured", "ipRefererBlocked", "API_KEY_INVALID",
    "API_KEY_EXPIRED",
}  # fmt: skip


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


class YouTubeChannelStream:
    def __init__(self, settings: Settings, config: YouTubeSettings, client: ApiClient | None = None):
        if not config.channel_id:
            raise ConnectorError("youtube: no channel id; set ECOUTE_YOUTUBE__CHANNEL_ID")
        if not config.api_key and client is None:
            raise ConnectorError(f"youtube: no API key; set {KEY_SETTING}")
        self.settings = settings
        self.config = config
        self.channel_id = config.channel_id
        # The key goes in a header (Google accepts X-Goog-Api-Key), not in URLs that proxies log.
        self.client = client or ApiClient(
            "youtube", config, classify,
            headers={"X-Goog-Api-Key": config.api_key.get_secret_value()} if config.api_key else None,
        )  # fmt: skip

    def stream(self) -> Stream:
        return Stream(f"channel.{self.channel_id}", self.pages)

    def map_comment(self, comment: dict[str, Any], video_id: str, kind: str, replies: Any = None) -> dict[str, Any]:
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

    def pages(self, saved: dict[str, Any] | None) -> Iterator[Page]:
        state: dict[str, Any] = copy_state(saved) if saved else {}
        sweep = state.get("sweep") or {"page_token": None}
        seen = SeenFilter(state.get("seen"))
        if seen.high_water:
            cutoff = epoch_of(seen.high_water) - self.config.revisit_days * 86400
        else:
            cutoff = epoch_now() - self.config.lookback_days * 86400
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": self.channel_id,
            "order": "time",
            "textFormat": "plainText",
            "maxResults": min(100, self.config.page_size),
        }
        page_token = sweep.get("page_token")
        try:
            for _ in range(self.config.max_pages):
                body = self.client.get_json(
                    "commentThreads", {**params, **({"pageToken": page_token} if page_token else {})}
                )
                records: list[Mapped] = []
                oldest: int | None = None
                for thread in body.get("items") or []:
                    records += self._thread(thread, seen)
                    published = (
                        ((thread.get("snippet") or {}).get("topLevelComment") or {})
                        .get("snippet", {})
                        .get("publishedAt")
                    )
                    if published:
                        with contextlib.suppress(ValueError):
                            oldest = min(oldest or 2**62, epoch_of(published))
                page_token = body.get("nextPageToken")
                done = page_token is None or (oldest is not None and oldest < cutoff)
                if done:
                    state["seen"], state["sweep"] = seen.state(commit=True), None
                else:
                    state["seen"], state["sweep"] = seen.state(), {"page_token": page_token}
                yield Page(records, copy_state(state))
                if done:
                    break
        finally:
            self.client.close()

    def _new(self, mapped: Mapped, seen: SeenFilter) -> list[Mapped]:
        if mapped.event is None:
            return [mapped] if seen.first_failure(mapped.native_id) else []
        if not seen.is_new(mapped.event["created_at"], mapped.event["id"]):
            return []
        seen.observe(mapped.event["created_at"], mapped.event["id"])
        return [mapped]

    def _thread(self, thread: dict[str, Any], seen: SeenFilter) -> list[Mapped]:
        snippet = thread.get("snippet") or {}
        video_id = snippet.get("videoId")
        top = snippet.get("topLevelComment") or {}
        total = snippet.get("totalReplyCount")
        records = self._new(
            map_record(thread, lambda: self.map_comment(top, video_id, "comment", total), top.get("id")), seen
        )
        replies = (thread.get("replies") or {}).get("comments") or []
        if isinstance(total, int) and total > len(replies):
            with contextlib.suppress(SkipResource):
                replies = list(self._all_replies(thread.get("id") or top.get("id")))
        for reply in replies:
            records += self._new(
                map_record(reply, lambda r=reply: self.map_comment(r, video_id, "reply"), reply.get("id")), seen
            )
        return records

    def _all_replies(self, parent_id: str) -> Iterator[dict[str, Any]]:
        token = None
        for _ in range(self.config.max_pages):
            params = {"part": "snippet", "parentId": parent_id, "maxResults": 100, "textFormat": "plainText"}
            body = self.client.get_json("comments", {**params, **({"pageToken": token} if token else {})})
            yield from body.get("items") or []
            token = body.get("nextPageToken")
            if not token:
                return


def streams(settings: Settings, connector_settings: ConnectorSettings) -> list[Stream]:
    return [YouTubeChannelStream(settings, connector_settings.youtube).stream()]


__all__ = ["YouTubeChannelStream", "classify", "streams"]
