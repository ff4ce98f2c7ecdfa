"""A local SMTP sink (aiosmtpd) that saves every email as a .eml file, and its HTML part as .html.

The embedded stack runs it so alert and digest emails can be opened by people and by tests:
``python -m ecoute.smtp_sink --dir .ecoute/outbox --port 18025``.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.message
import email.policy
import re
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from ecoute.private_files import private_folder, write_private


class OutboxHandler:
    def __init__(self, outbox: Path):
        self.outbox = private_folder(outbox)  # emails carry signed feedback links: owner only (0700/0600)
        self._lock = threading.Lock()
        self._counter = 0

    def _name(self, subject: str) -> str:
        with self._lock:
            self._counter += 1
            n = self._counter
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", subject).strip("-")[:60] or "message"
        return f"{stamp}-{n:04d}-{slug}"

    def _with_images(self, message: email.message.EmailMessage, html: str, name: str) -> str:
        """``cid:`` references only resolve inside the .eml: save each inline image beside the .html
        and point the HTML at the file, so the saved page shows its chart."""
        for part in message.walk():
            content_id = str(part.get("Content-ID") or "").strip().strip("<>")
            if not content_id or part.get_content_maintype() != "image":
                continue
            safe = re.sub(r"[^A-Za-z0-9._-]+", "_", content_id)[:80]
            extension = re.sub(r"[^a-z0-9]+", "", part.get_content_subtype().lower())[:8] or "bin"
            image = f"{name}-{safe}.{extension}"
            payload = part.get_payload(decode=True)  # bytes for a leaf part such as an image
            write_private(self.outbox / image, payload if isinstance(payload, bytes) else b"")
            html = html.replace(f"cid:{content_id}", image)
        return html

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        name = self._name(str(message.get("Subject", "")))
        tmp = self.outbox / f".{name}.eml.tmp"
        write_private(tmp, raw)
        html = message.get_body(preferencelist=("html",))
        if html is not None:
            page = self._with_images(message, html.get_content(), name)
            write_private(self.outbox / f"{name}.html", page.encode("utf-8"))
        tmp.rename(self.outbox / f"{name}.eml")  # atomic: readers never see half a message
        return "250 Message accepted for delivery"


def serve(outbox: Path, host: str, port: int) -> None:
    controller = Controller(OutboxHandler(outbox), hostname=host, port=port)
    controller.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18025)
    args = parser.parse_args()
    asyncio.set_event_loop(asyncio.new_event_loop())
    serve(args.dir, args.host, args.port)


if __name__ == "__main__":
    main()
