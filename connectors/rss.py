"""RSS/Atom news feeds (feedparser), fetched with conditional requests.

Each feed is a stream: ``If-None-Match``/``If-Modified-Since`` from the saved ``ETag`` and
``Last-Modified`` (a 304 costs nothing); new entries (by their id, or link) become posts. The
checkpoint keeps the validators and the ids seen (pruned after ``lookback_days``), saved only
after the entries were acknowledged. An unreadable feed is dead-lettered with its body and the
parser's reason, and the run goes on with the other feeds.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx

from connectors.config import ConnectorSettings, RssSettings
from connectors.errors import ConnectorError, MappingError
from connectors.http import ApiClient, SkipResource
from connectors.mapping import build_raw_event
from connectors.source import HttpSource, Item, PolledStream, Sweep, Unreadable
from ecoute import events
from ecoute.settings import Settings

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def plain_text(markup: str | None) -> str:
    """Feed HTML → readable text (tags dropped, entities decoded, blank runs collapsed)."""
    if not markup:
        return ""
    text = html.unescape(_TAGS.sub(" ", markup))
    return "\n".join(line.strip() for line in _SPACES.sub(" ", text).splitlines() if line.strip())


def entry_key(entry: Any) -> str | None:
    key = entry.get("id") or entry.get("link") or (entry.get("title", "") + entry.get("published", ""))
    return hashlib.sha256(key.encode()).hexdigest()[:32] if key else None


def _entry_time(entry: Any) -> str | None:
    for field in ("published_parsed", "updated_parsed"):
        parsed = entry.get(field)
        if parsed:
            return events.to_rfc3339(datetime.fromtimestamp(calendar.timegm(parsed), UTC))
    return None


@dataclass
class Feed:
    response: httpx.Response
    parsed: Any

    def title(self) -> str | None:
        return plain_text(self.parsed.feed.get("title")) or None


class FeedStream(PolledStream):
    """One feed, one conditional GET (a 304 costs nothing); its new entries become posts. The
    checkpoint keeps the validators and the entry ids seen (pruned after ``lookback_days``)."""

    config: RssSettings

    def __init__(self, settings: Settings, config: RssSettings, url: str):
        super().__init__(settings, config)
        self.url = url
        self.key = f"feed.{hashlib.sha256(url.encode()).hexdigest()[:16]}"
        self.keywords = [word.lower() for word in config.keywords]

    def start(self, sweep: Sweep) -> tuple[dict[str, Any], Any]:
        sweep.state.setdefault("seen", {})
        return {}, None

    def fetch(self, params: dict[str, Any], sweep: Sweep) -> Feed | None:
        state = sweep.state
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        with ApiClient("rss", self.config, base_url="") as client:
            try:
                response = client.request("GET", self.url, headers=headers)
            except SkipResource as exc:
                raise Unreadable(self.url, f"feed not found: {exc}") from None
        if response.status_code == 304:
            return None
        parsed = feedparser.parse(
            response.content, response_headers={k.lower(): v for k, v in response.headers.items()}
        )
        if parsed.bozo and not parsed.entries:
            reason = f"parse: feed unreadable ({type(parsed.bozo_exception).__name__}: {parsed.bozo_exception})"
            raise Unreadable(response.content, reason[:1000])
        return Feed(response, parsed)

    def records(self, body: Feed | None, sweep: Sweep) -> Iterator[Item]:
        """The entries not seen before (that name a keyword, when keywords are set), noted as seen."""
        if body is None:
            return
        seen: dict[str, int] = sweep.state["seen"]
        feed_title = body.title()
        for entry in body.parsed.entries:
            key = entry_key(entry)
            if key and key in seen:
                continue
            text = f"{entry.get('title', '')} {entry.get('summary', '')}".lower()
            if self.keywords and not any(word in text for word in self.keywords):
                continue
            if key:
                seen[key] = sweep.now
            yield Item(entry, {"feed_title": feed_title}, original=dict(entry))

    def native_id(self, record: Any) -> Any:
        return entry_key(record)

    def advance(self, sweep: Sweep, body: Feed | None, token: Any, done: bool) -> None:
        if body is None:  # 304 Not Modified: validators and ids stay
            return
        state = sweep.state
        current = {key for key in map(entry_key, body.parsed.entries) if key}
        horizon = sweep.now - self.config.lookback_days * 86400
        state["seen"] = {k: t for k, t in state["seen"].items() if t >= horizon or k in current}
        state["etag"] = body.response.headers.get("etag")
        state["modified"] = body.response.headers.get("last-modified")

    def map(self, entry: Any, feed_title: str | None) -> dict[str, Any]:
        key = entry_key(entry)
        if key is None:
            raise MappingError("entry without id, link or title")
        title = plain_text(entry.get("title"))
        summary = plain_text(entry.get("summary") or "")
        published = _entry_time(entry)
        return build_raw_event(
            self.settings,
            source="rss",
            native_id=key,
            kind="post",
            channel=feed_title or urlsplit(self.url).hostname or self.config.channel,
            author_native_id=entry.get("author") or feed_title or urlsplit(self.url).hostname,
            author_name=entry.get("author"),
            text=f"{title}\n\n{summary}" if summary and summary != title else title,
            url=entry.get("link"),
            created_at=published or events.utc_now(),  # undated news: when we first saw it
            raw={
                "feed": self.url,
                "entry_id": entry.get("id"),
                "link": entry.get("link"),
                "title": entry.get("title"),
                "published": entry.get("published") or entry.get("updated"),
                "author": entry.get("author"),
                "tags": [tag.get("term") for tag in entry.get("tags") or [] if tag.get("term")],
            },
        )


class RssSource(HttpSource):
    name = "rss"

    def streams(self, settings: Settings, connector_settings: ConnectorSettings) -> list[PolledStream]:
        config = connector_settings.rss
        if not config.feeds:
            raise ConnectorError("rss: no feeds; set ECOUTE_RSS__FEEDS to a JSON list of feed URLs")
        return [FeedStream(settings, config, url) for url in config.feeds]
