"""YouTube Data API v3 connector against recorded-shape fixtures served locally, real broker."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from connectors import run_connector
from connectors.base import CheckpointStore, ConnectorError
from connectors.config import ConnectorSettings, YouTubeSettings
from ecoute import events
from tests.connectors.conftest import dead_letters, raw_events

CHANNEL = "UCmamarque000000000000000"
KEY = "AIzaTestKey"
PAGE2 = "QURTSl9pM0R1bEdvX3Rva2VuMg=="


def yt_config(fake_api, fast_http) -> ConnectorSettings:
    return ConnectorSettings(
        youtube=YouTubeSettings(
            base_url=fake_api.url("/youtube/v3"),
            channel_id=CHANNEL,
            api_key=SecretStr(KEY),
            lookback_days=36500,
            **fast_http,
        )
    )


def serve(fake_api) -> None:
    fake_api.add("/youtube/v3/commentThreads", "youtube/threads_page1.json")
    fake_api.add("/youtube/v3/commentThreads", "youtube/threads_page2.json", params={"pageToken": PAGE2})
    fake_api.add("/youtube/v3/comments", "youtube/replies_B.json", params={"parentId": "UgzB2threadBBBBBBBBBaABAg"})


def test_threads_replies_brand_and_dead_letter(settings, fake_api, fast_http):
    serve(fake_api)
    stats = run_connector("youtube", settings, connector_settings=yt_config(fake_api, fast_http))
    assert (stats.produced, stats.dead_lettered) == (7, 1)
    produced = {event["id"]: event for event in raw_events(settings)}
    assert all(events.validation_errors(event) == [] for event in produced.values())
    top = produced["youtube:UgzA1threadAAAAAAAAAaABAg"]
    assert top["kind"] == "comment" and top["parent_id"] == "youtube:dQw4w9WgXcQ" == top["thread_id"]
    assert top["metrics"] == {"likes": 15, "replies": 1} and top["text"] == "Super tuto, merci ! 👏👏"
    assert top["url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzA1threadAAAAAAAAAaABAg"
    brand = produced["youtube:UgzA1threadAAAAAAAAAaABAg.9zReplyBrand01"]
    assert brand["kind"] == "reply" and brand["author"]["is_brand"] and brand["parent_id"] == top["id"]
    # totalReplyCount 3 > 1 inline reply: all three were fetched from /comments?parentId=
    assert {f"youtube:UgzB2threadBBBBBBBBBaABAg.9zReplyB{i}" for i in (1, 2, 3)} <= set(produced)
    assert produced["youtube:UgzC3threadCCCCCCCCCaABAg"]["text"] == "مرحبا من المغرب"
    assert [letter["reason"] for letter in dead_letters(settings)] == ["mapping: created_at is missing"]
    state = CheckpointStore(settings.checkpoints_dir).load(f"youtube.channel.{CHANNEL}")
    assert state["sweep"] is None and state["seen"]["high_water"] == "2024-05-03T12:30:00Z"
    assert all(call[2]["X-Goog-Api-Key"] == KEY and "key" not in call[1] for call in fake_api.calls)


def test_next_sweep_emits_only_new_comments(settings, fake_api, fast_http):
    serve(fake_api)
    config = yt_config(fake_api, fast_http)
    run_connector("youtube", settings, connector_settings=config)
    # Nothing new: the same pages again produce nothing; the sweep stops at the revisit horizon.
    second = run_connector("youtube", settings, connector_settings=config)
    assert (second.produced, second.dead_lettered) == (0, 0)  # the malformed thread is not dead-lettered twice
    assert len(dead_letters(settings)) == 1
    ids = [event["id"] for event in raw_events(settings)]
    assert len(ids) == len(set(ids)) == 7


def test_rate_limit_retried_quota_stops_clearly(settings, fake_api, fast_http):
    fake_api.add("/youtube/v3/commentThreads", "youtube/error_rate_limit.json")
    serve(fake_api)
    fake_api.add("/youtube/v3/commentThreads", "youtube/error_quota.json", params={"pageToken": PAGE2}, replace=True)
    with pytest.raises(ConnectorError, match=r"quota exhausted.*midnight Pacific"):
        run_connector("youtube", settings, connector_settings=yt_config(fake_api, fast_http))
    assert fake_api.count("/youtube/v3/commentThreads") == 3  # rate limit retried once, quota not retried
    # The first page was produced and checkpointed: the next run resumes at page 2.
    state = CheckpointStore(settings.checkpoints_dir).load(f"youtube.channel.{CHANNEL}")
    assert state["sweep"] == {"page_token": PAGE2}
    assert len(raw_events(settings)) == 6
    fake_api.add("/youtube/v3/commentThreads", "youtube/threads_page2.json", params={"pageToken": PAGE2}, replace=True)
    resumed = run_connector("youtube", settings, connector_settings=yt_config(fake_api, fast_http))
    assert resumed.produced == 1
    assert len({event["id"] for event in raw_events(settings)}) == 7


def test_invalid_key(settings, fake_api, fast_http):
    fake_api.add("/youtube/v3/commentThreads", "youtube/error_key_invalid.json")
    with pytest.raises(ConnectorError, match="ECOUTE_YOUTUBE__API_KEY"):
        run_connector("youtube", settings, connector_settings=yt_config(fake_api, fast_http))


def test_resumes_from_a_checkpoint_written_before_the_declarative_streams(settings, fake_api, fast_http):
    # Mid-sweep file of the pre-refactor connector: page 1 acknowledged, its SeenFilter still pending.
    legacy = {
        "sweep": {"page_token": PAGE2},
        "seen": {
            "high_water": None,
            "ids_at_high_water": [],
            "pending_high_water": "2024-05-03T12:30:00Z",
            "pending_ids": ["youtube:UgzA1threadAAAAAAAAAaABAg.9zReplyBrand01"],
            "dead": [],
        },
        "saved_at": "2024-05-03T13:00:00Z",
    }
    settings.checkpoints_dir.mkdir(parents=True, exist_ok=True)
    (settings.checkpoints_dir / f"youtube.channel.{CHANNEL}.json").write_text(json.dumps(legacy))
    serve(fake_api)
    stats = run_connector("youtube", settings, connector_settings=yt_config(fake_api, fast_http))
    calls = [call[1] for call in fake_api.calls if call[0] == "/youtube/v3/commentThreads"]
    assert [call.get("pageToken") for call in calls] == [PAGE2]
    assert (stats.produced, stats.dead_lettered) == (1, 1)
    state = CheckpointStore(settings.checkpoints_dir).load(f"youtube.channel.{CHANNEL}")
    assert state["sweep"] is None and state["seen"]["high_water"] == "2024-05-03T12:30:00Z"
