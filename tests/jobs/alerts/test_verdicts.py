"""Feedback links of alert emails (jobs/alerts/verdicts.py): signed for their recipient, confirmed
before anything is recorded in Elasticsearch (noida-db), one verdict per alert and manager; forged,
altered or expired links are refused and record nothing; verdicts reach the detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from pydantic import SecretStr

from ecoute.es import make_client, scan_docs
from ecoute.settings import Settings
from jobs.alerts.verdicts import (
    FeedbackTokenError,
    VerdictConflict,
    alert_precision,
    combined_verdict,
    feedback_links,
    page_verdicts,
    record_verdict,
    sign_token,
    verdict_prompt,
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
    old = sign_token(settings, ALERT, "useful", "a@example.com", issued_at=datetime.now(UTC) - timedelta(days=31))
    with pytest.raises(FeedbackTokenError, match="expired"):
        verify_token(settings, old)
    with pytest.raises(ValueError, match="verdict"):
        sign_token(settings, ALERT, "maybe")


def test_inbox_url_is_preferred_when_set(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path, inbox={"url": "https://ecoute.example.com/"})
    assert feedback_links(settings, ALERT)["useful"].startswith("https://ecoute.example.com/alerts/feedback?t=")


def test_several_managers_make_one_verdict_ties_useful() -> None:
    assert combined_verdict(0, 0) is None
    assert (
        combined_verdict(1, 1) == "useful"
        and combined_verdict(0, 2) == "not_useful"
        and combined_verdict(2, 1) == "useful"
    )


def test_a_link_is_confirmed_before_recording_and_reaches_the_detector(settings) -> None:
    from ecoute.es import bulk_write, ensure_index_mapping, upsert_actions

    client = make_client(settings)
    ensure_index_mapping(client, settings.indices.alerts, "ecoute-alerts")
    alert = {**ALERT, "score": 5.2, "peak_score": 7.5, "peak_sustained": 3.1}
    assert not bulk_write(client, upsert_actions(settings.indices.alerts, [alert]), refresh="wait_for").failed
    links = feedback_links(settings, ALERT, "claire@example.com")
    token = unquote(_token(links["not_useful"]))
    assert verify_token(settings, token)["r"] == "claire@example.com"
    prompt = verdict_prompt(settings, token)  # what the GET shows: nothing written
    assert prompt["verdict"] == "not_useful" and prompt["previous"] is None and prompt["known"]
    assert not client.indices.exists(index=settings.indices.alert_feedback)
    recorded = record_verdict(settings, token)
    assert (recorded["alert_id"], recorded["manager"], recorded["outcome"]) == (
        ALERT["id"],
        "claire@example.com",
        "recorded",
    )
    assert record_verdict(settings, token)["outcome"] == "unchanged"  # a second POST never doubles
    assert [d["verdict"] for d in scan_docs(client, settings.indices.alert_feedback)] == ["not_useful"]
    # The detector gets it with the episode's peaks, per page.
    [verdict] = page_verdicts(client, settings, datetime(2026, 10, 1, tzinfo=UTC))["overall"]
    assert (verdict.start, verdict.verdict, verdict.score, verdict.sustained) == (
        datetime(2026, 10, 17, 12, 0),
        "not_useful",
        7.5,
        3.1,
    )
    useful = unquote(_token(links["useful"]))
    with pytest.raises(VerdictConflict):  # changing one's mind must be asked for
        record_verdict(settings, useful)
    assert verdict_prompt(settings, useful)["previous"]["verdict"] == "not_useful"
    assert record_verdict(settings, useful, change=True)["outcome"] == "changed"
    precision = alert_precision(client, settings, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert precision == {"alerts": 1, "judged": 1, "useful": 1, "not_useful": 0, "precision": 1.0}
    stored = client.get(index=settings.indices.alerts, id=ALERT["id"])["_source"]
    assert (stored["verdict"], stored["useful_votes"], stored["not_useful_votes"]) == ("useful", 1, 0)
    with pytest.raises(FeedbackTokenError):
        record_verdict(settings, token[:-3] + "abc")
