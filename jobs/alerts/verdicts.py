"""Managers' verdicts on alert emails: signed one-click links, their recording, and what they change.

Each alert email carries two links, "useful" and "not useful":
``{settings.inbox.url}/alerts/feedback?t=<token>``. The token is
``base64url(payload).base64url(HMAC-SHA256(key, payload))`` with the alert id, the verdict and the
issue time, so a click needs no login and nobody can forge or alter a verdict. The key is
``ECOUTE_ALERTS__FEEDBACK_KEY`` (set it in production, the same for every process that signs or
checks links); without it a random key is created once in ``<state_dir>/alert-feedback.key``
(never a literal in code).

``record_verdict_from_link(settings, token)`` is what the web endpoint calls (``GET
/alerts/feedback?t=…``, mounted by the inbox app): it checks the token and writes the verdict to
the ``ecoute-alert-feedback`` index (one document per alert; a second click replaces it) and on
the alert itself.

Verdicts move the detector's sensitivity within bounds (``sensitivity_margin``): over the last
``VERDICT_DAYS``, each "not useful" raises the margin a rise must beat by ``STEP_UP`` (10 %), each
"useful" lowers it by ``STEP_DOWN`` (5 %), never below ``MIN_FACTOR`` (0.8×) nor above
``MAX_FACTOR`` (1.5×) the default. ``alert_precision`` gives the digest its alert precision.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import orjson

from ecoute.events import to_rfc3339
from ecoute.settings import Settings

VERDICTS = ("useful", "not_useful")
LINK_MAX_AGE = timedelta(days=30)
VERDICT_DAYS = 90
STEP_UP = 1.10
STEP_DOWN = 0.95
MIN_FACTOR = 0.8
MAX_FACTOR = 1.5
KEY_FILE = "alert-feedback.key"


class FeedbackTokenError(ValueError):
    """A feedback link that cannot be trusted (the message says why, for the web page)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key(settings: Settings) -> bytes:
    """The HMAC key: the configured secret, else a random key kept in the state folder."""
    if settings.alerts.feedback_key is not None:
        key = settings.alerts.feedback_key.get_secret_value().encode("utf-8")
        if len(key) < 16:
            raise ValueError("ECOUTE_ALERTS__FEEDBACK_KEY is too short (at least 16 characters)")
        return key
    path = settings.state_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting together must not each write their own key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def sign_token(settings: Settings, alert: dict[str, Any], verdict: str, issued_at: datetime | None = None) -> str:
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    issued = issued_at or datetime.now(UTC)
    payload = orjson.dumps(
        {"a": alert["id"], "v": verdict, "s": alert.get("scope"), "e": alert.get("episode_start"), "t": int(issued.timestamp())}
    )
    body = _b64(payload)
    mac = hmac.new(signing_key(settings), body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify_token(settings: Settings, token: str, now: datetime | None = None) -> dict[str, Any]:
    """The payload of a genuine, unexpired token; FeedbackTokenError otherwise."""
    if not token or token.count(".") != 1:
        raise FeedbackTokenError("malformed feedback link")
    body, mac = token.split(".")
    expected = hmac.new(signing_key(settings), body.encode("ascii"), hashlib.sha256).digest()
    try:
        given = _unb64(mac)
        payload = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError):
        raise FeedbackTokenError("malformed feedback link") from None
    if not hmac.compare_digest(expected, given):
        raise FeedbackTokenError("this feedback link was not signed by Écoute (or was altered)")
    if not isinstance(payload, dict) or payload.get("v") not in VERDICTS or not payload.get("a"):
        raise FeedbackTokenError("malformed feedback link")
    issued = datetime.fromtimestamp(int(payload.get("t", 0)), UTC)
    if (now or datetime.now(UTC)) - issued > LINK_MAX_AGE:
        raise FeedbackTokenError(f"this feedback link has expired (links are valid {LINK_MAX_AGE.days} days)")
    return payload


def feedback_base_url(settings: Settings) -> str:
    """The links point at the inbox, which records the verdict (no login needed: the link is signed)."""
    return str(settings.inbox.url).rstrip("/")


def feedback_links(settings: Settings, alert: dict[str, Any]) -> dict[str, str]:
    """{"useful": url, "not_useful": url} for one alert."""
    base = feedback_base_url(settings)
    return {v: f"{base}/alerts/feedback?t={quote(sign_token(settings, alert, v), safe='')}" for v in VERDICTS}


def record_verdict_from_link(settings: Settings, token: str) -> dict[str, Any]:
    """Check the link's token and record its verdict; returns what was recorded.

    Raises FeedbackTokenError for a forged, altered, expired or malformed link (nothing recorded)."""
    from ecoute.es import bulk_write, ensure_index_mapping, make_client, upsert_actions

    payload = verify_token(settings, token)
    client = make_client(settings)
    index = settings.indices.alert_feedback
    ensure_index_mapping(client, index, "ecoute-alert-feedback")
    scope = payload.get("s") or "overall"
    doc = {
        "id": payload["a"],
        "alert_id": payload["a"],
        "scope": scope,
        "channel": scope.split(":", 1)[1] if scope.startswith("channel:") else None,
        "episode_start": payload.get("e"),
        "verdict": payload["v"],
        "link_issued_at": to_rfc3339(datetime.fromtimestamp(int(payload["t"]), UTC)),
        "recorded_at": to_rfc3339(datetime.now(UTC)),
    }
    result = bulk_write(client, upsert_actions(index, [doc]), refresh="wait_for")
    if result.failed:
        raise RuntimeError(f"verdict on {doc['alert_id']} not stored: {result.failed[0]['error']}")
    if client.indices.exists(index=settings.indices.alerts) and client.exists(index=settings.indices.alerts, id=doc["alert_id"]):
        client.update(index=settings.indices.alerts, id=doc["alert_id"], doc={"verdict": doc["verdict"]}, refresh="wait_for")
    doc.pop("id")
    return doc


def _verdicts(client: Any, settings: Settings, since: datetime, until: datetime | None = None) -> list[dict[str, Any]]:
    from ecoute.es import scan_docs

    index = settings.indices.alert_feedback
    if not client.indices.exists(index=index):
        return []
    bounds = {"gte": to_rfc3339(since)}
    if until is not None:
        bounds["lt"] = to_rfc3339(until)
    return list(scan_docs(client, index, {"range": {"episode_start": bounds}}))


def margin_from_verdicts(base_margin: float, useful: int, not_useful: int) -> float:
    """The margin after these verdicts, within [MIN_FACTOR, MAX_FACTOR] × the default."""
    factor = STEP_UP**not_useful * STEP_DOWN**useful
    return base_margin * min(MAX_FACTOR, max(MIN_FACTOR, factor))


def sensitivity_margin(client: Any, settings: Settings, base_margin: float, scope: str = "overall", now: datetime | None = None) -> float:
    """The detector margin for ``scope`` given the managers' verdicts of the last VERDICT_DAYS."""
    since = (now or datetime.now(UTC)) - timedelta(days=VERDICT_DAYS)
    verdicts = [v for v in _verdicts(client, settings, since) if (v.get("scope") or "overall") == scope]
    useful = sum(v["verdict"] == "useful" for v in verdicts)
    return margin_from_verdicts(base_margin, useful, len(verdicts) - useful)


def alert_precision(client: Any, settings: Settings, start: datetime, end: datetime) -> dict[str, Any]:
    """Alerts of [start, end) and the managers' verdicts on them: precision = useful / judged."""
    from ecoute.es import scan_docs

    alerts = []
    if client.indices.exists(index=settings.indices.alerts):
        bounds = {"gte": to_rfc3339(start), "lt": to_rfc3339(end)}
        alerts = list(scan_docs(client, settings.indices.alerts, {"range": {"episode_start": bounds}}, ["id"]))
    verdicts = {v["alert_id"]: v["verdict"] for v in _verdicts(client, settings, start, end)}
    judged = [verdicts[a["id"]] for a in alerts if a["id"] in verdicts]
    useful = sum(v == "useful" for v in judged)
    return {
        "alerts": len(alerts),
        "judged": len(judged),
        "useful": useful,
        "not_useful": len(judged) - useful,
        "precision": useful / len(judged) if judged else None,
    }
