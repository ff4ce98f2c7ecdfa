"""Acting back on the platforms: reply, hide/unhide, delete, through each source's real API.

Credentials come from the connectors' settings (``connectors/config.py``); the base URLs are the
same settings, so tests point them at recorded-shape fixture servers and production at the real
APIs. Write access the read-only connector credentials do not give (YouTube and Reddit OAuth user
tokens) comes from ``ECOUTE_INBOX__YOUTUBE_OAUTH_TOKEN`` / ``ECOUTE_INBOX__REDDIT_REFRESH_TOKEN``.

Every call goes through :func:`call_with_retries`: transient failures (network, 429, 5xx, the
Graph API's transient codes) are retried with back-off; the caller records the final outcome.
"""

from __future__ import annotations

from typing import Any

from inbox.platforms.base import ACTIONS, Platform, PlatformAnswer, PlatformError, Unsupported, call_with_retries

__all__ = [
    "ACTIONS",
    "Platform",
    "PlatformAnswer",
    "PlatformError",
    "Unsupported",
    "call_with_retries",
    "platform_for",
]


def platform_for(source: str, connector_settings: Any, inbox_settings: Any) -> Platform:
    """The client for a mention's source; Unsupported for sources the inbox cannot act on (rss, x…)."""
    from inbox.platforms.facebook import Facebook, Instagram
    from inbox.platforms.reddit import Reddit
    from inbox.platforms.youtube import YouTube

    classes: dict[str, type[Platform]] = {
        "facebook": Facebook,
        "instagram": Instagram,
        "youtube": YouTube,
        "reddit": Reddit,
    }
    if source not in classes:
        raise Unsupported(f"{source}: the inbox cannot act on this source (read-only)")
    return classes[source](connector_settings, inbox_settings)
