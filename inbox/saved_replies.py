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


def render_reply(template: str, mention: dict[str, Any], settings: Settings) -> str:
    """Fill a saved reply for this mention. Without stored display names the author is left out
    (a pseudonym is no name to greet someone with)."""
    author = author_label(mention, settings) if settings.store_author_names else ""
    values = _Blank(author=author, page=mention.get("channel") or "", network=mention.get("source") or "")
    text = string.Formatter().vformat(template, (), values)
    if not author:  # "Bonjour {author}, merci" -> "Bonjour, merci"
        text = re.sub(r"[ \t]+([,!.?])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
    return text
