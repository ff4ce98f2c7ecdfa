"""The connector contract without a broker: raw-event builder, parsers, checkpoints, SeenFilter."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from connectors.base import (
    CheckpointStore,
    ConnectorError,
    MappingError,
    SeenFilter,
    build_raw_event,
    contract_errors,
    epoch_of,
    parse_bool,
    parse_count,
    parse_time,
)
from ecoute import events
from ecoute.events import event_id
from ecoute.settings import Settings

SETTINGS = Settings(store_author_names=False)


@pytest.mark.parametrize(
    ("given_time", "expected"),
    [
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00+0000", "2024-05-01T10:00:00Z"),  # Graph API
        ("2024-05-01 10:00:00", "2024-05-01T10:00:00Z"),  # naive = UTC
        ("2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00Z"),
        ("2024-05-01", "2024-05-01T00:00:00Z"),
        (1714557600, "2024-05-01T10:00:00Z"),  # epoch seconds (Reddit, webhooks)
        (1714557600.5, "2024-05-01T10:00:00Z"),
        ("1714557600", "2024-05-01T10:00:00Z"),
    ],
)
def test_parse_time(given_time, expected):
    assert parse_time(given_time) == expected


@pytest.mark.parametrize("bad", ["", None, "hier", "2024-13-45T00:00:00Z"])
def test_parse_time_rejects(bad):
    with pytest.raises(MappingError):
        parse_time(bad)


def test_parse_bool_and_count():
    assert [parse_bool(v) for v in (True, "true", "1", 1, "Oui", "false", "0", 0, "", None)] == [True] * 5 + [False] * 5
    with pytest.raises(MappingError):
        parse_bool("maybe")
    assert [parse_count("likes", v) for v in ("12", 3, 4.0, "5.0", "", None)] == [12, 3, 4, 5, None, None]
    for bad in ("-1", "1.5", "many", -2):
        with pytest.raises(MappingError):
            parse_count("likes", bad)


def test_builder_ids_threads_and_privacy():
    post = build_raw_event(
        SETTINGS,
        source="facebook",
        native_id="1_2",
        kind="post",
        channel="Page",
        author_native_id="99",
        author_name="Jean",
        text="t",
        created_at="2024-05-01T10:00:00Z",
    )
    assert post["id"] == "facebook:1_2" and post["thread_id"] == "facebook:1_2" and post["parent_id"] is None
    assert post["author"] == {
        "id": events.pseudonymise("99", SETTINGS.pseudonym_key.get_secret_value()),
        "name": None,
        "is_brand": False,
    }
    named = Settings(store_author_names=True)
    reply = build_raw_event(
        named,
        source="x",
        native_id=5,
        kind="reply",
        channel="c",
        author_native_id=7,
        author_name="Ana",
        text="",
        created_at="2024-05-01T10:00:00Z",
        parent_native_id=4,
        likes=0,
    )
    assert reply["parent_id"] == reply["thread_id"] == "x:4" and reply["author"]["name"] == "Ana"
    assert reply["metrics"] == {"likes": 0}
    with pytest.raises(MappingError, match="parent"):
        build_raw_event(
            SETTINGS,
            source="x",
            native_id=5,
            kind="comment",
            channel="c",
            author_native_id=1,
            text="",
            created_at="2024-05-01",
        )
    with pytest.raises(MappingError, match="unknown source"):
        build_raw_event(
            SETTINGS,
            source="tiktok",
            native_id=5,
            kind="post",
            channel="c",
            author_native_id=1,
            text="",
            created_at="2024-05-01",
        )


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=3000),
    native=st.text(alphabet=st.characters(blacklist_categories=("Z", "Cc", "Cs")), min_size=1, max_size=40),
)
@example(text="", native="\ufeff1")  # a byte-order mark is white space to the schema's patterns
def test_any_unicode_text_and_id_give_a_valid_event(text, native):
    assume(native.replace("\ufeff", ""))  # an id of byte-order marks only is empty: refused, tested below
    event = build_raw_event(
        SETTINGS,
        source="import",
        native_id=native,
        kind="post",
        channel="c",
        author_native_id=native,
        text=text,
        created_at="2024-05-01T10:00:00Z",
    )
    assert contract_errors(event) == [] and events.validation_errors(event) == []
    assert event["text"] == text


def test_contract_errors_explains_invalid_events():
    event = build_raw_event(
        SETTINGS,
        source="rss",
        native_id="a",
        kind="post",
        channel="c",
        author_native_id="b",
        text="x",
        created_at="2024-05-01",
    )
    event["text"] = "x" * 100_001
    event["surprise"] = 1
    errors = contract_errors(event)
    assert any(e.startswith("text:") for e in errors) and any("surprise" in e for e in errors)


def test_checkpoint_store_is_atomic_and_reports_corruption(tmp_path):
    store = CheckpointStore(tmp_path / "checkpoints")
    assert store.load("facebook.page.1") is None
    store.save("facebook.page.1", {"since": 5, "text": "é😀"})
    assert store.load("facebook.page.1")["text"] == "é😀"
    store.save("facebook.page.1", {"since": 6})
    assert store.load("facebook.page.1")["since"] == 6
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["facebook.page.1.json"]  # no temp files left
    store.path("bad").write_text("{half")
    with pytest.raises(ConnectorError, match="corrupt"):
        store.load("bad")
    assert store.path("../../etc/passwd").parent == store.directory  # keys cannot escape the folder


def test_seen_filter_ties_and_commit():
    seen = SeenFilter()
    assert seen.is_new("2024-05-01T10:00:00Z", "a")
    seen.observe("2024-05-01T10:00:00Z", "a")
    seen.observe("2024-05-01T09:00:00Z", "b")
    state = seen.state()
    assert state["high_water"] is None and state["pending_high_water"] == "2024-05-01T10:00:00Z"
    resumed = SeenFilter(state)  # a sweep interrupted and resumed keeps its pending high water
    committed = SeenFilter(resumed.state(commit=True))
    assert not committed.is_new("2024-05-01T10:00:00Z", "a") and committed.is_new("2024-05-01T10:00:00Z", "c")
    assert not committed.is_new("2024-05-01T09:59:59Z", "z") and committed.is_new("2024-05-01T10:00:01Z", "a")


def test_prepare_dead_letters_events_too_big_for_kafka():
    from connectors.base import MAX_EVENT_BYTES, Mapped, prepare

    event = build_raw_event(
        SETTINGS,
        source="facebook",
        native_id="1",
        kind="post",
        channel="c",
        author_native_id="a",
        text="t",
        created_at="2024-05-01",
        raw={"blob": "x" * (MAX_EVENT_BYTES + 1)},
    )
    small = build_raw_event(
        SETTINGS,
        source="facebook",
        native_id="2",
        kind="post",
        channel="c",
        author_native_id="a",
        text="t",
        created_at="2024-05-01",
    )
    prepared = prepare([Mapped({"id": "1"}, event=event), Mapped({"id": "2"}, event=small)], "facebook")
    assert [key for key, _ in prepared.good] == ["facebook:2"]
    assert "over the" in prepared.dead[0]["reason"] and prepared.dead[0]["event_id"] == "facebook:1"


def test_prefetch_keeps_order_propagates_errors_and_closes_the_source():
    from connectors.base import Page, prefetch

    closed = []

    def pages(fail_at: int | None = None):
        try:
            for n in range(5):
                if n == fail_at:
                    raise RuntimeError("source broke")
                yield Page([], {"n": n})
        finally:
            closed.append(True)

    assert [page.state["n"] for page in prefetch(pages())] == [0, 1, 2, 3, 4]
    seen = []
    with pytest.raises(RuntimeError, match="source broke"):
        for page in prefetch(pages(fail_at=3)):
            seen.append(page.state["n"])
    assert seen == [0, 1, 2]
    stream = prefetch(pages())
    assert next(stream).state["n"] == 0
    stream.close()  # the consumer stops early (crash, Ctrl-C): the reader stops and closes the source
    assert closed == [True, True, True]


def test_a_declared_stream_is_paged_bookmarked_deduped_by_the_run_loop(httpserver):
    """The README's declarative stream, over real HTTP (no broker): the run loop pages, bookmarks
    mid-sweep, keeps newest-first items new only once, and dead-letters a bad record only once."""
    from typing import Any

    from connectors.config import HttpSourceSettings
    from connectors.http import ApiClient
    from connectors.run import stream_pages
    from connectors.source import ChildListing, PolledStream, Sweep, TokenPaginator

    page1 = {
        "items": [
            {"id": "1", "created_at": "2026-12-01T10:00:00Z", "replies": 2},
            {"id": "2", "created_at": "2026-11-30T10:00:00Z", "replies": 0},
        ],
        "meta": {"next": "p2"},
    }
    page2 = {"items": [{"id": "3", "created_at": "2026-11-29T10:00:00Z", "replies": 0}, {"id": "bad"}]}
    replies = {"data": [{"id": "1r", "created_at": "2026-12-01T11:00:00Z"}]}
    httpserver.expect_request(
        "/threads", query_string={"order": "newest", "limit": "2", "cursor": "p2"}
    ).respond_with_json(page2)
    httpserver.expect_request("/threads").respond_with_json(page1)
    httpserver.expect_request("/threads/1/replies").respond_with_json(replies)
    httpserver.expect_request("/threads/2/replies").respond_with_json({"data": []})
    httpserver.expect_request("/threads/3/replies").respond_with_json({"data": []})

    class Replies(ChildListing):
        path = "threads/{parent_id}/replies"
        count_field = "replies"
        newest_first = True
        one_page = True

        def map(self, record: dict[str, Any], parent_id: str) -> dict[str, Any]:
            return build_raw_event(
                SETTINGS,
                source="import",
                native_id=record["id"],
                kind="comment",
                parent_native_id=parent_id,
                channel="c",
                author_native_id=None,
                text="",
                created_at=record.get("created_at"),
            )

    class Threads(PolledStream):
        key = "threads"
        path = "threads"
        paginator = TokenPaginator("meta.next", "cursor")
        records_path = "items"
        newest_first = True
        watches = "threads"
        watch_fields = ("replies", "seen")

        def params(self) -> dict[str, Any]:
            return {"order": "newest", "limit": self.config.page_size}

        def accept(self, item: Any, event: dict[str, Any], sweep: Sweep) -> bool:
            sweep.watch(item.record["id"], epoch_of(event["created_at"]), item.record.get("replies"))
            return True

        def map(self, record: dict[str, Any]) -> dict[str, Any]:
            return build_raw_event(
                SETTINGS,
                source="import",
                native_id=record["id"],
                kind="post",
                channel="c",
                author_native_id=None,
                text="",
                created_at=record.get("created_at"),
            )

    config = HttpSourceSettings(
        base_url=httpserver.url_for("/"), page_size=2, lookback_days=36500, max_retries=0, backoff_base_s=0.01
    )
    with ApiClient("forum", config) as client:
        stream = Threads(SETTINGS, config, client)
        stream.children = Replies(SETTINGS, config, client)
        first = list(stream_pages(stream, None))
        sent = [[record.event["id"] if record.event else record.reason for record in page.records] for page in first]
        assert sent[:2] == [["import:1", "import:2"], ["import:3", "mapping: created_at is missing"]]
        assert first[0].state["sweep"] == {"page_token": "p2"} and first[1].state["sweep"] is None
        assert first[1].state["seen"]["high_water"] == "2026-12-01T10:00:00Z"
        assert sent[2:] == [["import:1r"], [], []]  # each watched thread's replies, one batch per thread
        assert first[-1].state["threads"]["1"]["replies"] == 2
        requests = len(httpserver.log)
        again = list(stream_pages(stream, first[-1].state))
    assert [record for page in again for record in page.records] == []  # nothing new, the bad record not re-sent
    assert [request.path for request, _ in httpserver.log[requests:]] == ["/threads", "/threads"]  # counts unchanged


def test_a_byte_order_mark_is_dropped_from_ids_and_an_id_of_marks_only_is_refused():
    assert event_id("import", "\ufeff42\ufeff") == "import:42"
    with pytest.raises(ValueError, match="empty native id"):
        event_id("import", "\ufeff")
