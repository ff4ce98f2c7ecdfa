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


def render_reply(template: str, mention: dict[str, Any], settings: Settings) -> str:
    """Fill a saved reply for this mention. Without stored display names the author is left out
    (a pseudonym is no name to greet someone with)."""
    author = author_label(mention, settings) if settings.store_author_names else ""
    values = {"author": author, "page": mention.get("channel") or "", "network": mention.get("source") or ""}
    if not author:  # "Bonjour {author}, merci" -> "Bonjour, merci"; "Merci {author} !" -> "Merci !"
        template = _NO_AUTHOR.sub("", template)
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)
