"""Facebook Pages connector against recorded-shape Graph fixtures served locally, and real brokers."""

from __future__ import annotations

import json
import logging
from collections import Counter

import httpx
import pytest
from pydantic import SecretStr

from connectors import run_connector
from connectors.base import CheckpointStore, ConnectorError
from connectors.config import ConnectorSettings, FacebookSettings
from connectors.graph import regain_access_s, usage_pct
from ecoute import events
from tests.connectors.conftest import dead_letters, fixture_json, raw_events, read_topic

PAGE = "104857600123456"
TOKEN = "EAAGtestTOKEN"
P1, P2, P3 = (f"{PAGE}_{n}" for n in ("811111111111111", "822222222222222", "833333333333333"))
CURSOR_811_1 = "WTI5dGJXVnVkRjlqZAFhKemIzSTZAPVEF6TURBd01EST0ZD"
CURSOR_811_LAST = "WTI5dGJXVnVkRjlqZAFhKemIzSTZAPVEF6TURBd01EUT0ZD"
CURSOR_822_LAST = "WTI5dGJXVnVkRjlqZAFhKemIzSTZAPVEF6TURFd01EQT0ZD"


def fb_config(fake_api, fast_http, **overrides) -> ConnectorSettings:
    options = {
        "base_url": fake_api.url("/v21.0"),
        "page_id": PAGE,
        "page_token": SecretStr(TOKEN),
        "page_size": 2,
        "lookback_days": 36500,
        **fast_http,
        **overrides,
    }
    return ConnectorSettings(facebook=FacebookSettings(**options))


def serve_page(fake_api, long_comment: str | None = None) -> None:
    comments_page2 = fixture_json("facebook/comments_811_page2.json")
    if long_comment:
        comments_page2["data"][0]["message"] = long_comment
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/feed_page1.json")
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/feed_page2.json", params={"after": "QVFIUkZAHU0F6dWZAB"})
    fake_api.add(f"/v21.0/{P1}/comments", "facebook/comments_811_page1.json")
    fake_api.add(f"/v21.0/{P1}/comments", comments_page2, params={"after": CURSOR_811_1})
    fake_api.add(f"/v21.0/{P1}/comments", "facebook/empty.json", params={"after": CURSOR_811_LAST})
    fake_api.add(f"/v21.0/{P2}/comments", "facebook/comments_822_page1.json")
    fake_api.add(f"/v21.0/{P2}/comments", "facebook/empty.json", params={"after": CURSOR_822_LAST})
    fake_api.add(f"/v21.0/{P3}/comments", "facebook/empty.json")


def test_sweep_maps_posts_comments_brand_replies_and_dead_letters(settings, fake_api, fast_http):
    long_comment = "Franchement déçu par le SAV. " * 1800  # ~52 kB
    serve_page(fake_api, long_comment)
    stats = run_connector("facebook", settings, connector_settings=fb_config(fake_api, fast_http))
    assert (stats.produced, stats.dead_lettered) == (7, 2)

    produced = {event["id"]: event for event in raw_events(settings)}
    assert set(produced) == {
        f"facebook:{P1}",
        f"facebook:{P2}",
        f"facebook:{P3}",
        "facebook:811111111111111_900000000000001",
        "facebook:811111111111111_900000000000002",
        "facebook:811111111111111_900000000000003",
        "facebook:822222222222222_900000000000010",
    }
    assert all(events.validation_errors(event) == [] for event in produced.values())
    post = produced[f"facebook:{P1}"]
    assert post["kind"] == "post" and post["thread_id"] == post["id"] and post["author"]["is_brand"] is True
    assert post["created_at"] == "2024-05-02T08:00:00Z"
    assert post["metrics"] == {"likes": 340, "replies": 3, "shares": 12}
    assert post["channel"] == PAGE and post["raw"]["id"] == P1
    assert produced[f"facebook:{P3}"]["text"] == "MaMarque a mis à jour sa photo de couverture."
    customer = produced[f"facebook:{P2}"]
    assert customer["author"]["is_brand"] is False and customer["author"]["name"] is None

    emoji = produced["facebook:811111111111111_900000000000001"]
    rtl = produced["facebook:811111111111111_900000000000002"]
    brand_reply = produced["facebook:811111111111111_900000000000003"]
    assert (
        emoji["kind"] == "comment" and emoji["parent_id"] == f"facebook:{P1}" and emoji["thread_id"] == f"facebook:{P1}"
    )
    assert rtl["text"] == "מתי זה יגיע לישראל? متى يصل؟"
    assert brand_reply["kind"] == "reply" and brand_reply["author"]["is_brand"] is True
    assert brand_reply["parent_id"] == emoji["id"] and brand_reply["thread_id"] == f"facebook:{P1}"
    assert brand_reply["text"] == long_comment and len(long_comment.encode()) > 50_000
    assert brand_reply["author"]["id"] == events.pseudonymise(PAGE, settings.pseudonym_key.get_secret_value())
    assert produced["facebook:822222222222222_900000000000010"]["author"]["is_brand"] is True

    letters = dead_letters(settings)
    assert sorted(letter["reason"] for letter in letters) == ["mapping: created_at is missing"] * 2
    assert {letter["stage"] for letter in letters} == {"connector:facebook"}
    assert any("A post whose created_time was lost" in letter["original"] for letter in letters)
    # The token travels as a query parameter to the API, never into Kafka.
    assert all(call[1].get("access_token") == TOKEN for call in fake_api.calls)
    assert TOKEN not in str(letters) and TOKEN not in str(produced)
    comment_call = next(call for call in fake_api.calls if call[0] == f"/v21.0/{P1}/comments")
    assert comment_call[1]["filter"] == "stream"


def test_second_sweep_resumes_from_window_and_cursors(settings, fake_api, fast_http):
    serve_page(fake_api)
    config = fb_config(fake_api, fast_http)
    first = run_connector("facebook", settings, connector_settings=config)
    state = CheckpointStore(settings.checkpoints_dir).load(f"facebook.page.{PAGE}")
    assert state["window"] is None and state["feed_next"] is None
    assert state["posts"][P1]["after"] == CURSOR_811_LAST and state["posts"][P3]["after"] is None
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/empty.json", replace=True)
    fake_api.calls.clear()

    second = run_connector("facebook", settings, connector_settings=config)
    assert (first.produced, second.produced) == (7, 0)
    feed_call = next(call for call in fake_api.calls if call[0] == f"/v21.0/{PAGE}/feed")
    assert int(feed_call[1]["since"]) == state["since"]
    after = {call[0]: call[1].get("after") for call in fake_api.calls if call[0].endswith("/comments")}
    assert after == {
        f"/v21.0/{P1}/comments": CURSOR_811_LAST,
        f"/v21.0/{P2}/comments": CURSOR_822_LAST,
        f"/v21.0/{P3}/comments": None,
    }
    assert len(raw_events(settings)) == 7


def test_follow_mode_polls_until_stopped(settings, fake_api, fast_http):
    serve_page(fake_api)
    config = fb_config(fake_api, fast_http, poll_interval_s=0.01)
    stats = run_connector("facebook", settings, once=False, connector_settings=config, max_runs=3)
    assert fake_api.count(f"/v21.0/{PAGE}/feed") >= 3 + 1  # 3 sweeps (the first has 2 pages)
    assert stats.produced >= 7


def test_throttling_and_transient_errors_are_retried_with_backoff(settings, fake_api, fast_http, caplog):
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/error_throttled.json")
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/error_app_limit.json")
    serve_page(fake_api)
    fake_api.add(f"/v21.0/{P2}/comments", "facebook/error_transient.json", replace=True)
    fake_api.add(f"/v21.0/{P2}/comments", "facebook/comments_822_page1.json")
    caplog.set_level(logging.WARNING, logger="connectors.http")
    stats = run_connector("facebook", settings, connector_settings=fb_config(fake_api, fast_http))
    assert stats.produced == 7
    assert fake_api.count(f"/v21.0/{PAGE}/feed") == 4  # throttled, app limit, page 1, page 2
    assert fake_api.count(f"/v21.0/{P2}/comments") == 2
    waits = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 3 and "Graph error 32" in waits[0] and "Graph error 4" in waits[1] and "transient" in waits[2]
    assert all(TOKEN not in message for message in waits)


def test_usage_headers_are_read():
    throttled = fixture_json("facebook/error_throttled.json")
    response = httpx.Response(400, headers=throttled["headers"], json=throttled["body"])
    assert regain_access_s(response) == 60.0  # estimated_time_to_regain_access is in minutes
    assert usage_pct(response) == 100.0
    assert usage_pct(httpx.Response(200, headers={"X-App-Usage": '{"call_count":12,"total_time":30}'})) == 30.0


def test_high_usage_slows_down_before_meta_throttles(settings, fake_api, fast_http, caplog):
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/ok_usage_high.json")
    caplog.set_level(logging.WARNING, logger="connectors.http")
    run_connector("facebook", settings, connector_settings=fb_config(fake_api, fast_http, usage_slowdown_pct=80))
    assert any("slowing down" in r.getMessage() for r in caplog.records)


def test_expired_token_stops_with_clear_error_and_keeps_checkpoint(settings, fake_api, fast_http):
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/error_expired_token.json")
    with pytest.raises(ConnectorError) as failure:
        run_connector("facebook", settings, connector_settings=fb_config(fake_api, fast_http))
    message = str(failure.value)
    assert "expired" in message and "ECOUTE_FACEBOOK__PAGE_TOKEN" in message and "190" in message
    assert TOKEN not in message
    assert fake_api.count(f"/v21.0/{PAGE}/feed") == 1  # no retry on a dead token
    assert CheckpointStore(settings.checkpoints_dir).load(f"facebook.page.{PAGE}") is None


def test_missing_configuration_is_a_clear_error(settings):
    with pytest.raises(ConnectorError, match="ECOUTE_FACEBOOK__PAGE_ID"):
        run_connector("facebook", settings, connector_settings=ConnectorSettings())
    with pytest.raises(ConnectorError, match="ECOUTE_FACEBOOK__PAGE_TOKEN"):
        run_connector("facebook", settings, connector_settings=ConnectorSettings(facebook={"page_id": PAGE}))
    with pytest.raises(ConnectorError, match="not a polled connector"):
        run_connector("myspace", settings)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even except Exception handlers)."""


def test_crash_between_produce_and_checkpoint_resends_at_most_one_page(
    broker_settings, fake_api, fast_http, monkeypatch
):
    serve_page(fake_api)
    config = fb_config(fake_api, fast_http)
    real_save = CheckpointStore.save
    saves = []

    def crashing_save(self, key, state):
        saves.append(key)
        if len(saves) == 3:  # feed pages 1-2 checkpointed; the first comments page acknowledged, not checkpointed
            raise Killed
        real_save(self, key, state)

    monkeypatch.setattr(CheckpointStore, "save", crashing_save)
    with pytest.raises(Killed):
        run_connector("facebook", broker_settings, connector_settings=config)
    monkeypatch.setattr(CheckpointStore, "save", real_save)
    before = len(read_topic(broker_settings, broker_settings.topics.raw))
    assert before == 5  # 3 posts + the 2 comments of the unacknowledged-by-checkpoint page
    # The feed window was completed and checkpointed: the next window (since = its end) is empty.
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/empty.json", replace=True)

    resumed = run_connector("facebook", broker_settings, connector_settings=config)
    keys = Counter(key for key, _ in read_topic(broker_settings, broker_settings.topics.raw))
    assert len(keys) == 7  # 0 lost
    assert sum(count - 1 for count in keys.values()) == 2  # exactly that one page (2 records) re-sent
    assert resumed.produced == 4


def test_follow_mode_survives_a_failed_sweep_once_mode_reports_it(settings, fake_api, fast_http):
    for _ in range(5):  # max_retries=4: five attempts, then the sweep gives up
        fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/error_transient.json")
    serve_page(fake_api)
    config = fb_config(fake_api, fast_http, poll_interval_s=0.01)
    stats = run_connector("facebook", settings, once=False, connector_settings=config, max_runs=2)
    assert stats.produced == 7  # the second sweep did the work
    for _ in range(5):
        fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/error_transient.json", replace=_ == 0)
    with pytest.raises(ConnectorError, match="gave up after 5 attempts"):
        run_connector("facebook", settings, connector_settings=config)


def test_max_pages_keeps_the_window_open_for_the_next_run(settings, fake_api, fast_http):
    serve_page(fake_api)
    config = fb_config(fake_api, fast_http, max_pages=1)
    run_connector("facebook", settings, connector_settings=config)
    state = CheckpointStore(settings.checkpoints_dir).load(f"facebook.page.{PAGE}")
    assert state["window"] is not None and state["feed_next"]["after"] == "QVFIUkZAHU0F6dWZAB"
    run_connector("facebook", settings, connector_settings=config)
    state = CheckpointStore(settings.checkpoints_dir).load(f"facebook.page.{PAGE}")
    assert state["window"] is None and P3 in state["posts"]
    ids = [event["id"] for event in raw_events(settings) if event["kind"] == "post"]
    assert sorted(ids) == sorted({f"facebook:{P1}", f"facebook:{P2}", f"facebook:{P3}"})  # each post once


def test_token_never_reaches_our_logs(settings, fake_api, fast_http, caplog):
    fake_api.add(f"/v21.0/{PAGE}/feed", "facebook/error_throttled.json")
    serve_page(fake_api)
    caplog.set_level(logging.DEBUG)
    run_connector("facebook", settings, connector_settings=fb_config(fake_api, fast_http))
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]  # werkzeug = the fake Graph server
    assert any(r.name.startswith("connectors") for r in ours)
    assert not [r.getMessage() for r in ours if TOKEN in r.getMessage()]


def test_resumes_from_a_checkpoint_written_before_the_declarative_streams(settings, fake_api, fast_http):
    # The exact file the connector wrote mid-window (after feed page 1) before the framework refactor.
    legacy = {
        "posts": {P1: {"created": 1714636800, "after": CURSOR_811_1}, P2: {"created": 1714588200, "after": None}},
        "window": {"since": 1714000000, "until": 1714700000},
        "feed_next": {
            "fields": "id,message",
            "limit": "2",
            "since": "1714000000",
            "until": "1714700000",
            "after": "QVFIUkZAHU0F6dWZAB",
        },
        "saved_at": "2024-05-03T10:00:00Z",
    }
    settings.checkpoints_dir.mkdir(parents=True, exist_ok=True)
    (settings.checkpoints_dir / f"facebook.page.{PAGE}.json").write_text(json.dumps(legacy))
    serve_page(fake_api)
    stats = run_connector("facebook", settings, connector_settings=fb_config(fake_api, fast_http))
    feed_calls = [call[1] for call in fake_api.calls if call[0] == f"/v21.0/{PAGE}/feed"]
    assert [call.get("after") for call in feed_calls] == ["QVFIUkZAHU0F6dWZAB"]  # page 2 only
    assert feed_calls[0]["fields"] == "id,message" and feed_calls[0]["since"] == "1714000000"
    first_811 = next(call[1] for call in fake_api.calls if call[0] == f"/v21.0/{P1}/comments")
    assert first_811.get("after") == CURSOR_811_1  # the saved comment cursor, not the first page again
    assert (stats.produced, stats.dead_lettered) == (3, 2)
    ids = {event["id"] for event in raw_events(settings)}
    assert f"facebook:{P1}" not in ids and f"facebook:{P3}" in ids
    state = CheckpointStore(settings.checkpoints_dir).load(f"facebook.page.{PAGE}")
    assert state["window"] is None and state["since"] == 1714700000 and state["feed_next"] is None
    assert state["posts"][P1]["after"] == CURSOR_811_LAST and set(state["posts"]) == {P1, P2, P3}
