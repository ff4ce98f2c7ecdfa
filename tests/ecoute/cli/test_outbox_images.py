"""Issue 19 item 11: the outbox's .html of an email shows its inline chart (cid: only works in the .eml)."""

from __future__ import annotations

import re
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

from aiosmtpd.controller import Controller

from ecoute.smtp_sink import OutboxHandler
from tests.conftest import free_port

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_saved_html_points_at_images_saved_beside_it(tmp_path):
    port = free_port()
    controller = Controller(OutboxHandler(tmp_path), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "Pic de critiques", "a@example.com", "b@example.com"
        cid = make_msgid(domain="ecoute.local")
        message.set_content("texte")
        message.add_alternative(f'<p>Graphique</p><img src="cid:{cid[1:-1]}" alt="chart">', subtype="html")
        message.get_payload()[1].add_related(PNG, "image", "png", cid=cid)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)
        deadline = time.monotonic() + 10
        while not list(tmp_path.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    (html,) = tmp_path.glob("*.html")
    sources = re.findall(r'src="([^"]+)"', html.read_text(encoding="utf-8"))
    assert len(sources) == 1 and not sources[0].startswith("cid:")
    assert (tmp_path / sources[0]).read_bytes() == PNG
