"""The community manager's queues against a real Elasticsearch API (noida-db)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from ecoute import es
from ecoute.cli import app
from ecoute.views.queues import UnknownItems, answer_queue, mark_handled, moderate_queue, welcome_queue


def test_moderate_queue_is_toxic_unhandled_newest_first_and_pseudonymous(seeded) -> None:
    rows = moderate_queue(seeded.settings)
    assert [r["id"] for r in rows] == ["facebook:t2", "facebook:t1"]
    assert rows[0]["score"] == 0.8 and rows[0]["url"].startswith("https://")
    assert rows[0]["author"] == "a_eve"  # the pseudonym: names are not shown unless configured


def test_answer_queue_constructive_first_then_oldest_with_thread_context(seeded) -> None:
    rows = answer_queue(seeded.settings)
    # c3 ("pareil pour moi", a reply agreeing with c1) is read in its thread, not answered on its own
    assert [r["id"] for r in rows] == ["facebook:c0", "facebook:c2", "facebook:c1"]
    assert [r["constructive"] for r in rows] == [True, True, False]
    assert rows[2]["post"]["id"] == "facebook:p1" and rows[2]["post"]["is_brand"]
    assert rows[2]["parent"] is None  # a top-level comment's context is its post only
    assert all(r["section"] == "stale" for r in rows)  # October's items, read in December or later
    assert rows[0]["reason"].startswith("critique constructive")
    assert rows[0]["author"] == "a_anna"
    named = seeded.settings.model_copy(update={"store_author_names": True})
    assert answer_queue(named, limit=1)[0]["author"] == "Anna Martin"


def test_done_removes_the_item_from_its_queue_and_undo_puts_it_back(seeded) -> None:
    settings = seeded.settings
    assert mark_handled(settings, ["facebook:c0"]) == ["facebook:c0"]
    assert "facebook:c0" not in [r["id"] for r in answer_queue(settings)]
    stored = next(es.scan_docs(es.make_client(settings), settings.indices.mentions, {"term": {"id": "facebook:c0"}}))
    assert stored["handled"] is True and stored["handled_at"].startswith("20")
    mark_handled(settings, ["facebook:c0"], handled=False)
    assert answer_queue(settings)[0]["id"] == "facebook:c0"


def test_done_with_an_unknown_id_writes_nothing(seeded) -> None:
    with pytest.raises(UnknownItems, match="facebook:nope"):
        mark_handled(seeded.settings, ["facebook:t1", "facebook:nope"])
    assert [r["id"] for r in moderate_queue(seeded.settings)] == ["facebook:t2", "facebook:t1"]


def test_welcome_lists_first_time_authors_of_the_day_once(seeded) -> None:
    rows = welcome_queue(seeded.settings, day=date(2026, 10, 17))
    by_author = {r["author"]: r for r in rows}
    assert "a_anna" not in by_author  # commented on the 10th already
    assert "a_hal" not in by_author  # their first item was handled (welcomed)
    assert by_author["a_bob"]["items_today"] == 2 and by_author["a_bob"]["id"] == "facebook:c2"
    assert {"a_carl", "a_dan", "a_eve", "a_ivy"} <= set(by_author)
    assert "brand" not in by_author
    assert (
        welcome_queue(seeded.settings, day=date(2026, 10, 10))
        and welcome_queue(seeded.settings, day=date(2026, 10, 1)) == []
    )


def test_cli_queues_json_and_done(seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ecoute.cli_support.views_settings", lambda: seeded.settings)
    runner = CliRunner()
    result = runner.invoke(app, ["queue", "answer", "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["facebook:c0", "facebook:c2"]
    table = runner.invoke(app, ["queue", "moderate"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "facebook:t2" in table.stdout and "to moderate (2)" in table.stdout
    done = runner.invoke(app, ["queue", "done", "facebook:t2"])
    assert done.exit_code == 0, done.output
    assert [r["id"] for r in json.loads(runner.invoke(app, ["queue", "moderate", "--json"]).stdout)] == ["facebook:t1"]
    missing = runner.invoke(app, ["queue", "done", "facebook:nope"])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_cli_says_clearly_when_elasticsearch_is_down(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecoute.settings import Settings

    down = Settings(state_dir=tmp_path, es={"url": "http://127.0.0.1:9", "request_timeout_s": 2})
    monkeypatch.setattr("ecoute.cli_support.views_settings", lambda: down)
    result = CliRunner().invoke(app, ["queue", "answer"])
    assert result.exit_code == 1
    # One line says what is wrong and how to start it (issue 19: found before any retry).
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: cannot reach Elasticsearch at http://127.0.0.1:9") and "ecoute stack up" in line
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_moderate_queue_puts_threats_first_and_counter_speech_last_for_review(seeded) -> None:
    from tests.ecoute.views.conftest import t
    from tests.ecoute.views.synthetic import index_mentions, mention

    fb = dict(parent_id="facebook:p1", thread_id="facebook:p1")
    threat = mention(
        "facebook:t4", t(17, 11), author_id="a_jo", text="on va tous les brûler", toxic=True, toxic_score=0.95, **fb
    ) | {"toxic_categories": ["hate", "threat"]}
    counter = mention(
        "facebook:c7",
        t(17, 16),
        author_id="a_kim",
        text="« les X sont des rats » : honteux",
        toxic=False,
        toxic_score=0.4,
        **fb,
    ) | {"toxic_categories": ["hate"]}
    index_mentions(seeded.settings, [threat, counter])
    rows = moderate_queue(seeded.settings)
    assert [r["id"] for r in rows] == ["facebook:t4", "facebook:t2", "facebook:t1", "facebook:c7"]
    assert rows[0]["categories"] == ["hate", "threat"] and rows[0]["review"] is False
    assert rows[-1]["categories"] == ["hate"] and rows[-1]["review"] is True
    assert rows[1]["categories"] == []  # mentions labelled before toxic_categories existed
