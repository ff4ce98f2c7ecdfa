"""Instagram (Graph API, business account): its media, their comments and replies.

- Media: ``GET /{ig-user-id}/media`` lists newest first with ``after`` cursors; a sweep reads until
  media older than ``lookback_days`` and emits the ones not seen before.
- Comments: ``GET /{media-id}/comments`` with ``replies{...}`` nested; the edge has no ``since``,
  so a media's comments are read again only when its ``comments_count`` changed, and only comments
  newer than the last seen (timestamp + ids at it) are emitted, all of one media in one batch.
- Brand replies: comments whose ``from.id`` is the account (or whose ``username`` is its handle).
- Errors and rate limits: Graph rules (connectors/graph.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
from connectors.config import ConnectorSettings, InstagramSettings
from connectors.graph import make_graph_client, paginate
from connectors.http import ApiClient, SkipResource
from ecoute.settings import Settings

MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,username,like_count,comments_count"
COMMENT_FIELDS = "id,text,timestamp,username,from,like_count,replies{id,text,timestamp,username,from,like_count}"
TOKEN_SETTING = "ECOUTE_INSTAGRAM__ACCESS_TOKEN"


class InstagramAccountStream:
    def __init__(self, settings: Settings, config: InstagramSettings, client: ApiClient | None = None):
        if not config.user_id:
            raise ConnectorError("instagram: no business account id; set ECOUTE_INSTAGRAM__USER_ID")
        self.settings = settings
        self.config = config
        self.user_id = config.user_id
        self.client = client or make_graph_client(
            "instagram", config, config.access_token.get_secret_value() if config.access_token else None, TOKEN_SETTING
        )
        self.channel = config.username or config.user_id

    def stream(self) -> Stream:
        return Stream(f"account.{self.user_id}", self.pages)

    def is_brand(self, record: dict[str, Any]) -> bool:
        author = record.get("from") or {}
        username = author.get("username") or record.get("username")
        return author.get("id") == self.user_id or bool(self.config.username and username == self.config.username)

    def map_media(self, media: dict[str, Any]) -> dict[str, Any]:
        return build_raw_event(
            self.settings,
            source="instagram",
            native_id=media["id"],
            kind="post",
            channel=self.channel,
            author_native_id=self.user_id,
            author_name=media.get("username"),
            author_is_brand=True,
            text=media.get("caption") or "",
            url=media.get("permalink"),
            created_at=media.get("timestamp"),
            likes=media.get("like_count"),
            replies=media.get("comments_count"),
            raw=media,
        )

    def map_comment(self, comment: dict[str, Any], media_id: str, parent: str | None) -> dict[str, Any]:
        author = comment.get("from") or {}
        return build_raw_event(
            self.settings,
            source="instagram",
            native_id=comment["id"],
            kind="reply" if parent else "comment",
            channel=self.channel,
            author_native_id=author.get("id") or comment.get("username"),
            author_name=author.get("username") or comment.get("username"),
            author_is_brand=self.is_brand(comment),
            parent_native_id=parent or media_id,
            thread_native_id=media_id,
            text=comment.get("text") or "",
            created_at=comment.get("timestamp"),
            likes=comment.get("like_count"),
            replies=len((comment.get("replies") or {}).get("data") or []) if not parent else None,
            raw={k: v for k, v in comment.items() if k != "replies"},
        )

    def pages(self, saved: dict[str, Any] | None) -> Iterator[Page]:
        state: dict[str, Any] = copy_state(saved) if saved else {}
        state.setdefault("media", {})
        horizon = epoch_now() - self.config.lookback_days * 86400
        try:
            counts: dict[str, int | None] = {}
            yield from self._media(state, horizon, counts)
            yield from self._comments(state, horizon, counts)
        finally:
            self.client.close()

    def _media(self, state: dict[str, Any], horizon: float, counts: dict[str, int | None]) -> Iterator[Page]:
        params = {"fields": MEDIA_FIELDS, "limit": self.config.page_size}
        if state.get("media_after"):
            params["after"] = state["media_after"]
        for data, paging, following in paginate(self.client, f"{self.user_id}/media", params, self.config.max_pages):
            records: list[Mapped] = []
            reached_horizon = False
            for media in data:
                mapped = map_record(media, lambda m=media: self.map_media(m), media.get("id"))
                if mapped.event is None:
                    records.append(mapped)
                    continue
                created = epoch_of(mapped.event["created_at"])
                if created < horizon:
                    reached_horizon = True
                    continue
                counts[media["id"]] = media.get("comments_count")
                if media["id"] not in state["media"]:
                    state["media"][media["id"]] = {"created": created, "comments_count": None, "seen": None}
                    records.append(mapped)
            done = reached_horizon or following is None
            state["media_after"] = None if done else (paging.get("cursors") or {}).get("after")
            yield Page(records, copy_state(state))
            if done:
                break

    def _comments(self, state: dict[str, Any], horizon: float, counts: dict[str, int | None]) -> Iterator[Page]:
        for media_id in [m for m, info in state["media"].items() if info["created"] < horizon]:
            del state["media"][media_id]
        for media_id in sorted(state["media"]):
            info = state["media"][media_id]
            count = counts.get(media_id)
            if count is not None and count == info.get("comments_count"):
                continue  # nothing new on this media
            seen = SeenFilter(info.get("seen"))
            records: list[Mapped] = []
            try:
                params = {"fields": COMMENT_FIELDS, "limit": self.config.page_size}
                for data, _paging, _following in paginate(
                    self.client, f"{media_id}/comments", params, self.config.max_pages
                ):
                    for comment in data:
                        records += self._new(comment, media_id, None, seen)
                        for reply in (comment.get("replies") or {}).get("data") or []:
                            records += self._new(reply, media_id, comment.get("id"), seen)
            except SkipResource:
                del state["media"][media_id]
                yield Page([], copy_state(state))
                continue
            info["seen"] = seen.state(commit=True)
            info["comments_count"] = count
            yield Page(records, copy_state(state))

    def _new(self, comment: dict[str, Any], media_id: str, parent: str | None, seen: SeenFilter) -> list[Mapped]:
        mapped = map_record(comment, lambda: self.map_comment(comment, media_id, parent), comment.get("id"))
        if mapped.event is None:
            return [mapped] if seen.first_failure(mapped.native_id) else []
        timestamp, item_id = mapped.event["created_at"], mapped.event["id"]
        if not seen.is_new(timestamp, item_id):
            return []
        seen.observe(timestamp, item_id)
        return [mapped]


def streams(settings: Settings, connector_settings: ConnectorSettings) -> list[Stream]:
    return [InstagramAccountStream(settings, connector_settings.instagram).stream()]
