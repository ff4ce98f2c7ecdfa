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

from typing import Any

from connectors.config import FacebookSettings
from connectors.graph import GraphListing, GraphSource, map_graph_comment
from connectors.http import ApiClient
from connectors.mapping import build_raw_event, epoch_of
from connectors.source import ChildListing, Item, PolledStream, Sweep, dig
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
    return map_graph_comment(
        record,
        settings,
        source="facebook",
        thread_id=post_id,
        parent=(record.get("parent") or {}).get("id"),
        channel=channel,
        author_native_id=author.get("id"),
        author_name=author.get("name"),
        author_is_brand=author.get("id") == page_id,
        text=record.get("message") or "",
        url=record.get("permalink_url"),
        created_at=record.get("created_time"),
        likes=record.get("like_count"),
        replies=record.get("comment_count"),
        raw=record,
    )


class FacebookComments(GraphListing, ChildListing):
    """A post's comments and replies (flat with ``filter=stream``), from its saved ``after`` cursor."""

    config: FacebookSettings
    path = "{parent_id}/comments"

    def params(self, info: dict[str, Any]) -> dict[str, Any]:
        params = {
            "filter": "stream",
            "order": "chronological",
            "fields": COMMENT_FIELDS,
            "limit": self.config.page_size,
        }
        if info.get("after"):
            params["after"] = info["after"]
        return params

    def advance(self, info: dict[str, Any], body: Any, token: Any) -> None:
        after = dig(body, "paging.cursors.after")
        if body.get("data") and after:
            info["after"] = after

    def map(self, record: dict[str, Any], parent_id: str) -> dict[str, Any]:
        page_id = self.config.page_id or ""
        return map_comment(record, self.settings, parent_id, page_id, page_id)


class FacebookPageStream(GraphListing, PolledStream):
    """One page: its feed over a since/until window, then the comments of each watched post."""

    config: FacebookSettings
    watches = "posts"
    watch_fields = ("after",)

    def __init__(self, settings: Settings, config: FacebookSettings, client: ApiClient | None = None):
        super().__init__(settings, config, client)
        self.page_id = config.page_id or ""
        self.key = f"page.{self.page_id}"
        self.path = f"{self.page_id}/feed"
        self.children = FacebookComments(settings, config, client)

    def start(self, sweep: Sweep) -> tuple[dict[str, Any], Any]:
        state = sweep.state
        window = state.get("window")
        if not window:
            since = state.get("since") or int(sweep.now - self.config.lookback_days * 86400)
            window = {"since": int(since), "until": sweep.now}
            state["window"], state["feed_next"] = window, None
        first = {
            "fields": POST_FIELDS,
            "since": window["since"],
            "until": window["until"],
            "limit": self.config.page_size,
        }
        return first, state.get("feed_next")

    def accept(self, item: Item, event: dict[str, Any], sweep: Sweep) -> bool:
        sweep.watch(item.record["id"], epoch_of(event["created_at"]))
        return True

    def advance(self, sweep: Sweep, body: Any, token: Any, done: bool) -> None:
        # If max_pages stops the sweep, feed_next is kept: the next run continues this window.
        sweep.state["feed_next"] = token
        if token is None:  # window done: the next sweep starts where this one ended
            sweep.state["since"], sweep.state["window"] = sweep.state["window"]["until"], None

    def map(self, record: dict[str, Any]) -> dict[str, Any]:
        return map_post(record, self.settings, self.page_id, self.page_id)


class FacebookSource(GraphSource):
    name = "facebook"
    account_field, missing_account = "page_id", "no page id; set ECOUTE_FACEBOOK__PAGE_ID"
    token_field, token_setting = "page_token", TOKEN_SETTING
    stream_class = FacebookPageStream


__all__ = ["FacebookPageStream", "FacebookSource", "map_comment", "map_post"]
