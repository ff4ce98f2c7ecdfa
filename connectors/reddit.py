"""Reddit: subreddit and search listings, and the comment trees of the posts found.

- Auth: an application-only OAuth token (``POST /api/v1/access_token``,
  ``grant_type=client_credentials``, HTTP basic auth with the app's client id and secret).
- Listings (``/r/{sub}/new``, ``/search?sort=new``) are newest first with ``after`` fullnames;
  a sweep reads until posts older than the last sweep's newest minus ``revisit_days``.
- Comment trees: ``/comments/{id}`` for posts whose ``num_comments`` changed; ``more`` stubs are
  expanded with ``/api/morechildren``. Only comments newer than the last seen are emitted.
- Ids are Reddit fullnames (``t3_`` posts, ``t1_`` comments), so ``parent_id`` links directly.
- Rate limits: 429 waits ``X-Ratelimit-Reset`` seconds (or ``Retry-After``); when
  ``X-Ratelimit-Remaining`` reaches 0 the client pauses until the reset before the next call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx

from connectors.config import ConnectorSettings, RedditSettings
from connectors.errors import ConnectorError
from connectors.http import ApiClient, Decision, SkipResource, default_classify, short_body
from connectors.mapping import build_raw_event, epoch_of
from connectors.source import ChildListing, HttpSource, Item, PolledStream, Sweep, TokenPaginator
from ecoute.settings import Settings

SECRET_SETTINGS = "ECOUTE_REDDIT__CLIENT_ID / ECOUTE_REDDIT__CLIENT_SECRET"


def _reset_s(response: httpx.Response) -> float | None:
    for name in ("x-ratelimit-reset", "retry-after"):
        try:
            return max(0.0, float(response.headers[name]))
        except (KeyError, ValueError):
            continue
    return None


def classify(response: httpx.Response) -> Decision:
    if response.status_code == 429:
        return Decision("retry", "429 Too Many Requests", _reset_s(response))
    if response.status_code == 401:
        return Decision("fatal", f"the OAuth token was refused ({short_body(response, 120)}); check {SECRET_SETTINGS}")
    if response.status_code == 403:
        return Decision("skip", f"403 (private, quarantined or banned): {short_body(response, 120)}")
    return default_classify(response)


def pace(response: httpx.Response) -> float:
    try:
        remaining = float(response.headers["x-ratelimit-remaining"])
    except (KeyError, ValueError):
        return 0.0
    return (_reset_s(response) or 0.0) if remaining < 1 else 0.0


def fetch_token(config: RedditSettings) -> str:
    if not config.client_id or not config.client_secret:
        raise ConnectorError(f"reddit: no app credentials; set {SECRET_SETTINGS}")

    def token_classify(response: httpx.Response) -> Decision:
        if response.status_code in (400, 401, 403):
            return Decision(
                "fatal", f"the app credentials were refused (HTTP {response.status_code}); check {SECRET_SETTINGS}"
            )
        return classify(response)

    with ApiClient("reddit", config, token_classify, base_url="", headers={"User-Agent": config.user_agent}) as client:
        response = client.request(
            "POST",
            config.token_url,
            data={"grant_type": "client_credentials"},
            auth=(config.client_id, config.client_secret.get_secret_value()),
        )
    try:
        body = response.json()
    except ValueError:
        raise ConnectorError("reddit: the token endpoint did not answer JSON") from None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not token:
        raise ConnectorError(
            f"reddit: no access token granted ({body.get('error', 'no error given')}); check {SECRET_SETTINGS}"
        )
    return token


def _author(data: dict[str, Any]) -> tuple[str | None, str | None]:
    name = data.get("author")
    if not name or name == "[deleted]":
        return None, None
    return data.get("author_fullname") or name, name


def _is_brand(name: str | None, config: RedditSettings) -> bool:
    return bool(name and name.lower() in {brand.lower() for brand in config.brand_usernames})


def map_post(data: dict[str, Any], settings: Settings, config: RedditSettings) -> dict[str, Any]:
    author_id, author_name = _author(data)
    text = data.get("title") or ""
    if data.get("selftext"):
        text = f"{text}\n\n{data['selftext']}"
    return build_raw_event(
        settings,
        source="reddit",
        native_id=data["name"],
        kind="post",
        channel=data.get("subreddit_name_prefixed") or config.channel,
        author_native_id=author_id,
        author_name=author_name,
        author_is_brand=_is_brand(author_name, config),
        text=text,
        url=f"https://www.reddit.com{data['permalink']}" if data.get("permalink") else data.get("url"),
        created_at=data.get("created_utc"),
        likes=max(0, int(data.get("score") or 0)),
        replies=data.get("num_comments"),
        raw=data,
    )


def map_comment(data: dict[str, Any], settings: Settings, config: RedditSettings) -> dict[str, Any]:
    author_id, author_name = _author(data)
    parent = data.get("parent_id") or data.get("link_id")
    return build_raw_event(
        settings,
        source="reddit",
        native_id=data["name"],
        kind="comment" if str(parent).startswith("t3_") else "reply",
        channel=data.get("subreddit_name_prefixed")
        or (f"r/{data['subreddit']}" if data.get("subreddit") else config.channel),
        author_native_id=author_id,
        author_name=author_name,
        author_is_brand=_is_brand(author_name, config),
        parent_native_id=parent,
        thread_native_id=data.get("link_id"),
        text=data.get("body") or "",
        url=f"https://www.reddit.com{data['permalink']}" if data.get("permalink") else None,
        created_at=data.get("created_utc"),
        likes=max(0, int(data.get("score") or 0)),
        raw={k: v for k, v in data.items() if k != "replies"},
    )


class RedditComments(ChildListing):
    """A post's whole comment tree (``more`` stubs expanded), re-read when its num_comments changed."""

    config: RedditSettings
    newest_first = True
    count_field = "num_comments"
    read_unlisted = False
    one_page = True

    def fetch(self, parent_id: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self._tree(parent_id))

    def records(self, body: Any, parent_id: str) -> list[Item]:
        return [Item(comment) for comment in body]

    def native_id(self, record: Any) -> Any:
        return record.get("name")

    def map(self, record: dict[str, Any]) -> dict[str, Any]:
        return map_comment(record, self.settings, self.config)

    def _tree(self, post_name: str) -> Iterator[dict[str, Any]]:
        """Every comment of a post, depth first, with ``more`` stubs expanded."""
        body = self.get(f"comments/{post_name.removeprefix('t3_')}", {"sort": "new", "limit": 500, "raw_json": 1})
        if not isinstance(body, list) or len(body) < 2:
            raise ConnectorError(f"reddit: unexpected comments answer for {post_name}")
        more: list[str] = []
        yield from _walk((body[1].get("data") or {}).get("children") or [], more)
        while more:
            batch, more = more[:100], more[100:]
            answer = self.get(
                "api/morechildren",
                {"api_type": "json", "link_id": post_name, "children": ",".join(batch), "raw_json": 1},
            )
            things = ((answer.get("json") or {}).get("data") or {}).get("things") or []
            yield from _walk(things, more, flat=True)


class RedditListingStream(PolledStream):
    """A subreddit's or a search's posts, newest first, with ``after`` fullnames; then their comments."""

    config: RedditSettings
    paginator = TokenPaginator("data.after", "after")
    newest_first = True
    sweep_token = "after"
    watches = "posts"
    watch_fields = ("num_comments", "seen")

    def __init__(
        self, settings: Settings, config: RedditSettings, client: ApiClient, key: str, path: str, params: dict[str, Any]
    ):
        super().__init__(settings, config, client)
        self.key, self.path, self.listing_params = key, path, params
        self.children = RedditComments(settings, config, client) if config.comments_for_posts else None

    def params(self) -> dict[str, Any]:
        return {**self.listing_params, "limit": min(100, self.config.page_size), "raw_json": 1}

    def fetch(self, params: dict[str, Any], sweep: Sweep) -> Any:
        try:
            return self.get(self.path, params)
        except SkipResource as exc:
            raise ConnectorError(f"reddit: {self.path} is not readable ({exc})") from None

    def records(self, body: Any, sweep: Sweep) -> list[Item]:
        listing = body.get("data") or {} if isinstance(body, dict) else {}
        return [Item(child.get("data") or {}) for child in listing.get("children") or []]

    def native_id(self, record: Any) -> Any:
        return record.get("name")

    def accept(self, item: Item, event: dict[str, Any], sweep: Sweep) -> bool:
        created = epoch_of(event["created_at"])
        if created >= sweep.horizon:  # watched for new comments while younger than lookback_days
            sweep.watch(item.record["name"], created, int(item.record.get("num_comments") or 0))
        return True

    def map(self, record: dict[str, Any]) -> dict[str, Any]:
        return map_post(record, self.settings, self.config)


def _walk(children: list[dict[str, Any]], more: list[str], flat: bool = False) -> Iterator[dict[str, Any]]:
    for child in children:
        kind, data = child.get("kind"), child.get("data") or {}
        if kind == "more":
            more.extend(data.get("children") or [])
        elif kind == "t1":
            yield data
            replies = data.get("replies")
            if isinstance(replies, dict) and not flat:
                yield from _walk((replies.get("data") or {}).get("children") or [], more)


class RedditSource(HttpSource):
    name = "reddit"

    def streams(self, settings: Settings, connector_settings: ConnectorSettings) -> list[PolledStream]:
        config = connector_settings.reddit
        if not config.subreddits and not config.query:
            raise ConnectorError(
                "reddit: nothing to watch; set ECOUTE_REDDIT__SUBREDDITS (JSON list) or ECOUTE_REDDIT__QUERY"
            )
        token = fetch_token(config)
        client = self.client(  # one client (one token) for every stream of the sweep
            ApiClient(
                "reddit",
                config,
                classify,
                headers={"Authorization": f"bearer {token}", "User-Agent": config.user_agent},
                after_response=pace,
            )
        )
        result: list[PolledStream] = [
            RedditListingStream(settings, config, client, f"r.{sub.lower()}", f"r/{sub}/new", {})
            for sub in config.subreddits
        ]
        if config.query:
            digest = hashlib.sha256(config.query.encode()).hexdigest()[:12]
            params = {"q": config.query, "sort": "new", "type": "link"}
            result.append(RedditListingStream(settings, config, client, f"search.{digest}", "search", params))
        return result
