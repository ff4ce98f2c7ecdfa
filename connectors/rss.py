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
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from connectors.base import (
    ConnectorError,
    Mapped,
    MappingError,
    Page,
    Stream,
    build_raw_event,
    copy_state,
    epoch_now,
    map_record,
)
from connectors.config import ConnectorSettings, RssSettings
from connectors.http import ApiClient, SkipResource
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


class FeedStream:
    def __init__(self, settings: Settings, config: RssSettings, url: str):
        self.settings = settings
        self.config = config
        self.url = url
        self.keywords = [word.lower() for word in config.keywords]

    def stream(self) -> Stream:
        return Stream(f"feed.{hashlib.sha256(self.url.encode()).hexdigest()[:16]}", self.pages)

    def map_entry(self, entry: Any, feed_title: str | None) -> dict[str, Any]:
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

    def pages(self, saved: dict[str, Any] | None) -> Iterator[Page]:
        state: dict[str, Any] = copy_state(saved) if saved else {}
        seen: dict[str, int] = state.setdefault("seen", {})
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        with ApiClient("rss", self.config, base_url="") as client:
            try:
                response = client.request("GET", self.url, headers=headers)
            except SkipResource as exc:
                yield Page([Mapped(self.url, reason=f"feed not found: {exc}")], None)
                return
        if response.status_code == 304:
            yield Page([], copy_state(state))
            return
        parsed = feedparser.parse(
            response.content, response_headers={k.lower(): v for k, v in response.headers.items()}
        )
        if parsed.bozo and not parsed.entries:
            reason = f"parse: feed unreadable ({type(parsed.bozo_exception).__name__}: {parsed.bozo_exception})"
            yield Page([Mapped(response.content, reason=reason[:1000])], None)
            return
        feed_title = plain_text(parsed.feed.get("title")) or None
        records: list[Mapped] = []
        now = epoch_now()
        current = set()
        for entry in parsed.entries:
            key = entry_key(entry)
            if key:
                current.add(key)
            if key and key in seen:
                continue
            text = f"{entry.get('title', '')} {entry.get('summary', '')}".lower()
            if self.keywords and not any(word in text for word in self.keywords):
                continue
            mapped = map_record(dict(entry), lambda e=entry: self.map_entry(e, feed_title), key)
            records.append(mapped)
            if key:
                seen[key] = now
        horizon = now - self.config.lookback_days * 86400
        state["seen"] = {k: t for k, t in seen.items() if t >= horizon or k in current}
        state["etag"] = response.headers.get("etag")
        state["modified"] = response.headers.get("last-modified")
        yield Page(records, copy_state(state))


def streams(settings: Settings, connector_settings: ConnectorSettings) -> list[Stream]:
    config = connector_settings.rss
    if not config.feeds:
        raise ConnectorError("rss: no feeds; set ECOUTE_RSS__FEEDS to a JSON list of feed URLs")
    return [FeedStream(settings, config, url).stream() for url in config.feeds]
