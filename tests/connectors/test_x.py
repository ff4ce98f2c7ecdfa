"""X API v2 recent search connector against recorded-shape fixtures, real broker."""

from __future__ import annotations

import hashlib
import json
import logging
import time

import pytest
from pydantic import SecretStr

from connectors import run_connector
from connectors.base import CheckpointStore, ConnectorError
from connectors.config import ConnectorSettings, XSettings
from connectors.x import TWITTER_EPOCH_MS, XSearchStream, snowflake_time
from ecoute import events
from tests.connectors.conftest import dead_letters, fixture_json, raw_events

BEARER = "AAAAAAAAAAAAAAAAAAAAAtestbearer"
PATH = "/2/tweets/search/recent"
NEXT = "b26v89c19zqg8o3fr5qlcvg8axqa0m2ndxs1sj2zr0awd"


def x_config(fake_api, fast_http) -> ConnectorSettings:
    return ConnectorSettings(
        x=XSettings(
            base_url=fake_api.url("/2"),
            bearer_token=SecretStr(BEARER),
            query='"MaMarque" OR @MaMarque -is:retweet',
            brand_user_ids=["1500000000000000001"],
            channel="@MaMarque",
            **fast_http,
        )
    )


def serve(fake_api) -> None:
    fake_api.add(PATH, "x/search_page1.json")
    fake_api.add(PATH, "x/search_page2.json", params={"next_token": NEXT})


def test_search_pages_kinds_brand_and_dead_letter(settings, fake_api, fast_http):
    serve(fake_api)
    stats = run_connector("x", settings, connector_settings=x_config(fake_api, fast_http))
    assert (stats.produced, stats.dead_lettered) == (3, 1)
    produced = {event["id"]: event for event in raw_events(settings)}
    assert all(events.validation_errors(event) == [] for event in produced.values())
    root, brand, thanks = (
        produced[f"x:{i}"] for i in ("1786000000000000001", "1786050000000000002", "1786100000000000003")
    )
    assert (
        root["kind"] == "post"
        and root["thread_id"] == root["id"]
        and root["metrics"] == {"likes": 12, "replies": 1, "shares": 6}
    )
    assert brand["kind"] == "comment" and brand["parent_id"] == root["id"] and brand["author"]["is_brand"] is True
    assert thanks["kind"] == "reply" and thanks["parent_id"] == brand["id"] and thanks["thread_id"] == root["id"]
    assert thanks["url"] == "https://x.com/client_x/status/1786100000000000003" and thanks["channel"] == "@MaMarque"
    assert thanks["created_at"] == "2024-05-02T18:00:00Z"
    assert dead_letters(settings)[0]["reason"] == "mapping: created_at is missing"
    assert all(call[2]["Authorization"] == f"Bearer {BEARER}" for call in fake_api.calls)
    first = fake_api.calls[0][1]
    assert "start_time" in first and "since_id" not in first and first["expansions"] == "author_id"
    state = CheckpointStore(settings.checkpoints_dir).load(next(iter(_keys(settings))))
    assert state["since_id"] == "1786100000000000003" and state["sweep"] is None


def _keys(settings):
    return [path.stem for path in settings.checkpoints_dir.glob("x.*.json")]


def test_since_id_used_while_inside_the_7_day_window(settings):
    stream = XSearchStream(settings, XSettings(query="q", bearer_token=SecretStr("t")))
    fresh = str(int(time.time() * 1000 - TWITTER_EPOCH_MS - 3_600_000) << 22)
    assert abs(snowflake_time(fresh) - (time.time() - 3600)) < 5
    assert stream._sweep_params(fresh)["since_id"] == fresh
    assert "start_time" in stream._sweep_params("1786100000000000003")  # May 2024: outside the window


def test_429_waits_until_reset(settings, fake_api, fast_http, caplog):
    throttled = fixture_json("x/error_429.json")
    throttled["headers"]["x-rate-limit-reset"] = str(int(time.time()) + 900)
    fake_api.add(PATH, throttled)
    serve(fake_api)
    caplog.set_level(logging.WARNING, logger="connectors.http")
    assert run_connector("x", settings, connector_settings=x_config(fake_api, fast_http)).produced == 3
    assert fake_api.count(PATH) == 3
    assert any("429" in r.getMessage() for r in caplog.records)


def test_refused_token(settings, fake_api, fast_http):
    fake_api.add(PATH, "x/error_401.json")
    with pytest.raises(ConnectorError, match="ECOUTE_X__BEARER_TOKEN") as failure:
        run_connector("x", settings, connector_settings=x_config(fake_api, fast_http))
    assert BEARER not in str(failure.value)


def test_resumes_from_a_checkpoint_written_before_the_declarative_streams(settings, fake_api, fast_http):
    # Mid-sweep file of the pre-refactor connector: the frozen sweep parameters and the next page's token.
    legacy = {
        "since_id": None,
        "sweep": {
            "params": {
                "query": '"MaMarque" OR @MaMarque -is:retweet',
                "max_results": 100,
                "tweet.fields": "created_at,author_id",
                "expansions": "author_id",
                "user.fields": "username,name",
                "start_time": "2024-05-01T00:00:00Z",
            },
            "next_token": NEXT,
            "newest_id": "1786100000000000003",
        },
        "saved_at": "2024-05-03T13:00:00Z",
    }
    settings.checkpoints_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(b'"MaMarque" OR @MaMarque -is:retweet').hexdigest()[:12]
    (settings.checkpoints_dir / f"x.search.{digest}.json").write_text(json.dumps(legacy))
    serve(fake_api)
    stats = run_connector("x", settings, connector_settings=x_config(fake_api, fast_http))
    assert len(fake_api.calls) == 1
    call = fake_api.calls[0][1]
    assert call["next_token"] == NEXT and call["start_time"] == "2024-05-01T00:00:00Z"
    assert call["tweet.fields"] == "created_at,author_id"  # the saved parameters, not today's
    assert stats.produced + stats.dead_lettered == 2
    state = CheckpointStore(settings.checkpoints_dir).load(f"x.search.{digest}")
    assert state["since_id"] == "1786100000000000003" and state["sweep"] is None
