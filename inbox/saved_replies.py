"""Saved replies: texts with placeholders ({author}, {page}, {network}, {first_name}) filled per mention."""

from __future__ import annotations

import re
import string
from typing import Any

from ecoute.settings import Settings
from ecoute.views.common import author_label

PLACEHOLDERS = ("author", "page", "network")


class _Blank(dict):
    def __missing__(self, key: str) -> str:  # an unknown placeholder stays visible for the CM to fix
        return "{" + key + "}"


def render_reply(
    template: str, mention: dict[str, Any], settings: Settings, missing_author: str = "", display: Any = None
) -> str:
    """Fill a saved reply for this mention. Without a stored display name (a pseudonym is no name
    to greet someone with) ``{author}`` becomes ``missing_author``: a visible blank the CM fills in
    before sending (the inbox refuses to send it unfilled), or nothing when none is given. With a
    ``display`` (inbox.display.Display) the page and network are their names, not their ids."""
    name = author_label(mention, settings) if settings.store_author_names else ""
    author = name if name and name != (mention.get("author") or {}).get("id") else missing_author
    page, network = mention.get("channel") or "", mention.get("source") or ""
    if display is not None:
        page, network = display.page(page), display.network(network)
    values = _Blank(author=author, page=page, network=network)
    text = string.Formatter().vformat(template, (), values)
    if not author:  # "Bonjour {author}, merci" -> "Bonjour, merci"
        text = re.sub(r"[ \t]+([,!.?])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
    return text
