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

from typing import Any

from connectors.config import InstagramSettings
from connectors.graph import GraphListing, GraphSource, map_graph_comment
from connectors.http import ApiClient
from connectors.mapping import build_raw_event, epoch_of
from connectors.source import ChildListing, Item, PolledStream, Sweep
from ecoute.settings import Settings

MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,username,like_count,comments_count"
COMMENT_FIELDS = "id,text,timestamp,username,from,like_count,replies{id,text,timestamp,username,from,like_count}"
TOKEN_SETTING = "ECOUTE_INSTAGRAM__ACCESS_TOKEN"


def is_brand(record: dict[str, Any], config: InstagramSettings) -> bool:
    author = record.get("from") or {}
    username = author.get("username") or record.get("username")
    return author.get("id") == config.user_id or bool(config.username and username == config.username)


def map_media(media: dict[str, Any], settings: Settings, config: InstagramSettings) -> dict[str, Any]:
    return build_raw_event(
        settings,
        source="instagram",
        native_id=media["id"],
        kind="post",
        channel=config.username or config.user_id,
        author_native_id=config.user_id,
        author_name=media.get("username"),
        author_is_brand=True,
        text=media.get("caption") or "",
        url=media.get("permalink"),
        created_at=media.get("timestamp"),
        likes=media.get("like_count"),
        replies=media.get("comments_count"),
        raw=media,
    )


def map_comment(
    comment: dict[str, Any], settings: Settings, config: InstagramSettings, media_id: str, parent: str | None
) -> dict[str, Any]:
    author = comment.get("from") or {}
    return map_graph_comment(
        comment,
        settings,
        source="instagram",
        thread_id=media_id,
        parent=parent,
        channel=config.username or config.user_id,
        author_native_id=author.get("id") or comment.get("username"),
        author_name=author.get("username") or comment.get("username"),
        author_is_brand=is_brand(comment, config),
        text=comment.get("text") or "",
        created_at=comment.get("timestamp"),
        likes=comment.get("like_count"),
        replies=len((comment.get("replies") or {}).get("data") or []) if not parent else None,
        raw={k: v for k, v in comment.items() if k != "replies"},
    )


class InstagramComments(GraphListing, ChildListing):
    """A media's comments with their replies nested; re-read when its comments_count changed (or it
    was not listed), all of one media in one batch; only comments newer than the last seen are sent."""

    config: InstagramSettings
    path = "{parent_id}/comments"
    newest_first = True
    count_field = "comments_count"
    one_page = True

    def params(self, info: dict[str, Any]) -> dict[str, Any]:
        return {"fields": COMMENT_FIELDS, "limit": self.config.page_size}

    def records(self, body: Any, parent_id: str) -> list[Item]:
        records = []
        for item in self.items(body):
            comment = item.record
            records.append(Item(comment, {"media_id": parent_id, "parent": None}))
            for reply in (comment.get("replies") or {}).get("data") or []:
                records.append(Item(reply, {"media_id": parent_id, "parent": comment.get("id")}))
        return records

    def map(self, record: dict[str, Any], media_id: str, parent: str | None) -> dict[str, Any]:
        return map_comment(record, self.settings, self.config, media_id, parent)


class InstagramAccountStream(GraphListing, PolledStream):
    """The account's media, newest first, down to ``lookback_days``: the ones not seen before are sent."""

    config: InstagramSettings
    watches = "media"
    watch_fields = ("comments_count", "seen")

    def __init__(self, settings: Settings, config: InstagramSettings, client: ApiClient | None = None):
        super().__init__(settings, config, client)
        self.key = f"account.{config.user_id}"
        self.path = f"{config.user_id}/media"
        self.children = InstagramComments(settings, config, client)

    def start(self, sweep: Sweep) -> tuple[dict[str, Any], Any]:
        first = {"fields": MEDIA_FIELDS, "limit": self.config.page_size}
        if sweep.state.get("media_after"):
            first["after"] = sweep.state["media_after"]
        return first, None

    def accept(self, item: Item, event: dict[str, Any], sweep: Sweep) -> bool:
        created = epoch_of(event["created_at"])
        if created < sweep.horizon:
            sweep.stop = True  # older media are no longer watched: the listing ends here
            return False
        return sweep.watch(item.record["id"], created, item.record.get("comments_count"))

    def advance(self, sweep: Sweep, body: Any, token: Any, done: bool) -> None:
        sweep.state["media_after"] = None if done else ((body.get("paging") or {}).get("cursors") or {}).get("after")

    def map(self, record: dict[str, Any]) -> dict[str, Any]:
        return map_media(record, self.settings, self.config)


class InstagramSource(GraphSource):
    name = "instagram"
    account_field, missing_account = "user_id", "no business account id; set ECOUTE_INSTAGRAM__USER_ID"
    token_field, token_setting = "access_token", TOKEN_SETTING
    stream_class = InstagramAccountStream
