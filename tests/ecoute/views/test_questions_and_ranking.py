"""The questions queue, the answer queue's sections, saturating wait and paging, on noida-db."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from ecoute.cli import app
from ecoute.views.queues import answer_page, questions_page, welcome_queue
from ecoute.views.ranking import STALE_DAYS, rank_answer, reason_text, wait_boost
from tests.ecoute.views.synthetic import index_mentions, mention

NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)
POST = dict(kind="post", author_id="brand", is_brand=True)
ON_POST = dict(parent_id="facebook:p1", thread_id="facebook:p1")


def _docs() -> list[dict]:
    return [
        mention("facebook:p1", NOW - timedelta(days=30), text="Nouveau baume", **POST),
        mention("facebook:old", NOW - timedelta(days=25), author_id="a_old", text="Bonjour"),
        # Questions: one open, one a member answered, one the brand answered, one by a newcomer today.
        mention(
            "facebook:q1",
            NOW - timedelta(days=3),
            author_id="a_old",
            text="Vous livrez en Belgique ?",
            question=True,
            **ON_POST,
        ),
        mention(
            "facebook:q2", NOW - timedelta(days=2), author_id="a_zoe", text="C'est vegan ?", question=True, **ON_POST
        ),
        mention(
            "facebook:q2r",
            NOW - timedelta(days=2) + timedelta(hours=1),
            kind="reply",
            parent_id="facebook:q2",
            thread_id="facebook:p1",
            author_id="a_max",
            text="Oui, c'est écrit sur la fiche",
        ),
        mention(
            "facebook:q3",
            NOW - timedelta(days=1),
            author_id="a_ann",
            text="Dispo à Lyon ?",
            question=True,
            answered_at=NOW - timedelta(hours=20),
            **ON_POST,
        ),
        mention(
            "facebook:q4",
            NOW - timedelta(hours=2),
            author_id="a_new",
            text="Comment on utilise le code ?",
            question=True,
            **ON_POST,
        ),
        mention("facebook:q4b", NOW - timedelta(hours=1), author_id="a_new", text="Merci !", **ON_POST),
        # Criticism: fresh constructive, fresh plain, a stale constructive one with many likes, an agreement.
        mention(
            "facebook:c1",
            NOW - timedelta(hours=5),
            author_id="a_b",
            text="Proposez le retrait en boutique",
            sentiment="negative",
            criticism=True,
            constructive=True,
            **ON_POST,
        ),
        mention(
            "facebook:c2",
            NOW - timedelta(hours=3),
            author_id="a_c",
            text="Colis jamais reçu",
            sentiment="negative",
            criticism=True,
            likes=50,
            **ON_POST,
        ),
        mention(
            "facebook:c3",
            NOW - timedelta(days=STALE_DAYS + 3),
            author_id="a_d",
            sentiment="negative",
            text="La pompe casse parce que le ressort est en plastique",
            criticism=True,
            constructive=True,
            likes=300,
            **ON_POST,
        ),
        mention(
            "facebook:c4",
            NOW - timedelta(hours=2),
            kind="reply",
            parent_id="facebook:c2",
            thread_id="facebook:p1",
            author_id="a_e",
            text="pareil",
            sentiment="negative",
            criticism=True,
        ),
    ]


@pytest.fixture
def month(settings):
    index_mentions(settings, _docs())
    return settings


def test_questions_open_newest_first_then_those_the_community_answered(month) -> None:
    page = questions_page(month, now=NOW)
    assert [r["id"] for r in page.items] == ["facebook:q4", "facebook:q1", "facebook:q2"]
    assert page.total == 3 and page.sections == {"open": 2, "community": 1}
    by_id = {r["id"]: r for r in page.items}
    assert by_id["facebook:q2"]["community_answered"] and by_id["facebook:q2"]["section"] == "community"
    assert "répondue par la communauté" in by_id["facebook:q2"]["reason"]
    assert by_id["facebook:q2"]["community_answer"]["text"] == "Oui, c'est écrit sur la fiche"
    assert by_id["facebook:q1"]["community_answer"] is None
    assert by_id["facebook:q4"]["newcomer"] and not by_id["facebook:q1"]["newcomer"]  # a_old posted before
    assert "premier message" in by_id["facebook:q4"]["reason"]
    assert by_id["facebook:q1"]["post"]["id"] == "facebook:p1"
    english = questions_page(month, now=NOW, lang="en").items[0]["reason"]
    assert english.startswith("a member's question") and "first message" in english


def test_cli_lists_the_questions_with_why_they_are_there(month, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ecoute.cli_support.views_settings", lambda: month)
    result = CliRunner().invoke(app, ["queue", "questions", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} == {"facebook:q1", "facebook:q2", "facebook:q4"}
    assert all(r["reason"].startswith("question d'un membre") for r in rows)


def test_a_newcomers_question_is_marked_in_the_welcome_queue(month) -> None:
    rows = {r["author"]: r for r in welcome_queue(month, day=NOW.date())}
    assert rows["a_new"]["asked_question"] and rows["a_new"]["items_today"] == 2


def test_answer_queue_sections_constructive_first_and_agreement_left_in_its_thread(month) -> None:
    page = answer_page(month, now=NOW)
    assert [r["id"] for r in page.items] == ["facebook:c1", "facebook:c2", "facebook:c3"]
    assert [r["section"] for r in page.items] == ["waiting", "waiting", "stale"]
    assert page.total == 3 and page.sections == {"waiting": 2, "stale": 1}
    assert "facebook:c4" not in [r["id"] for r in page.items]  # "pareil" is read in c2's thread
    assert page.items[1]["reason"] == "critique sans réponse de la marque · 50 j'aime · en attente depuis 3 h"
    assert page.items[2]["reason"].endswith(f"plus de {STALE_DAYS} jours sans réponse")


def test_answer_queue_pages_hold_other_items_and_the_total(month) -> None:
    first, second = answer_page(month, now=NOW, page_size=2), answer_page(month, now=NOW, page=2, page_size=2)
    assert first.total == second.total == 3 and first.pages == 2
    assert [r["id"] for r in first.items] == ["facebook:c1", "facebook:c2"]
    assert [r["id"] for r in second.items] == ["facebook:c3"]
    assert answer_page(month, now=NOW, page=3, page_size=2).items == []


def test_waiting_boost_saturates_so_a_month_old_item_does_not_outrank_todays() -> None:
    assert wait_boost(0) == 1.0 and wait_boost(24) == pytest.approx(1.5)
    assert wait_boost(24 * 60) <= 2.0 and wait_boost(24 * 60) - wait_boost(24 * 4) < 0.1
    docs = [
        {
            "id": "new",
            "criticism": True,
            "constructive": True,
            "created_at": "2026-10-20T09:00:00Z",
            "metrics": {"likes": 40},
        },
        {
            "id": "old",
            "criticism": True,
            "constructive": True,
            "created_at": "2026-08-20T09:00:00Z",
            "metrics": {"likes": 2},
        },
    ]
    ranked = rank_answer(docs, now=NOW)
    assert [r["doc"]["id"] for r in ranked] == ["new", "old"]
    # both stale (read a year later): reach decides, not the 60 days of difference in waiting
    later = rank_answer(docs, now=NOW + timedelta(days=365))
    assert [r["doc"]["id"] for r in later] == ["new", "old"] and later[0]["priority"] > later[1]["priority"]


def test_criticism_in_a_positive_tone_comes_after_the_rest() -> None:
    docs = [
        {
            "id": "praise?",
            "criticism": True,
            "sentiment": "positive",
            "created_at": "2026-10-20T11:00:00Z",
            "metrics": {"likes": 90},
        },
        {"id": "complaint", "criticism": True, "sentiment": "negative", "created_at": "2026-10-20T09:00:00Z"},
        {
            "id": "idea",
            "criticism": True,
            "constructive": True,
            "sentiment": "positive",
            "created_at": "2026-10-20T08:00:00Z",
        },
    ]
    assert [r["doc"]["id"] for r in rank_answer(docs, now=NOW)] == ["idea", "complaint", "praise?"]


def test_praise_and_a_plain_reply_never_enter_the_answer_queue() -> None:
    docs = [
        {"id": "praise", "criticism": False, "created_at": "2026-10-20T09:00:00Z"},
        {"id": "answer", "kind": "reply", "criticism": True, "created_at": "2026-10-20T09:00:00Z"},
        {"id": "idea", "kind": "reply", "criticism": True, "constructive": True, "created_at": "2026-10-20T09:00:00Z"},
    ]
    assert [r["doc"]["id"] for r in rank_answer(docs, now=NOW)] == ["idea"]
    assert reason_text([("likes", {"n": 3}), ("stale", {"days": 7})], "en") == (
        "3 likes · more than 7 days without an answer"
    )
    assert reason_text([("replies", {"n": 1}), ("replies", {"n": 2})], "fr") == "1 réponse · 2 réponses"
