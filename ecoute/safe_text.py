"""Untrusted text (mention texts, author and channel names, rule names) made safe for where it goes.

- ``terminal_safe``: for terminal output. Escape sequences (CSI, OSC such as hyperlinks and window
  titles, other ESC sequences) and control characters (C0 but tab and new line, DEL, C1) are
  removed: a comment cannot clear the screen, recolour it, forge a link or rewrite earlier lines.
- ``header_safe``: for one email header line. Line breaks and other controls become spaces (a
  header may not hold them: ``email`` raises ValueError), spaces collapse, the length is capped.
"""

from __future__ import annotations

import re

# ESC [ … final byte | ESC ] … (BEL | ESC \) | ESC P/X/^/_ … ESC \ | ESC + one byte; 8-bit CSI/OSC too.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
HEADER_MAX_CHARS = 250


def terminal_safe(text: object, *, one_line: bool = False) -> str:
    """``text`` without escape sequences nor control characters (new lines kept unless ``one_line``)."""
    cleaned = _CONTROLS.sub("", _ESCAPES.sub("", str(text)))
    if one_line:
        cleaned = " ".join(cleaned.split())
    return cleaned


def header_safe(text: object, max_chars: int = HEADER_MAX_CHARS) -> str:
    """One line fit for an email header (Subject…): controls and line breaks as spaces, capped."""
    line = " ".join(_LINE_CONTROLS.sub(" ", terminal_safe(text)).split())
    return line if len(line) <= max_chars else line[: max_chars - 1] + "…"
