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
from connectors.config import ConnectorSettings, RedditSettings
from connectors.http import ApiClient, Decision, SkipResource, default_classify, short_body
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


class RedditListingStream:
    def __init__(
        self, settings: Settings, config: RedditSettings, client: ApiClient, key: str, path: str, params: dict[str, Any]
    ):
        self.settings = settings
        self.config = config
        self.client = client
        self.key = key
        self.path = path
        self.params = params
        self.brand = {name.lower() for name in config.brand_usernames}

    def stream(self) -> Stream:
        return Stream(self.key, self.pages)

    def map_post(self, data: dict[str, Any]) -> dict[str, Any]:
        author_id, author_name = _author(data)
        text = data.get("title") or ""
        if data.get("selftext"):
            text = f"{text}\n\n{data['selftext']}"
        return build_raw_event(
            self.settings,
            source="reddit",
            native_id=data["name"],
            kind="post",
            channel=data.get("subreddit_name_prefixed") or self.config.channel,
            author_native_id=author_id,
            author_name=author_name,
            author_is_brand=bool(author_name and author_name.lower() in self.brand),
            text=text,
            url=f"https://www.reddit.com{data['permalink']}" if data.get("permalink") else data.get("url"),
            created_at=data.get("created_utc"),
            likes=max(0, int(data.get("score") or 0)),
            replies=data.get("num_comments"),
            raw=data,
        )

    def map_comment(self, data: dict[str, Any]) -> dict[str, Any]:
        author_id, author_name = _author(data)
        parent = data.get("parent_id") or data.get("link_id")
        return build_raw_event(
            self.settings,
            source="reddit",
            native_id=data["name"],
            kind="comment" if str(parent).startswith("t3_") else "reply",
            channel=data.get("subreddit_name_prefixed")
            or (f"r/{data['subreddit']}" if data.get("subreddit") else self.config.channel),
            author_native_id=author_id,
            author_name=author_name,
            author_is_brand=bool(author_name and author_name.lower() in self.brand),
            parent_native_id=parent,
            thread_native_id=data.get("link_id"),
            text=data.get("body") or "",
            url=f"https://www.reddit.com{data['permalink']}" if data.get("permalink") else None,
            created_at=data.get("created_utc"),
            likes=max(0, int(data.get("score") or 0)),
            raw={k: v for k, v in data.items() if k != "replies"},
        )

    def pages(self, saved: dict[str, Any] | None) -> Iterator[Page]:
        state: dict[str, Any] = copy_state(saved) if saved else {}
        state.setdefault("posts", {})
        seen = SeenFilter(state.get("seen"))
        now = epoch_now()
        cutoff = (
            epoch_of(seen.high_water) - self.config.revisit_days * 86400
            if seen.high_water
            else now - self.config.lookback_days * 86400
        )
        counts: dict[str, int] = {}
        after = (state.get("sweep") or {}).get("after")
        for _ in range(self.config.max_pages):
            params = {**self.params, "limit": min(100, self.config.page_size), "raw_json": 1}
            if after:
                params["after"] = after
            try:
                body = self.client.get_json(self.path, params)
            except SkipResource as exc:
                raise ConnectorError(f"reddit: {self.path} is not readable ({exc})") from None
            listing = body.get("data") or {} if isinstance(body, dict) else {}
            records: list[Mapped] = []
            oldest: float | None = None
            for child in listing.get("children") or []:
                data = child.get("data") or {}
                mapped = map_record(data, lambda d=data: self.map_post(d), data.get("name"))
                if mapped.event is None:
                    if seen.first_failure(mapped.native_id):
                        records.append(mapped)
                    continue
                created = epoch_of(mapped.event["created_at"])
                oldest = created if oldest is None else min(oldest, created)
                if created >= now - self.config.lookback_days * 86400:
                    counts[data["name"]] = int(data.get("num_comments") or 0)
                    state["posts"].setdefault(data["name"], {"created": created, "num_comments": None, "seen": None})
                if seen.is_new(mapped.event["created_at"], mapped.event["id"]):
                    seen.observe(mapped.event["created_at"], mapped.event["id"])
                    records.append(mapped)
            after = listing.get("after")
            done = not after or (oldest is not None and oldest < cutoff)
            state["seen"], state["sweep"] = (
                (seen.state(commit=True), None) if done else (seen.state(), {"after": after})
            )
            yield Page(records, copy_state(state))
            if done:
                break
        if self.config.comments_for_posts:
            yield from self._comments(state, now, counts)

    def _comments(self, state: dict[str, Any], now: int, counts: dict[str, int]) -> Iterator[Page]:
        horizon = now - self.config.lookback_days * 86400
        for name in [n for n, info in state["posts"].items() if info["created"] < horizon]:
            del state["posts"][name]
        for name in sorted(state["posts"]):
            info = state["posts"][name]
            count = counts.get(name)
            if count is None or count == info.get("num_comments"):
                continue
            seen = SeenFilter(info.get("seen"))
            try:
                comments = list(self._tree(name))
            except SkipResource:
                del state["posts"][name]
                yield Page([], copy_state(state))
                continue
            records: list[Mapped] = []
            for data in comments:
                mapped = map_record(data, lambda d=data: self.map_comment(d), data.get("name"))
                if mapped.event is None:
                    if seen.first_failure(mapped.native_id):
                        records.append(mapped)
                elif seen.is_new(mapped.event["created_at"], mapped.event["id"]):
                    seen.observe(mapped.event["created_at"], mapped.event["id"])
                    records.append(mapped)
            info["seen"], info["num_comments"] = seen.state(commit=True), count
            yield Page(records, copy_state(state))

    def _tree(self, post_name: str) -> Iterator[dict[str, Any]]:
        """Every comment of a post, depth first, with ``more`` stubs expanded."""
        body = self.client.get_json(
            f"comments/{post_name.removeprefix('t3_')}", {"sort": "new", "limit": 500, "raw_json": 1}
        )
        if not isinstance(body, list) or len(body) < 2:
            raise ConnectorError(f"reddit: unexpected comments answer for {post_name}")
        more: list[str] = []
        yield from _walk((body[1].get("data") or {}).get("children") or [], more)
        while more:
            batch, more = more[:100], more[100:]
            answer = self.client.get_json(
                "api/morechildren",
                {"api_type": "json", "link_id": post_name, "children": ",".join(batch), "raw_json": 1},
            )
            things = ((answer.get("json") or {}).get("data") or {}).get("things") or []
            yield from _walk(things, more, flat=True)


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


def streams(settings: Settings, connector_settings: ConnectorSettings) -> list[Stream]:
    config = connector_settings.reddit
    if not config.subreddits and not config.query:
        raise ConnectorError(
            "reddit: nothing to watch; set ECOUTE_REDDIT__SUBREDDITS (JSON list) or ECOUTE_REDDIT__QUERY"
        )
    token = fetch_token(config)
    client = ApiClient(
        "reddit", config, classify, headers={"Authorization": f"bearer {token}", "User-Agent": config.user_agent},
        after_response=pace,
    )  # fmt: skip
    result = [
        RedditListingStream(settings, config, client, f"r.{sub.lower()}", f"r/{sub}/new", {}).stream()
        for sub in config.subreddits
    ]
    if config.query:
        digest = hashlib.sha256(config.query.encode()).hexdigest()[:12]
        params = {"q": config.query, "sort": "new", "type": "link"}
        result.append(RedditListingStream(settings, config, client, f"search.{digest}", "search", params).stream())
    if result:
        result[-1].extra["close"] = client.close  # the streams share one client
    return result
