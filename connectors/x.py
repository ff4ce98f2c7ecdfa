"""X API v2: recent search for brand mentions.

- ``GET /tweets/search/recent`` (last 7 days) with ``query``, newest first, ``next_token`` pages.
  A sweep asks for tweets after the last sweep's ``newest_id`` (``since_id``); the first sweep, or
  one whose ``since_id`` has left the 7-day window, uses ``start_time`` instead. The sweep's
  parameters and ``next_token`` are checkpointed after each page, so a crash resumes mid-sweep.
- Kinds: a tweet replying to the conversation's root is a comment, to another reply a reply;
  others are posts (their own thread).
- 429: waits until ``x-rate-limit-reset`` (epoch seconds); 401/403 stop with a clear message.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.config import ConnectorSettings, XSettings
from connectors.errors import ConnectorError
from connectors.http import ApiClient, Decision, default_classify, short_body
from connectors.mapping import build_raw_event
from connectors.source import HttpSource, Item, PolledStream, Sweep, TokenPaginator, dig
from ecoute import events
from ecoute.settings import Settings

TOKEN_SETTING = "ECOUTE_X__BEARER_TOKEN"
TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,public_metrics,lang"
TWITTER_EPOCH_MS = 1288834974657
RECENT_WINDOW_S = 7 * 86400 - 600  # the API refuses anything older than 7 days; keep a margin


def classify(response: httpx.Response) -> Decision:
    if response.status_code == 429:
        try:
            wait = float(response.headers["x-rate-limit-reset"]) - time.time()
        except (KeyError, ValueError):
            wait = None
        return Decision("retry", "429 Too Many Requests", max(0.0, wait) if wait is not None else None)
    if response.status_code in (401, 403):
        return Decision(
            "fatal",
            f"HTTP {response.status_code}: the bearer token was refused ({short_body(response, 200)}); check {TOKEN_SETTING}",
        )
    return default_classify(response)


def snowflake_time(tweet_id: str) -> float:
    """Creation time (epoch seconds) encoded in a tweet id."""
    return ((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000


class XSearchStream(PolledStream):
    """Recent search, newest first; a sweep's parameters are frozen in the checkpoint until it ends."""

    config: XSettings
    path = "tweets/search/recent"
    paginator = TokenPaginator("meta.next_token", "next_token")

    def __init__(self, settings: Settings, config: XSettings, client: ApiClient | None = None):
        super().__init__(settings, config, client)
        self.brand = set(config.brand_user_ids)
        self.key = f"search.{hashlib.sha256((config.query or '').encode()).hexdigest()[:12]}"

    def start(self, sweep: Sweep) -> tuple[dict[str, Any], Any]:
        state = sweep.state
        state["sweep"] = state.get("sweep") or {
            "params": self._sweep_params(state.get("since_id")),
            "next_token": None,
            "newest_id": None,
        }
        return state["sweep"]["params"], state["sweep"]["next_token"]

    def records(self, body: Any, sweep: Sweep) -> list[Item]:
        users = {u["id"]: u for u in (body.get("includes") or {}).get("users") or [] if "id" in u}
        return self.items(body, users=users)

    def advance(self, sweep: Sweep, body: Any, token: Any, done: bool) -> None:
        state, sweep_state = sweep.state, sweep.state["sweep"]
        newest = dig(body, "meta.newest_id")
        if newest and not sweep_state["newest_id"]:
            sweep_state["newest_id"] = newest  # the first page holds the newest tweet
        sweep_state["next_token"] = token
        if done:
            state["since_id"] = sweep_state["newest_id"] or state.get("since_id")
            state["sweep"] = None

    def map(self, tweet: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
        author = users.get(tweet.get("author_id") or "", {})
        replied_to = next(
            (r["id"] for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"), None
        )
        conversation = tweet.get("conversation_id") or tweet["id"]
        kind = "post" if not replied_to else ("comment" if replied_to == conversation else "reply")
        metrics = tweet.get("public_metrics") or {}
        username = author.get("username")
        return build_raw_event(
            self.settings,
            source="x",
            native_id=tweet["id"],
            kind=kind,
            channel=self.config.channel,
            author_native_id=tweet.get("author_id"),
            author_name=author.get("name") or username,
            author_is_brand=tweet.get("author_id") in self.brand,
            parent_native_id=replied_to,
            thread_native_id=conversation,
            text=tweet.get("text") or "",
            url=f"https://x.com/{username or 'i/web'}/status/{tweet['id']}",
            created_at=tweet.get("created_at"),
            likes=metrics.get("like_count"),
            replies=metrics.get("reply_count"),
            shares=(metrics.get("retweet_count") or 0) + (metrics.get("quote_count") or 0) if metrics else None,
            raw=tweet,
        )

    def _sweep_params(self, since_id: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "query": self.config.query,
            "max_results": max(10, min(100, self.config.page_size)),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username,name",
        }
        oldest_allowed = time.time() - RECENT_WINDOW_S
        if since_id and snowflake_time(since_id) > oldest_allowed:
            params["since_id"] = since_id
        else:
            start = max(oldest_allowed, time.time() - self.config.lookback_days * 86400)
            params["start_time"] = events.to_rfc3339(datetime.fromtimestamp(start, UTC))
        return params


class XSource(HttpSource):
    name = "x"

    def streams(self, settings: Settings, connector_settings: ConnectorSettings) -> list[PolledStream]:
        config = connector_settings.x
        if not config.query:
            raise ConnectorError("x: no search query; set ECOUTE_X__QUERY (e.g. '\"MaMarque\" -is:retweet')")
        if not config.bearer_token:
            raise ConnectorError(f"x: no bearer token; set {TOKEN_SETTING}")
        headers = {"Authorization": f"Bearer {config.bearer_token.get_secret_value()}"}
        return [XSearchStream(settings, config, self.client(ApiClient("x", config, classify, headers=headers)))]
