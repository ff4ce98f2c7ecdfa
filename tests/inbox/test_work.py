"""Queues' order and filters, label corrections, saved replies, rules, response times in business hours."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from starlette.datastructures import FormData

from ecoute.feedback import iter_corrections
from ecoute.settings import BusinessHours
from inbox import actions, metrics, rules, views
from inbox.actions import Services
from inbox.saved_replies import render_reply
from inbox.store import Store
from tests.inbox.conftest import FB_CRITIC, FB_THREAT, IG_COMMENT, YT_COMMENT

MO = {"username": "mo", "role": "moderator"}


@pytest.fixture
def services(inbox_settings, platforms) -> Services:
    store = Store(inbox_settings)
    store.ensure()
    return Services(inbox_settings, store, platforms.connector_settings())


def test_answer_queue_puts_constructive_first_ranked_by_reach_and_wait(services) -> None:
    rows = views.queue(services, "answer", views.Filters()).items
    ids = [r["id"] for r in rows]
    assert ids[:2] == [FB_CRITIC, IG_COMMENT]  # both constructive; Anna's has 40 likes and waited longer
    assert all(r["constructive"] for r in rows[:2]) and not any(r["constructive"] for r in rows[2:])
    assert rows[0]["priority"] > rows[1]["priority"]
    assert "facebook:811111111111111_900000000000005" not in ids  # answered by the brand


def test_queue_filters_by_network_language_topic_page_and_period(services) -> None:
    def ids(name: str, **filters) -> set[str]:
        return {r["id"] for r in views.queue(services, name, views.Filters(**filters)).items}

    assert ids("answer", source="instagram") == {IG_COMMENT}
    assert ids("answer", lang="en") == {IG_COMMENT}
    assert ids("answer", topic="delivery") == {FB_CRITIC, "facebook:811111111111111_900000000000004"}
    assert ids("moderate", channel="youtube:MaisonAuroreTV") == {YT_COMMENT}
    assert ids("answer", start=date(2026, 10, 18)) == set()
    assert FB_CRITIC not in ids("answer", end=date(2026, 10, 16))


def test_moderation_puts_threats_first_when_categories_exist_and_copes_without() -> None:
    rows = [
        {"id": "a", "toxic_categories": ["insult"], "score": 0.99},
        {"id": "b", "toxic_categories": [], "score": 0.9},
        {"id": "c", "toxic_categories": ["insult", "threat"], "score": 0.5},
    ]
    rows.sort(key=lambda r: (views._category_rank(r["toxic_categories"]), -(r.get("score") or 0)))
    assert [r["id"] for r in rows] == ["c", "a", "b"]


def test_moderate_and_welcome_queues_on_seeded_data(services) -> None:
    moderate = views.queue(services, "moderate", views.Filters()).items
    assert moderate[0]["id"] == FB_THREAT  # highest score (no categories stored by this labeller)
    assert all(r["toxic_categories"] == [] for r in moderate)
    welcome = views.queue(services, "welcome", views.Filters()).items  # opens on the newest day with data
    assert "facebook:811111111111111_900000000000007" in {r["id"] for r in welcome}
    assert "facebook:c0" not in {r["id"] for r in welcome}


def test_thread_has_post_context_and_a_mood_chart(services) -> None:
    data = views.thread(services, FB_CRITIC)
    assert data["post"]["id"] == "facebook:p1" and data["focus"]["id"] == FB_CRITIC
    assert len(data["items"]) == 7 and data["mood"]["bars"] and data["mood"]["line"]
    toxic_bars = [b for b in data["mood"]["bars"] if b["tox_h"] > 0]
    assert toxic_bars  # the two toxic comments of 12:00 show in red


def test_a_label_correction_lands_in_the_feedback_index(services, inbox_settings) -> None:
    record = actions.correct(services, MO, FB_THREAT, {"toxic": False})
    assert record["status"] == "done"
    stored = list(iter_corrections(inbox_settings))
    assert len(stored) == 1
    doc = stored[0]
    assert doc["mention_id"] == FB_THREAT and doc["labels"] == {"toxic": False} and doc["who"] == "mo"
    assert doc["source"] == "inbox" and doc["previous"]["toxic"] is True and doc["text"].startswith("Je vais venir")


def test_saved_reply_placeholders(inbox_settings) -> None:
    mention = {"author": {"id": "a_anna", "name": "Anna"}, "channel": "facebook:maison-aurore", "source": "facebook"}
    template = "Bonjour {author}, merci pour votre message sur {page} ({network}). {inconnu}"
    assert (
        render_reply(template, mention, inbox_settings)
        == "Bonjour, merci pour votre message sur facebook:maison-aurore (facebook). {inconnu}"
    )
    named = inbox_settings.model_copy(update={"store_author_names": True})
    assert render_reply(template, mention, named).startswith("Bonjour Anna, merci")


def form(**values) -> FormData:
    items = []
    for key, value in values.items():
        for one in value if isinstance(value, list) else [value]:
            items.append((key, one))
    return FormData(items)


def test_rule_dry_run_on_the_last_30_days_changes_nothing(services, platforms) -> None:
    rule = rules.rule_from_form(
        form(name="liens", keywords="escrocs, voleurs", actions=["hide", "tag"], tag="arnaque"), "claire"
    )
    result = rules.dry_run(services, rule)
    assert result["matched"] == 2 and result["scanned"] >= 10
    assert {m["id"] for m in result["sample"]} == {"facebook:811111111111111_900000000000003", YT_COMMENT}
    assert result["actions"] == {"hide": 2, "tag": 2}
    assert platforms.calls == []
    link_rule = rules.rule_from_form(form(name="l", has_link="on", actions=["hide"]), "claire")
    assert rules.dry_run(services, link_rule)["matched"] == 1
    first = rules.rule_from_form(
        form(name="f", first_time="on", lang="fr", actions=["assign"], assign_to="mo"), "claire"
    )
    first_ids = {m["id"] for m in rules.dry_run(services, first)["sample"]}
    assert "facebook:811111111111111_900000000000007" in first_ids and "facebook:c0" in first_ids  # a_bob's first ever
    assert YT_COMMENT in first_ids and "facebook:811111111111111_900000000000004" in first_ids


def test_rule_forms_refuse_what_cannot_run() -> None:
    with pytest.raises(ValueError, match="condition"):
        rules.rule_from_form(form(name="x", actions=["hide"]), "claire")
    with pytest.raises(ValueError, match="action"):
        rules.rule_from_form(form(name="x", keywords="a"), "claire")
    with pytest.raises(ValueError, match="assign_to"):
        rules.rule_from_form(form(name="x", keywords="a", actions=["assign"]), "claire")


def test_rule_matching_folds_case_and_accents_whole_words() -> None:
    rule = {"conditions": {"keywords": ["Arnaque"]}}
    assert rules.matches(rule, {"text": "quelle ARNAQUÉ"}, False)  # case and accents ignored
    assert rules.matches(rule, {"text": "c'est une arnaque !"}, False)
    assert not rules.matches(rule, {"text": "arnaqueurs"}, False)
    cats = {"conditions": {"toxic_categories": ["threat"], "min_toxic_score": 0.5}}
    assert rules.matches(cats, {"toxic_categories": ["threat"], "toxic_score": 0.6}, False)
    assert not rules.matches(cats, {"toxic_score": 0.9}, False)  # no categories from the labeller: no match


def test_rule_counts_and_reversal_rate_from_the_audit(services, platforms) -> None:
    native = FB_THREAT.split(":", 1)[1]
    platforms.add("POST", f"/v21.0/{native}", "facebook/success.json")
    first = actions.act(services, {"username": "rule:r1", "role": "moderator"}, FB_THREAT, "hide", rule_id="r1")
    actions.act(services, {"username": "rule:r1", "role": "moderator"}, FB_THREAT, "hide", rule_id="r1")
    actions.undo(services, MO, first["id"])
    counts = rules.rule_counts(services, ["r1"])["r1"]
    assert counts["done"] == 2 and counts["undone"] == 1 and counts["reversal_rate"] == 0.5


def test_business_seconds_skip_nights_weekends_and_holidays() -> None:
    hours = BusinessHours(timezone="Europe/Paris", start="09:00", end="18:00", holidays=["2026-11-11"])
    friday = datetime(2026, 10, 16, 15, 30, tzinfo=UTC)  # 17:30 in Paris (UTC+2)
    monday = datetime(2026, 10, 19, 7, 30, tzinfo=UTC)  # 09:30 in Paris
    assert metrics.business_seconds(friday, monday, hours) == 3600
    tuesday = datetime(2026, 11, 10, 16, 0, tzinfo=UTC)  # 17:00 Paris (UTC+1), the 11th is a holiday
    thursday = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)  # 10:00 Paris
    assert metrics.business_seconds(tuesday, thursday, hours) == 2 * 3600


def test_response_times_per_class(services) -> None:
    figures = metrics.response_times(services, date(2026, 10, 1), date(2026, 10, 31))
    assert figures["headline"] == figures["classes"]["constructive"]
    assert figures["classes"]["constructive"]["items"] == 2 and figures["classes"]["constructive"]["answered"] == 0
    criticism = figures["classes"]["criticism"]
    # Posted and answered on Saturday 17 October: no business hour passed.
    assert criticism["answered"] == 1 and criticism["median_hours"] == 0.0
    weekdays = services.settings.model_copy(
        update={
            "inbox": services.settings.inbox.model_copy(
                update={"business_hours": BusinessHours(weekdays=[0, 1, 2, 3, 4, 5, 6])}
            )
        }
    )
    seven_days = metrics.response_times(
        Services(weekdays, services.store, services.connectors), date(2026, 10, 1), date(2026, 10, 31)
    )
    assert seven_days["classes"]["criticism"]["median_hours"] == pytest.approx(1.33, abs=0.05)  # 11:40 → 13:00 Paris


def test_threats_come_first_once_the_labeller_stores_toxic_categories(settings, platforms) -> None:
    """The labeller's toxic_categories (another stage adds it to the mapping) drive the moderation order."""
    from ecoute import es
    from ecoute.events import month_index
    from tests.ecoute.views.synthetic import index_mentions
    from tests.inbox.conftest import inbox_settings_for, seed_docs

    seeded = inbox_settings_for(settings)
    client = es.make_client(seeded)
    es.apply_templates(client, seeded)
    client.indices.create(
        index=month_index(seeded.indices.mentions, "2026-10-17T00:00:00Z"),
        mappings={"properties": {"toxic_categories": {"type": "keyword"}}},
    )
    docs = seed_docs()
    categories = {FB_THREAT: ["threat"], "facebook:811111111111111_900000000000003": ["insult"], YT_COMMENT: ["insult"]}
    for doc in docs:
        if doc["id"] in categories:
            doc["toxic_categories"] = categories[doc["id"]]
            doc["toxic_score"] = 0.99 if doc["id"] == YT_COMMENT else 0.5  # the threat is not the highest score
    index_mentions(seeded, docs)
    store = Store(seeded)
    store.ensure()
    rows = views.queue(Services(seeded, store, platforms.connector_settings()), "moderate", views.Filters()).items
    assert [r["id"] for r in rows][:2] == [FB_THREAT, YT_COMMENT]
    assert rows[0]["toxic_categories"] == ["threat"]


def test_day_filters_are_the_pages_days_not_utc_ones(services, inbox_settings) -> None:
    from tests.ecoute.views.synthetic import index_mentions, mention

    late = "facebook:811111111111111_900000000000099"  # 23:30 UTC on the 17th: 01:30 on the 18th in Paris
    index_mentions(
        inbox_settings,
        [
            mention(
                late,
                datetime(2026, 10, 17, 23, 30, tzinfo=UTC),
                author_id="a_late",
                text="Toujours rien",
                sentiment="negative",
                criticism=True,
                parent_id="facebook:p1",
                thread_id="facebook:p1",
            )
        ],
    )

    def ids(day: date) -> set[str]:
        return {r["id"] for r in views.queue(services, "answer", views.Filters(start=day, end=day)).items}

    assert late in ids(date(2026, 10, 18)) and late not in ids(date(2026, 10, 17))


def test_weekend_hours_count_for_a_team_that_works_then() -> None:
    hours = BusinessHours(timezone="Europe/Paris", start="08:00", end="22:00", weekend="10:00-19:00")
    saturday = datetime(2026, 10, 17, 7, 30, tzinfo=UTC)  # 09:30 in Paris, the team opens at 10:00
    answered = datetime(2026, 10, 17, 9, 0, tzinfo=UTC)  # 11:00 in Paris
    assert metrics.business_seconds(saturday, answered, hours) == 3600
    closed = BusinessHours(timezone="Europe/Paris", start="08:00", end="22:00")
    assert metrics.business_seconds(saturday, answered, closed) == 0  # no weekend hours: 0, and the page says so
