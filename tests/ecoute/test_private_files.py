"""Issue 28 item 16: dead-letter overflow files (full texts, author names) and the outbox's emails
(signed feedback links) are created for their owner only, whatever the umask (real Kafka, real SMTP)."""

from __future__ import annotations

import os
import smtplib
import stat
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from aiosmtpd.controller import Controller

from ecoute import events
from ecoute.kafka import Producer
from ecoute.smtp_sink import OutboxHandler
from tests.conftest import free_port


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)  # the usual default: new files 0644
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_dead_letter_overflow_files_are_0600(settings, open_umask) -> None:
    letter = events.dead_letter(
        stage="connector:import", reason="parse: too big", original="é" * 1_000_000, event_id=None, source="import"
    )
    with Producer(settings) as producer:
        producer.send_dead_letters([letter])
    folder = settings.state_dir / "dlq-overflow"
    [kept] = list(folder.glob("*.json"))
    assert _mode(kept) == 0o600 and _mode(folder) == 0o700


def test_outbox_emails_and_their_parts_are_0600(tmp_path, open_umask) -> None:
    outbox = tmp_path / "outbox"
    port = free_port()
    controller = Controller(OutboxHandler(outbox), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "Alerte", "a@example.com", "b@example.com"
        cid = make_msgid(domain="ecoute.local")
        message.set_content("https://inbox.example/alerts/feedback?t=signed")
        message.add_alternative(
            f'<a href="https://inbox.example/alerts/feedback?t=signed">oui</a><img src="cid:{cid[1:-1]}">',
            subtype="html",
        )
        message.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "image", "png", cid=cid)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)
    finally:
        controller.stop()
    files = sorted(outbox.iterdir())
    assert {p.suffix for p in files} == {".eml", ".html", ".png"}
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert _mode(outbox) == 0o700
