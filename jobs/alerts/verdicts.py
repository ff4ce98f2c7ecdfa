"""Managers' verdicts on alert emails: signed links, a confirmation step, and what verdicts change.

Each alert email carries two links, "useful" and "not useful", signed for its recipient:
``{settings.inbox.url}/alerts/feedback?t=<token>``. The token is
``base64url(payload).base64url(HMAC-SHA256(key, payload))`` with the alert id, the verdict, the
recipient and the issue time, so nobody can forge or alter a verdict, and a manager clicking from
email needs no login: the token is the credential. The key is ``ECOUTE_ALERTS__FEEDBACK_KEY`` (set
it in production, the same for every process that signs or checks links); without it a random key
is created once in ``<state_dir>/alert-feedback.key`` (never a literal in code).

Opening a link (GET) never writes: mail scanners fetch every link of an email. It shows a
confirmation page (``verdict_prompt``); its button POSTs the token back (``record_verdict``). The
credential is in the form, not in a cookie, so another site cannot make a browser cast a verdict
(no CSRF). One verdict per alert and manager (``ecoute-alert-feedback``, ``_id = alert|manager``):
posting the same verdict again changes nothing; a different one is refused
(``VerdictConflict``) unless the manager explicitly asks to change it.

What verdicts change (``page_verdicts`` hands them to the detector, jobs/alerts/spikes.py): an
episode judged *useful* is a true event (its days leave the calibration of the page's ordinary
bursts and it does not count against the alert budget); *not useful* makes it one of the page's
ordinary bursts for ``SpikeParams.verdict_days``, which raises that page's threshold. With
several managers, an alert is useful when at least as many said useful as not useful (missing a
crisis costs more than one email). ``alert_precision`` gives the digest its line.
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
from jobs.alerts.spikes import Verdict

VERDICTS = ("useful", "not_useful")
LINK_MAX_AGE = timedelta(days=30)
KEY_FILE = "alert-feedback.key"


class FeedbackTokenError(ValueError):
    """A feedback link that cannot be trusted (the message says why, for the web page)."""


class VerdictConflict(ValueError):
    """This manager already gave the other verdict on this alert: changing it must be asked for."""

    def __init__(self, previous: dict[str, Any]) -> None:
        super().__init__(f"already judged {previous['verdict']!r} on {previous.get('recorded_at')}")
        self.previous = previous


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


def sign_token(
    settings: Settings,
    alert: dict[str, Any],
    verdict: str,
    recipient: str | None = None,
    issued_at: datetime | None = None,
) -> str:
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    issued = issued_at or datetime.now(UTC)
    payload = orjson.dumps(
        {
            "a": alert["id"],
            "v": verdict,
            "s": alert.get("scope"),
            "e": alert.get("episode_start"),
            "r": recipient,
            "t": int(issued.timestamp()),
        }
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
    """The links point at the inbox, which shows the confirmation page (no login: the link is signed)."""
    return str(settings.inbox.url).rstrip("/")


def feedback_links(settings: Settings, alert: dict[str, Any], recipient: str | None = None) -> dict[str, str]:
    """{"useful": url, "not_useful": url} for one alert, signed for ``recipient``."""
    base = feedback_base_url(settings)
    return {
        v: f"{base}/alerts/feedback?t={quote(sign_token(settings, alert, v, recipient), safe='')}" for v in VERDICTS
    }


def _manager(payload: dict[str, Any]) -> str:
    return str(payload.get("r") or "(unnamed recipient)")


def _feedback_id(alert_id: str, manager: str) -> str:
    return f"{alert_id}|{manager}"


def verdict_prompt(settings: Settings, token: str) -> dict[str, Any]:
    """What the confirmation page shows for a link (GET): the verdict it proposes, the alert, and
    this manager's current verdict if any. Reads only. FeedbackTokenError for a bad link."""
    from ecoute.es import make_client

    payload = verify_token(settings, token)
    client = make_client(settings)
    previous = _stored_verdict(client, settings, payload["a"], _manager(payload))
    alert = _alert(client, settings, payload["a"])
    return {
        "alert_id": payload["a"],
        "verdict": payload["v"],
        "manager": _manager(payload),
        "scope": payload.get("s") or "overall",
        "episode_start": payload.get("e"),
        "known": alert is not None,  # an alert this deployment still has
        "previous": previous,
    }


def _stored_verdict(client: Any, settings: Settings, alert_id: str, manager: str) -> dict[str, Any] | None:
    index = settings.indices.alert_feedback
    if not client.indices.exists(index=index):
        return None
    found = client.options(ignore_status=404).get(index=index, id=_feedback_id(alert_id, manager))
    return found.get("_source") if found.get("found") else None


def _alert(client: Any, settings: Settings, alert_id: str) -> dict[str, Any] | None:
    if not client.indices.exists(index=settings.indices.alerts):
        return None
    found = client.options(ignore_status=404).get(index=settings.indices.alerts, id=alert_id)
    return found.get("_source") if found.get("found") else None


def record_verdict(settings: Settings, token: str, change: bool = False) -> dict[str, Any]:
    """Record the link's verdict for its manager (the POST of the confirmation page); returns the
    stored verdict with ``outcome``: "recorded", "unchanged" or "changed".

    FeedbackTokenError for a forged, altered, expired or malformed link; VerdictConflict when this
    manager already gave the other verdict and ``change`` is not set (nothing recorded)."""
    from ecoute.es import bulk_write, ensure_index_mapping, make_client, upsert_actions

    payload = verify_token(settings, token)
    manager = _manager(payload)
    client = make_client(settings)
    index = settings.indices.alert_feedback
    ensure_index_mapping(client, index, "ecoute-alert-feedback")
    previous = _stored_verdict(client, settings, payload["a"], manager)
    if previous and previous["verdict"] == payload["v"]:
        return {**previous, "outcome": "unchanged"}
    if previous and not change:
        raise VerdictConflict(previous)
    scope = payload.get("s") or "overall"
    now = to_rfc3339(datetime.now(UTC))
    doc = {
        "id": _feedback_id(payload["a"], manager),
        "alert_id": payload["a"],
        "manager": manager,
        "scope": scope,
        "channel": scope.split(":", 1)[1] if scope.startswith("channel:") else None,
        "episode_start": payload.get("e"),
        "verdict": payload["v"],
        "previous_verdict": previous["verdict"] if previous else None,
        "link_issued_at": to_rfc3339(datetime.fromtimestamp(int(payload["t"]), UTC)),
        "recorded_at": now,
    }
    result = bulk_write(client, upsert_actions(index, [doc]), refresh="wait_for")
    if result.failed:
        raise RuntimeError(f"verdict on {doc['alert_id']} not stored: {result.failed[0]['error']}")
    _store_on_alert(client, settings, payload["a"])
    doc.pop("id")
    return {**doc, "outcome": "changed" if previous else "recorded"}


def combined_verdict(useful: int, not_useful: int) -> str | None:
    """One verdict per alert from its managers' verdicts (ties: useful)."""
    if not useful and not not_useful:
        return None
    return "useful" if useful >= not_useful else "not_useful"


def _store_on_alert(client: Any, settings: Settings, alert_id: str) -> None:
    """The alert carries its managers' verdicts: the counts and the combined verdict."""
    from ecoute.es import ensure_index_mapping, scan_docs

    if _alert(client, settings, alert_id) is None:
        return
    ensure_index_mapping(client, settings.indices.alerts, "ecoute-alerts")  # an index of an older release
    given = [d["verdict"] for d in scan_docs(client, settings.indices.alert_feedback, {"term": {"alert_id": alert_id}})]
    useful = given.count("useful")
    fields = {
        "verdict": combined_verdict(useful, len(given) - useful),
        "useful_votes": useful,
        "not_useful_votes": len(given) - useful,
    }
    client.update(index=settings.indices.alerts, id=alert_id, doc=fields, refresh="wait_for")


def _naive_utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def page_verdicts(client: Any, settings: Settings, since: datetime) -> dict[str, list[Verdict]]:
    """The judged alert episodes since ``since``, per scope, as the detector takes them."""
    from ecoute.es import scan_docs

    if client is None or not client.indices.exists(index=settings.indices.alerts):
        return {}
    query = {
        "bool": {"filter": [{"exists": {"field": "verdict"}}, {"range": {"episode_start": {"gte": to_rfc3339(since)}}}]}
    }
    found: dict[str, list[Verdict]] = {}
    for alert in scan_docs(client, settings.indices.alerts, query):
        why = alert.get("explanation") or {}
        score = alert.get("peak_score") or alert.get("score")
        sustained = alert.get("peak_sustained") or why.get("sustained_ratio")
        verdict = Verdict(_naive_utc(alert["episode_start"]), alert["verdict"], score, sustained)
        found.setdefault(alert.get("scope") or "overall", []).append(verdict)
    return found


def alert_precision(client: Any, settings: Settings, start: datetime, end: datetime) -> dict[str, Any]:
    """Alerts of [start, end) and the managers' verdicts on them: precision = useful / judged."""
    from ecoute.es import scan_docs

    alerts = []
    if client.indices.exists(index=settings.indices.alerts):
        bounds = {"gte": to_rfc3339(start), "lt": to_rfc3339(end)}
        alerts = list(
            scan_docs(client, settings.indices.alerts, {"range": {"episode_start": bounds}}, ["id", "verdict"])
        )
    judged = [a["verdict"] for a in alerts if a.get("verdict")]
    useful = judged.count("useful")
    return {
        "alerts": len(alerts),
        "judged": len(judged),
        "useful": useful,
        "not_useful": len(judged) - useful,
        "precision": useful / len(judged) if judged else None,
    }
