"""Emails of Écoute (criticism alerts, team digests): rendering, charts and delivery.

- ``render(template, language, **context)``: Jinja2 templates in ``jobs/notify/templates`` with
  French and English wording (``jobs/notify/strings/emails.yaml``) and HTML autoescaping on, so user text
  (comments, author names) is always escaped. Each email has an HTML and a plain-text part.
- ``chart_png(...)``: a small matplotlib chart (Agg backend) sent as an inline CID attachment.
- ``send_email(settings, message)``: delivery through Airflow's SMTP hook and the ``smtp_default``
  connection. Inside Airflow the deployed connection is used; outside (CLI, demo, tests) and when
  no such connection exists, ``smtp_default`` is built from ``settings.smtp`` through the
  ``AIRFLOW_CONN_SMTP_DEFAULT`` variable, so the same Airflow code path sends in every case.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from pathlib import Path
from typing import Any

from ecoute.safe_text import header_safe
from ecoute.settings import Settings

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
STRINGS_DIR = Path(__file__).resolve().parent / "strings"
SMTP_CONN_ID = "smtp_default"
LANGUAGES = ("fr", "en")


@dataclass
class Email:
    subject: str
    html: str
    text: str
    recipients: list[str]
    images: dict[str, bytes] = field(default_factory=dict)  # content id -> PNG bytes


def language_of(settings: Settings) -> str:
    language = (settings.alerts.language or "fr").lower()[:2]
    return language if language in LANGUAGES else "en"


@cache
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["shorten"] = lambda text, width=220: text if len(text or "") <= width else text[: width - 1] + "…"
    return env


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}".replace(",", "\u202f")
    return f"{round(float(value)):,}".replace(",", "\u202f")


def render(template: str, language: str, **context: Any) -> tuple[str, str]:
    """(html, text) of ``templates/<template>.html.j2`` / ``.txt.j2`` in French or English.

    One layout per email; the words come from ``strings[language]`` (``t`` in the templates).
    """
    strings = load_strings("emails")

    env = _environment()
    words = strings[language if language in strings else "en"]
    html = env.get_template(f"{template}.html.j2").render(t=words, lang=language, **context)
    text = env.get_template(f"{template}.txt.j2").render(t=words, lang=language, **context)
    return html, text


def render_page(template: str, **context: Any) -> str:
    """A whole HTML page (the report) from ``templates/<template>``, with the same filters and escaping."""
    return _environment().get_template(template).render(**context)


@cache
def load_strings(name: str) -> dict[str, dict[str, str]]:
    """Language -> key -> words, from ``strings/<name>.yaml``."""
    import yaml

    return yaml.safe_load((STRINGS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def build_message(settings: Settings, email: Email) -> EmailMessage:
    """multipart/alternative (text, then HTML with its inline images as multipart/related)."""
    message = EmailMessage()
    message["Subject"] = header_safe(email.subject)  # channel names (RSS titles) may hold line breaks
    message["From"] = settings.smtp.sender
    message["To"] = ", ".join(email.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="ecoute.local")
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    html_part = list(message.iter_parts())[1]
    for cid, png in email.images.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid}.png")
    return message


def smtp_connection_uri(settings: Settings) -> str:
    """The ``smtp_default`` Airflow connection equivalent to settings.smtp (JSON form)."""
    smtp = settings.smtp
    conn: dict[str, Any] = {
        "conn_type": "smtp",
        "host": smtp.host,
        "port": smtp.port,
        "extra": {
            "disable_ssl": True,  # implicit TLS (SMTPS) is not what settings.smtp describes
            "disable_tls": not smtp.starttls,
            "from_email": smtp.sender,
            "retry_limit": 1,
            "timeout": 20,
        },
    }
    if smtp.username:
        conn["login"] = smtp.username
    if smtp.password:
        conn["password"] = smtp.password.get_secret_value()
    return json.dumps(conn)


def ensure_smtp_connection(settings: Settings, *, force: bool = False) -> None:
    """Define ``smtp_default`` from settings.smtp unless Airflow already has one (or ``force``)."""
    variable = "AIRFLOW_CONN_" + SMTP_CONN_ID.upper()
    if force or variable not in os.environ:
        os.environ[variable] = smtp_connection_uri(settings)


def send_email(settings: Settings, email: Email, conn_id: str = SMTP_CONN_ID) -> None:
    """Send through Airflow's SmtpHook (connection, TLS, login and retries are Airflow's)."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    if not email.recipients:
        raise ValueError("no recipients: set settings.alerts.recipients (ECOUTE_ALERTS__RECIPIENTS)")
    message = build_message(settings, email)
    hook = SmtpHook(smtp_conn_id=conn_id)
    try:
        hook.get_conn()
    except Exception as exc:
        if "connection is not found" not in str(exc).lower() and "isn't defined" not in str(exc):
            raise
        ensure_smtp_connection(settings)  # no Airflow connection: use settings.smtp
        hook = SmtpHook(smtp_conn_id=conn_id)
        hook.get_conn()
    try:
        client = hook._smtp_client  # the authenticated smtplib client the hook opened
        if not isinstance(client, smtplib.SMTP):  # None, or the async client (only opened by aget_conn)
            raise RuntimeError("the SMTP hook did not open a connection")
        # The hook's own send_email_smtp builds an HTML-only message; ours has a text part and
        # inline images, so we hand the finished MIME message to the hook's client.
        client.send_message(message, from_addr=hook.from_email or settings.smtp.sender, to_addrs=email.recipients)
    finally:
        hook.__exit__(None, None, None)
    log.info("email %r sent to %d recipient(s)", email.subject, len(email.recipients))


def save_preview(email: Email, folder: Path, name: str) -> Path:
    """Write the HTML with its images next to it (for screenshots and people), return the HTML path."""
    folder.mkdir(parents=True, exist_ok=True)
    html = email.html
    for cid, png in email.images.items():
        (folder / f"{name}-{cid}.png").write_bytes(png)
        html = html.replace(f"cid:{cid}", f"{name}-{cid}.png")
    path = folder / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path
