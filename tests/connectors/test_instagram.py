"""Instagram business-account connector against recorded-shape Graph fixtures, real broker."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from connectors import run_connector
from connectors.base import CheckpointStore, ConnectorError
from connectors.config import ConnectorSettings, InstagramSettings
from ecoute import events
from tests.connectors.conftest import dead_letters, raw_events

USER = "17841400000000001"
M1, M2 = "17900000000000001", "17900000000000002"
TOKEN = "IGQVJtest"


def ig_config(fake_api, fast_http) -> ConnectorSettings:
    # Media of May 2024 are inside the watch window, the one of 2001 is not.
    lookback = (time.time() - datetime(2024, 4, 1, tzinfo=UTC).timestamp()) / 86400
    return ConnectorSettings(
        instagram=InstagramSettings(
            base_url=fake_api.url("/v21.0"),
            user_id=USER,
            username="mamarque",
            access_token=SecretStr(TOKEN),
            page_size=2,
            lookback_days=lookback,
            **fast_http,
        )
    )


def serve(fake_api) -> None:
    fake_api.add(f"/v21.0/{USER}/media", "instagram/media_page1.json")
    fake_api.add(f"/v21.0/{USER}/media", "instagram/media_page2.json", params={"after": "QVFIUjBfUHhm"})
    fake_api.add(f"/v21.0/{M1}/comments", "instagram/comments_17900000000000001.json")
    fake_api.add(f"/v21.0/{M2}/comments", "facebook/empty.json")


def test_media_comments_replies_and_brand_detection(settings, fake_api, fast_http):
    serve(fake_api)
    stats = run_connector("instagram", settings, connector_settings=ig_config(fake_api, fast_http))
    assert (stats.produced, stats.dead_lettered) == (4, 1)
    produced = {event["id"]: event for event in raw_events(settings)}
    assert set(produced) == {
        f"instagram:{M1}",
        f"instagram:{M2}",
        "instagram:18000000000000011",
        "instagram:18000000000000012",
    }
    assert all(events.validation_errors(event) == [] for event in produced.values())
    media = produced[f"instagram:{M1}"]
    assert media["kind"] == "post" and media["author"]["is_brand"] and media["metrics"] == {"likes": 812, "replies": 3}
    assert media["channel"] == "mamarque" and media["text"] == "Nouvelle collection été ☀️ #mamarque"
    comment = produced["instagram:18000000000000011"]
    assert (
        comment["kind"] == "comment" and comment["parent_id"] == f"instagram:{M1}" and not comment["author"]["is_brand"]
    )
    reply = produced["instagram:18000000000000012"]
    assert reply["kind"] == "reply" and reply["parent_id"] == comment["id"] and reply["thread_id"] == f"instagram:{M1}"
    assert reply["author"]["is_brand"] is True and "replies" not in reply["raw"]
    assert dead_letters(settings)[0]["reason"] == "mapping: created_at is missing"


def test_next_sweep_reads_only_changed_media_and_emits_only_new_comments(settings, fake_api, fast_http):
    serve(fake_api)
    config = ig_config(fake_api, fast_http)
    run_connector("instagram", settings, connector_settings=config)
    fake_api.add(f"/v21.0/{USER}/media", "instagram/media_page1_more_comments.json", replace=True)
    fake_api.add(f"/v21.0/{M1}/comments", "instagram/comments_17900000000000001_more.json", replace=True)
    fake_api.calls.clear()
    second = run_connector("instagram", settings, connector_settings=config)
    assert (second.produced, second.dead_lettered) == (1, 0)
    assert fake_api.count(f"/v21.0/{M2}/comments") == 0  # comments_count unchanged: not read again
    ids = [event["id"] for event in raw_events(settings)]
    assert ids.count("instagram:18000000000000014") == 1 and len(ids) == len(set(ids)) == 5


def test_rate_limit_613_is_retried(settings, fake_api, fast_http):
    fake_api.add(f"/v21.0/{USER}/media", "instagram/error_rate_limited.json")
    serve(fake_api)
    assert run_connector("instagram", settings, connector_settings=ig_config(fake_api, fast_http)).produced == 4
    assert fake_api.count(f"/v21.0/{USER}/media") == 3


def test_expired_token(settings, fake_api, fast_http):
    fake_api.add(f"/v21.0/{USER}/media", "facebook/error_expired_token.json")
    with pytest.raises(ConnectorError, match="ECOUTE_INSTAGRAM__ACCESS_TOKEN"):
        run_connector("instagram", settings, connector_settings=ig_config(fake_api, fast_http))


def test_resumes_from_a_checkpoint_written_before_the_declarative_streams(settings, fake_api, fast_http):
    # Mid-sweep file of the pre-refactor connector: media page 1 acknowledged, its cursor saved.
    legacy = {
        "media": {
            M1: {"created": 1714726800, "comments_count": None, "seen": None},
            M2: {"created": 1714669200, "comments_count": None, "seen": None},
        },
        "media_after": "QVFIUjBfUHhm",
        "saved_at": "2024-05-03T13:00:00Z",
    }
    settings.checkpoints_dir.mkdir(parents=True, exist_ok=True)
    (settings.checkpoints_dir / f"instagram.account.{USER}.json").write_text(json.dumps(legacy))
    serve(fake_api)
    stats = run_connector("instagram", settings, connector_settings=ig_config(fake_api, fast_http))
    media_calls = [call[1] for call in fake_api.calls if call[0] == f"/v21.0/{USER}/media"]
    assert [call.get("after") for call in media_calls] == ["QVFIUjBfUHhm"]
    assert "comments_count" in media_calls[0]["fields"]  # our fields, with the saved cursor
    assert f"instagram:{M1}" not in {event["id"] for event in raw_events(settings)}
    assert fake_api.count(f"/v21.0/{M1}/comments") == 1 and stats.produced == 2
    state = CheckpointStore(settings.checkpoints_dir).load(f"instagram.account.{USER}")
    assert state["media_after"] is None and state["media"][M1]["comments_count"] is None
    assert state["media"][M1]["seen"]["high_water"] is not None
