"""Reddit connector (OAuth app token, listings, comment trees, 429) against local fixtures, real broker."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from pydantic import SecretStr

from connectors import run_connector
from connectors.base import CheckpointStore, ConnectorError
from connectors.config import ConnectorSettings, RedditSettings
from ecoute import events
from tests.connectors.conftest import dead_letters, raw_events

TOKEN = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.reddit-test-token"


def rd_config(fake_api, fast_http, **overrides) -> ConnectorSettings:
    options = {
        "base_url": fake_api.url("/"),
        "token_url": fake_api.url("/api/v1/access_token"),
        "client_id": "app-id",
        "client_secret": SecretStr("app-secret"),
        "subreddits": ["france"],
        "brand_usernames": ["MaMarque_Officiel"],
        "lookback_days": 36500,
        **fast_http,
        **overrides,
    }
    return ConnectorSettings(reddit=RedditSettings(**options))


def serve(fake_api) -> None:
    fake_api.add("/api/v1/access_token", "reddit/token.json")
    fake_api.add("/r/france/new", "reddit/new_page1.json")
    fake_api.add("/r/france/new", "reddit/new_page2.json", params={"after": "t3_1cxb002"})
    fake_api.add("/comments/1cxb001", "reddit/comments_1cxb001.json")
    fake_api.add("/comments/1cxb002", "reddit/comments_empty.json")
    fake_api.add("/comments/1cxa999", "reddit/comments_empty.json")
    fake_api.add("/api/morechildren", "reddit/morechildren.json", params={"children": "l2aa003,l2aa004"})


def test_listing_comment_tree_more_children_and_brand(settings, fake_api, fast_http):
    serve(fake_api)
    stats = run_connector("reddit", settings, connector_settings=rd_config(fake_api, fast_http))
    assert (stats.produced, stats.dead_lettered) == (6, 1)
    produced = {event["id"]: event for event in raw_events(settings)}
    assert set(produced) == {
        "reddit:t3_1cxb001",
        "reddit:t3_1cxb002",
        "reddit:t3_1cxa999",
        "reddit:t1_l2aa001",
        "reddit:t1_l2aa002",
        "reddit:t1_l2aa003",
    }
    assert all(events.validation_errors(event) == [] for event in produced.values())
    post = produced["reddit:t3_1cxb001"]
    assert post["text"].startswith("SAV MaMarque : 3 semaines sans réponse\n\nQuelqu'un a eu")
    assert post["channel"] == "r/france" and post["created_at"] == "2024-05-03T08:00:00Z"
    assert post["metrics"] == {"likes": 57, "replies": 4}
    assert produced["reddit:t3_1cxb002"]["metrics"]["likes"] == 0  # negative score floored
    deleted = produced["reddit:t3_1cxa999"]["author"]["id"]
    assert deleted == events.pseudonymise("reddit:unknown", settings.pseudonym_key.get_secret_value())
    comment, brand, rtl = (produced[f"reddit:t1_l2aa00{i}"] for i in (1, 2, 3))
    assert comment["kind"] == "comment" and comment["parent_id"] == "reddit:t3_1cxb001"
    assert brand["kind"] == "reply" and brand["parent_id"] == comment["id"] and brand["author"]["is_brand"] is True
    assert brand["thread_id"] == "reddit:t3_1cxb001" and "replies" not in brand["raw"]
    assert rtl["text"] == "جربوا الاتصال بالهاتف، نجح معي" and rtl["parent_id"] == comment["id"]
    assert dead_letters(settings)[0]["reason"] == "mapping: created_at is missing"

    token_call = next(call for call in fake_api.calls if call[0] == "/api/v1/access_token")
    assert token_call[2]["Authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    api_calls = [call for call in fake_api.calls if call[0] != "/api/v1/access_token"]
    assert all(call[2]["Authorization"] == f"bearer {TOKEN}" for call in api_calls)
    assert all(call[2]["User-Agent"].startswith("ecoute") for call in api_calls)


def test_second_sweep_sends_nothing_new(settings, fake_api, fast_http):
    serve(fake_api)
    config = rd_config(fake_api, fast_http)
    run_connector("reddit", settings, connector_settings=config)
    fake_api.calls.clear()
    assert run_connector("reddit", settings, connector_settings=config).produced == 0
    assert fake_api.count("/comments/1cxb001") == 0  # num_comments unchanged
    assert len(raw_events(settings)) == 6


def test_429_waits_for_reset_then_goes_on(settings, fake_api, fast_http, caplog):
    fake_api.add("/r/france/new", "reddit/error_429.json")
    serve(fake_api)
    caplog.set_level(logging.WARNING, logger="connectors.http")
    assert run_connector("reddit", settings, connector_settings=rd_config(fake_api, fast_http)).produced == 6
    assert fake_api.count("/r/france/new") == 3
    assert any("429" in r.getMessage() and "waiting 0.05s" in r.getMessage() for r in caplog.records)


def test_refused_app_credentials(settings, fake_api, fast_http):
    fake_api.add("/api/v1/access_token", "reddit/token_refused.json")
    with pytest.raises(ConnectorError, match="ECOUTE_REDDIT__CLIENT_ID"):
        run_connector("reddit", settings, connector_settings=rd_config(fake_api, fast_http))
    with pytest.raises(ConnectorError, match="nothing to watch"):
        run_connector("reddit", settings, connector_settings=rd_config(fake_api, fast_http, subreddits=[]))


def test_search_listing_for_brand_mentions(settings, fake_api, fast_http):
    fake_api.add("/api/v1/access_token", "reddit/token.json")
    fake_api.add("/search", "reddit/new_page2.json")
    fake_api.add("/comments/1cxa999", "reddit/comments_empty.json")
    config = rd_config(fake_api, fast_http, subreddits=[], query="MaMarque")
    assert run_connector("reddit", settings, connector_settings=config).produced == 1
    search = next(call for call in fake_api.calls if call[0] == "/search")[1]
    assert (search["q"], search["sort"], search["type"], search["limit"]) == ("MaMarque", "new", "link", "100")
    assert [event["id"] for event in raw_events(settings)] == ["reddit:t3_1cxa999"]


def test_resumes_from_a_checkpoint_written_before_the_declarative_streams(settings, fake_api, fast_http):
    # Mid-sweep file of the pre-refactor connector: listing page 1 acknowledged, its posts watched.
    seen = {
        "high_water": None,
        "ids_at_high_water": [],
        "pending_high_water": "2024-05-03T08:00:00Z",
        "pending_ids": ["reddit:t3_1cxb001"],
        "dead": [],
    }
    legacy = {
        "posts": {
            "t3_1cxb001": {"created": 1714723200, "num_comments": None, "seen": None},
            "t3_1cxb002": {"created": 1714636800, "num_comments": None, "seen": None},
        },
        "seen": seen,
        "sweep": {"after": "t3_1cxb002"},
        "saved_at": "2024-05-03T13:00:00Z",
    }
    settings.checkpoints_dir.mkdir(parents=True, exist_ok=True)
    (settings.checkpoints_dir / "reddit.r.france.json").write_text(json.dumps(legacy))
    serve(fake_api)
    stats = run_connector("reddit", settings, connector_settings=rd_config(fake_api, fast_http))
    listing = [call[1] for call in fake_api.calls if call[0] == "/r/france/new"]
    assert [call.get("after") for call in listing] == ["t3_1cxb002"]
    # Posts of page 1 were not listed again this sweep: their comments wait for the next full sweep.
    assert fake_api.count("/comments/1cxb001") == 0 and fake_api.count("/comments/1cxa999") == 1
    assert [event["id"] for event in raw_events(settings)] == ["reddit:t3_1cxa999"] and stats.produced == 1
    state = CheckpointStore(settings.checkpoints_dir).load("reddit.r.france")
    assert state["sweep"] is None and state["seen"]["high_water"] == "2024-05-03T08:00:00Z"
    assert state["posts"]["t3_1cxa999"]["num_comments"] == 0 and state["posts"]["t3_1cxb001"]["seen"] is None
