"""RSS/Atom connector: conditional GET (ETag/Last-Modified), entries → posts, broken feeds → DLQ."""

from __future__ import annotations

from datetime import datetime

import pytest

from connectors import run_connector
from connectors.base import ConnectorError
from connectors.config import ConnectorSettings, RssSettings
from ecoute import events
from tests.connectors.conftest import FIXTURES, dead_letters, raw_events

RSS_HEADERS = {
    "Content-Type": "application/rss+xml; charset=UTF-8",
    "ETag": '"5f3a-61b2c"',
    "Last-Modified": "Fri, 03 May 2024 08:00:00 GMT",
}


def feed(name: str) -> str:
    return (FIXTURES / "rss" / name).read_text(encoding="utf-8")


def rss_config(fake_api, fast_http, feeds, **overrides) -> ConnectorSettings:
    urls = [fake_api.url(path) for path in feeds]
    return ConnectorSettings(rss=RssSettings(feeds=urls, lookback_days=30, **fast_http, **overrides))


def serve(fake_api) -> None:
    fake_api.add("/economie/rss.xml", {}, headers=RSS_HEADERS, body=feed("actualites.rss.xml"))
    fake_api.add("/blog/atom.xml", {}, headers={"Content-Type": "application/atom+xml"}, body=feed("blog.atom.xml"))


def test_entries_become_posts_and_conditional_get_skips_unchanged(settings, fake_api, fast_http):
    serve(fake_api)
    config = rss_config(fake_api, fast_http, ["/economie/rss.xml", "/blog/atom.xml"])
    stats = run_connector("rss", settings, connector_settings=config)
    assert (stats.produced, stats.dead_lettered) == (4, 0)
    produced = {event["raw"]["link"]: event for event in raw_events(settings)}
    assert all(events.validation_errors(event) == [] for event in produced.values())
    recall = produced["https://journal.example.fr/economie/2024/05/03/mamarque-rappel"]
    assert recall["text"] == (
        "MaMarque rappelle 10 000 bouilloires défectueuses\n\n"
        "Le fabricant MaMarque rappelle des bouilloires après des signalements de surchauffe & de fuites."
    )
    assert recall["created_at"] == "2024-05-03T07:30:00Z" and recall["channel"] == "Le Journal — Économie"
    assert recall["kind"] == "post" and recall["id"].startswith("rss:") and recall["raw"]["tags"] == ["Consommation"]
    undated = produced["https://journal.example.fr/economie/interview-pdg-mamarque"]
    created, fetched = (datetime.fromisoformat(undated[f].replace("Z", "+00:00")) for f in ("created_at", "fetched_at"))
    assert abs((fetched - created).total_seconds()) < 60  # undated news: dated when first seen
    review = produced["https://gadgets.example.com/mamarque-kettle"]
    assert review["text"] == "Review: the MaMarque kettle is great 🔥\n\nFast, quiet & pretty."
    assert review["created_at"] == "2024-05-02T12:00:00Z" and review["channel"] == "Gadget Reviews"

    # Unchanged feed: the server answers 304 to the saved validators; nothing is re-sent.
    fake_api.add("/economie/rss.xml", {}, status=304, body="", replace=True)
    fake_api.calls.clear()
    again = run_connector("rss", settings, connector_settings=config)
    assert again.produced == 0  # the Atom feed (no validators) is re-read, its entry is known
    conditional = next(call for call in fake_api.calls if call[0] == "/economie/rss.xml")[2]
    assert conditional["If-None-Match"] == '"5f3a-61b2c"'
    assert conditional["If-Modified-Since"] == "Fri, 03 May 2024 08:00:00 GMT"
    assert len(raw_events(settings)) == 4


def test_keywords_filter_and_broken_feed_goes_to_dlq(settings, fake_api, fast_http):
    serve(fake_api)
    fake_api.add("/broken.xml", {}, status=200, headers={"Content-Type": "text/html"}, body=feed("broken.html"))
    config = rss_config(fake_api, fast_http, ["/broken.xml", "/economie/rss.xml"], keywords=["mamarque"])
    stats = run_connector("rss", settings, connector_settings=config)
    assert (stats.produced, stats.dead_lettered) == (2, 1)
    letter = dead_letters(settings)[0]
    assert letter["reason"].startswith("parse: feed unreadable") and "Bad Gateway" in letter["original"]
    assert all("mamarque" in event["text"].lower() for event in raw_events(settings))


def test_no_feeds_configured(settings):
    with pytest.raises(ConnectorError, match="ECOUTE_RSS__FEEDS"):
        run_connector("rss", settings, connector_settings=ConnectorSettings())


def test_cli_connect_rss_once_reads_credentials_and_feeds_from_environment(settings, fake_api):
    import json
    import subprocess
    import sys

    from tests.connectors.conftest import cli_env

    serve(fake_api)
    env = cli_env(
        settings, ECOUTE_RSS__FEEDS=json.dumps([fake_api.url("/economie/rss.xml")]), ECOUTE_RSS__LOOKBACK_DAYS="30"
    )
    run = subprocess.run(
        [sys.executable, "-m", "ecoute.cli", "connect", "rss", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "rss: 3 produced, 0 dead-lettered" in run.stdout
    assert len(raw_events(settings)) == 3


def test_resumes_from_a_checkpoint_written_before_the_declarative_streams(settings, fake_api, fast_http):
    import hashlib
    import json
    import time

    from connectors.base import CheckpointStore

    url = fake_api.url("/economie/rss.xml")
    known = "ae13639e703031de80f2c184c8663b77"  # the recall article, already sent before the refactor
    legacy = {
        "seen": {known: int(time.time()) - 3600, "f" * 32: 1},
        "etag": '"old-etag"',
        "modified": None,
        "saved_at": "2024-05-03T13:00:00Z",
    }
    name = f"rss.feed.{hashlib.sha256(url.encode()).hexdigest()[:16]}"
    settings.checkpoints_dir.mkdir(parents=True, exist_ok=True)
    (settings.checkpoints_dir / f"{name}.json").write_text(json.dumps(legacy))
    serve(fake_api)
    stats = run_connector("rss", settings, connector_settings=rss_config(fake_api, fast_http, ["/economie/rss.xml"]))
    headers = fake_api.calls[0][2]
    assert headers["If-None-Match"] == '"old-etag"' and "If-Modified-Since" not in headers
    assert stats.produced == 2
    assert all("rappel" not in event["raw"]["link"] for event in raw_events(settings))
    state = CheckpointStore(settings.checkpoints_dir).load(name)
    assert known in state["seen"] and "f" * 32 not in state["seen"] and state["etag"] == '"5f3a-61b2c"'
