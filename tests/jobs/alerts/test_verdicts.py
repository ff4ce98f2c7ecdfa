"""Feedback links of alert emails (jobs/alerts/verdicts.py): signed, one click, recorded in
Elasticsearch (noida-db); forged, altered or expired links are refused and record nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from pydantic import SecretStr

from ecoute.es import make_client, scan_docs
from ecoute.settings import Settings
from jobs.alerts.verdicts import (
    MAX_FACTOR,
    MIN_FACTOR,
    FeedbackTokenError,
    alert_precision,
    feedback_links,
    margin_from_verdicts,
    record_verdict_from_link,
    sensitivity_margin,
    sign_token,
    verify_token,
)

ALERT = {"id": "overall|2026-10-17T12:00:00Z", "scope": "overall", "episode_start": "2026-10-17T12:00:00Z"}


def _token(url: str) -> str:
    return parse_qs(urlparse(url).query)["t"][0]


def test_links_point_at_the_feedback_endpoint_and_verify(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path)
    links = feedback_links(settings, ALERT)
    assert set(links) == {"useful", "not_useful"}
    assert links["useful"].startswith("http://127.0.0.1:8765/alerts/feedback?t=")
    payload = verify_token(settings, _token(links["not_useful"]))
    assert payload["a"] == ALERT["id"] and payload["v"] == "not_useful"
    # Without a configured key, a random one is kept in the state folder (owner-only), not in code.
    key_file = tmp_path / "alert-feedback.key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert verify_token(Settings(state_dir=tmp_path), _token(links["useful"]))["v"] == "useful"


def test_forged_altered_and_expired_links_are_refused(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path, alerts={"feedback_key": SecretStr("k" * 32)})
    token = sign_token(settings, ALERT, "useful")
    other = Settings(state_dir=tmp_path, alerts={"feedback_key": SecretStr("x" * 32)})
    with pytest.raises(FeedbackTokenError, match="not signed"):
        verify_token(other, token)
    body, mac = token.split(".")
    forged = sign_token(other, ALERT, "not_useful").split(".")[0]
    with pytest.raises(FeedbackTokenError, match="not signed"):
        verify_token(settings, f"{forged}.{mac}")  # verdict swapped, signature kept
    for bad in ("", "abc", "a.b.c", f"{body}.%%%"):
        with pytest.raises(FeedbackTokenError):
            verify_token(settings, bad)
    old = sign_token(settings, ALERT, "useful", issued_at=datetime.now(UTC) - timedelta(days=31))
    with pytest.raises(FeedbackTokenError, match="expired"):
        verify_token(settings, old)
    with pytest.raises(ValueError, match="verdict"):
        sign_token(settings, ALERT, "maybe")


def test_inbox_url_is_preferred_when_set(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path, inbox={"url": "https://ecoute.example.com/"})
    assert feedback_links(settings, ALERT)["useful"].startswith("https://ecoute.example.com/alerts/feedback?t=")


def test_sensitivity_moves_within_bounds() -> None:
    assert margin_from_verdicts(1.6, 0, 0) == 1.6
    assert margin_from_verdicts(1.6, 0, 1) > 1.6 > margin_from_verdicts(1.6, 1, 0)
    assert margin_from_verdicts(1.6, 0, 50) == pytest.approx(1.6 * MAX_FACTOR)
    assert margin_from_verdicts(1.6, 50, 0) == pytest.approx(1.6 * MIN_FACTOR)


def test_a_click_is_recorded_once_and_feeds_precision_and_sensitivity(settings) -> None:
    from ecoute.es import bulk_write, ensure_index_mapping, upsert_actions

    # Verdicts of this test only: other tests' watches must not see them (they move sensitivity).
    settings.indices.alert_feedback = settings.indices.alerts.replace("ecoute-alerts", "ecoute-alert-feedback")
    client = make_client(settings)
    ensure_index_mapping(client, settings.indices.alerts, "ecoute-alerts")
    assert not bulk_write(client, upsert_actions(settings.indices.alerts, [dict(ALERT)]), refresh="wait_for").failed
    token = unquote(_token(feedback_links(settings, ALERT)["not_useful"]))
    recorded = record_verdict_from_link(settings, token)
    assert recorded["alert_id"] == ALERT["id"] and recorded["verdict"] == "not_useful"
    record_verdict_from_link(settings, token)  # a second click replaces, never doubles
    docs = list(scan_docs(client, settings.indices.alert_feedback))
    assert [d["verdict"] for d in docs] == ["not_useful"]
    now = datetime(2026, 10, 20, tzinfo=UTC)
    assert sensitivity_margin(client, settings, 1.6, now=now) == pytest.approx(1.6 * 1.1)
    assert sensitivity_margin(client, settings, 1.6, scope="channel:x", now=now) == 1.6
    record_verdict_from_link(settings, sign_token(settings, ALERT, "useful"))  # changed their mind
    precision = alert_precision(client, settings, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert precision == {"alerts": 1, "judged": 1, "useful": 1, "not_useful": 0, "precision": 1.0}
    assert client.get(index=settings.indices.alerts, id=ALERT["id"])["_source"]["verdict"] == "useful"
    with pytest.raises(FeedbackTokenError):
        record_verdict_from_link(settings, token[:-3] + "abc")
