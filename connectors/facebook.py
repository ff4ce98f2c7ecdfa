"""Facebook Pages (Graph API): the page's posts, their comments and replies.

- Posts: ``GET /{page-id}/feed`` over a ``since``/``until`` window (epoch seconds), cursor pages.
  A sweep's window starts where the last completed one ended (first run: ``lookback_days``).
- Comments and replies: ``GET /{post-id}/comments?filter=stream&order=chronological`` for every
  post younger than ``lookback_days``; the ``after`` cursor of each post is kept, so the next sweep
  asks only for what came after it. With ``filter=stream`` replies come flat, with ``parent``.
- Brand replies: a comment whose author (``from.id``) is the page itself has ``author.is_brand``.
- Errors and rate limits: see connectors/graph.py.

Checkpoint (one JSON file, ``facebook.page.<id>``): the feed window and its next-page cursor, and
per watched post its creation time and comment cursor. It is saved after each acknowledged page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.base import (
    ConnectorError,
    Mapped,
    Page,
    Stream,
    build_raw_event,
    copy_state,
    epoch_now,
    epoch_of,
    map_record,
)
from connectors.config import ConnectorSettings, FacebookSettings
from connectors.graph import make_graph_client, paginate
from connectors.http import ApiClient, SkipResource
from ecoute.settings import Settings

POST_FIELDS = (
    "id,message,story,created_time,updated_time,from,permalink_url,shares,"
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
)
COMMENT_FIELDS = "id,message,created_time,from,parent{id},like_count,comment_count,permalink_url"
TOKEN_SETTING = "ECOUTE_FACEBOOK__PAGE_TOKEN"


def _summary_count(record: dict[str, Any], edge: str) -> int | None:
    summary = (record.get(edge) or {}).get("summary") or {}
    count = summary.get("total_count")
    return count if isinstance(count, int) else None


def map_post(record: dict[str, Any], settings: Settings, page_id: str, channel: str) -> dict[str, Any]:
    author = record.get("from") or {}
    return build_raw_event(
        settings,
        source="facebook",
        native_id=record["id"],
        kind="post",
        channel=channel,
        author_native_id=author.get("id"),
        author_name=author.get("name"),
        author_is_brand=author.get("id") == page_id,
        text=record.get("message") or record.get("story") or "",
        url=record.get("permalink_url"),
        created_at=record.get("created_time"),
        likes=_summary_count(record, "reactions"),
        replies=_summary_count(record, "comments"),
        shares=(record.get("shares") or {}).get("count"),
        raw=record,
    )


def map_comment(record: dict[str, Any], settings: Settings, post_id: str, page_id: str, channel: str) -> dict[str, Any]:
    author = record.get("from") or {}
    parent = (record.get("parent") or {}).get("id")
    return build_raw_event(
        settings,
        source="facebook",
        native_id=record["id"],
        kind="reply" if parent else "comment",
        channel=channel,
        author_native_id=author.get("id"),
        author_name=author.get("name"),
        author_is_brand=author.get("id") == page_id,
        parent_native_id=parent or post_id,
        thread_native_id=post_id,
        text=record.get("message") or "",
        url=record.get("permalink_url"),
        created_at=record.get("created_time"),
        likes=record.get("like_count"),
        replies=record.get("comment_count"),
        raw=record,
    )


class FacebookPageStream:
    """One page: its feed window, then the comments of each watched post."""

    def __init__(self, settings: Settings, config: FacebookSettings, client: ApiClient | None = None):
        if not config.page_id:
            raise ConnectorError("facebook: no page id; set ECOUTE_FACEBOOK__PAGE_ID")
        self.settings = settings
        self.config = config
        self.page_id = config.page_id
        self.client = client or make_graph_client(
            "facebook", config, config.page_token.get_secret_value() if config.page_token else None, TOKEN_SETTING
        )
        self.channel = config.page_id

    def stream(self) -> Stream:
        return Stream(f"page.{self.page_id}", self.pages)

    def pages(self, saved: dict[str, Any] | None) -> Iterator[Page]:
        state: dict[str, Any] = copy_state(saved) if saved else {}
        state.setdefault("posts", {})
        now = epoch_now()
        try:
            yield from self._feed(state, now)
            yield from self._comments(state, now)
        finally:
            self.client.close()

    def _feed(self, state: dict[str, Any], now: int) -> Iterator[Page]:
        window = state.get("window")
        if not window:
            since = state.get("since") or int(now - self.config.lookback_days * 86400)
            window = {"since": int(since), "until": now}
            state["window"], state["feed_next"] = window, None
        params = state.get("feed_next") or {
            "fields": POST_FIELDS,
            "since": window["since"],
            "until": window["until"],
            "limit": self.config.page_size,
        }
        for data, _paging, following in paginate(self.client, f"{self.page_id}/feed", params, self.config.max_pages):
            records: list[Mapped] = []
            for post in data:
                mapped = map_record(
                    post, lambda p=post: map_post(p, self.settings, self.page_id, self.channel), post.get("id")
                )
                records.append(mapped)
                if mapped.event is not None:
                    created = epoch_of(post["created_time"])
                    state["posts"].setdefault(post["id"], {"created": created, "after": None})
            state["feed_next"] = following
            if following is None:  # window done: the next sweep starts where this one ended
                state["since"], state["window"] = window["until"], None
            yield Page(records, copy_state(state))
        # If max_pages stopped the loop, feed_next is kept: the next run continues this window.

    def _comments(self, state: dict[str, Any], now: int) -> Iterator[Page]:
        horizon = now - self.config.lookback_days * 86400
        for post_id in [p for p, info in state["posts"].items() if info["created"] < horizon]:
            del state["posts"][post_id]  # old posts are no longer polled for comments
        for post_id in sorted(state["posts"]):
            info = state["posts"][post_id]
            params = {
                "filter": "stream",
                "order": "chronological",
                "fields": COMMENT_FIELDS,
                "limit": self.config.page_size,
            }
            if info.get("after"):
                params["after"] = info["after"]
            try:
                for data, paging, _following in paginate(
                    self.client, f"{post_id}/comments", params, self.config.max_pages
                ):
                    records = [
                        map_record(
                            c,
                            lambda c=c, post_id=post_id: map_comment(
                                c, self.settings, post_id, self.page_id, self.channel
                            ),
                            c.get("id"),
                        )
                        for c in data
                    ]
                    after = (paging.get("cursors") or {}).get("after")
                    if data and after:
                        info["after"] = after
                    yield Page(records, copy_state(state))
            except SkipResource:
                del state["posts"][post_id]  # deleted post: stop polling it
                yield Page([], copy_state(state))


def streams(settings: Settings, connector_settings: ConnectorSettings) -> list[Stream]:
    return [FacebookPageStream(settings, connector_settings.facebook).stream()]


__all__ = ["FacebookPageStream", "map_comment", "map_post", "streams"]
