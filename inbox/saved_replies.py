"""Saved replies: texts with placeholders ({author}, {page}, {network}) filled per mention.

The template language is deliberately tiny: exactly ``{name}`` for a known name is replaced, and
everything else stays as typed: unknown names (``{inconnu}``), braces (``{author,``), positions
(``{0}``) and format specs (``{page:>50000000}``). A saved reply never fails to render and the text
grows by the values only (``str.format`` raised on the first two and padded the last to 50 MB).
"""

from __future__ import annotations

import re
from typing import Any

from ecoute.settings import Settings
from ecoute.views.common import author_label

PLACEHOLDERS = ("author", "page", "network")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_NO_AUTHOR = re.compile(r"[ \t]*\{author\}")


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
    values = {"author": author, "page": page, "network": network}
    if not author:  # "Bonjour {author}, merci" -> "Bonjour, merci"; "Merci {author} !" -> "Merci !"
        template = _NO_AUTHOR.sub("", template)
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)
