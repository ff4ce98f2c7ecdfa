"""Daily rollups against the embedded noida-db: figures, deterministic ids, safe re-runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from ecoute.es import bulk_write, make_client
from ecoute.events import month_index
from jobs.reporting.rollups import compute_daily_rollups, read_rollups
from tests.jobs.alerts.data import index_mentions, mention

DAY = date(2026, 10, 5)
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


def _docs() -> list[dict]:
    return [
        # An author already seen the day before: not new.
        mention(1, T0 - timedelta(days=1), author="a_old"),
        mention(2, T0, author="a_old", critical=True, answered_after=timedelta(minutes=30), topics=["prix"]),
        mention(3, T0 + timedelta(hours=1), author="a_new", critical=True, topics=["prix", "livraison"]),
        mention(
            4,
            T0 + timedelta(hours=2),
            author="a_new",
            sentiment="neutral",
            topics=[],
            answered_after=timedelta(minutes=90),
        ),
        mention(5, T0 + timedelta(hours=3), author="a_other", kind="post", topics=["livraison"]),
        mention(6, T0 + timedelta(hours=4), author="a_brand", is_brand=True, kind="reply", topics=["prix"]),
        mention(7, T0 + timedelta(hours=5), author="a_en", lang="en", critical=True, sentiment="negative"),
    ]


def test_rollup_figures_and_rerun(settings) -> None:
    index_mentions(settings, _docs())
    written = compute_daily_rollups(settings, DAY, DAY)
    rows = {r["id"]: r for r in read_rollups(settings, DAY, DAY, topic=None)}
    assert written == len(rows)
    fr_all = rows[f"{DAY}|facebook:maison-aurore|facebook|fr|_all"]
    assert fr_all["volume"] == 4  # the brand's reply is not community volume
    assert fr_all["brand_items"] == 1
    assert (fr_all["posts"], fr_all["comments"]) == (1, 3)
    assert (fr_all["positive"], fr_all["neutral"], fr_all["negative"]) == (1, 1, 2)
    assert fr_all["mood_index"] == (1 - 2) / 4
    assert fr_all["negative_share"] == 0.5
    assert fr_all["criticism"] == 2 and fr_all["criticism_constructive"] == 1  # id 2 is even: constructive
    assert fr_all["unanswered_critical"] == 1
    assert fr_all["brand_response_rate"] == 0.5
    assert fr_all["median_response_minutes"] == 60.0  # median of 30 and 90
    assert fr_all["new_authors"] == 2  # a_new and a_other; a_old was seen the day before
    prix = rows[f"{DAY}|facebook:maison-aurore|facebook|fr|prix"]
    assert prix["volume"] == 2 and prix["criticism"] == 2
    assert rows[f"{DAY}|facebook:maison-aurore|facebook|en|_all"]["volume"] == 1

    # Re-running gives the same rows (only computed_at moves), never more.
    def strip(r: dict) -> dict:
        return {k: v for k, v in r.items() if k != "computed_at"}

    compute_daily_rollups(settings, DAY, DAY)
    again = {r["id"]: r for r in read_rollups(settings, DAY, DAY, topic=None)}
    assert {k: strip(v) for k, v in again.items()} == {k: strip(v) for k, v in rows.items()}

    # A mention erased since the last run: its rows disappear on the next run.
    client = make_client(settings)
    doc = _docs()[-1]
    bulk_write(
        client,
        [{"_op_type": "delete", "_index": month_index(settings.indices.mentions, doc["created_at"]), "_id": doc["id"]}],
        refresh="wait_for",
    )
    compute_daily_rollups(settings, DAY, DAY)
    after = {r["id"] for r in read_rollups(settings, DAY, DAY, topic=None)}
    # Marked done in the answer queue: no longer counted as unanswered criticism.
    assert rows[f"{DAY}|facebook:maison-aurore|facebook|fr|_all"]["unanswered_critical"] == 1
    from ecoute.views.queues import mark_handled

    mark_handled(settings, [_docs()[2]["id"]])
    compute_daily_rollups(settings, DAY, DAY)
    handled = {r["id"]: r for r in read_rollups(settings, DAY, DAY, topic=None)}
    assert handled[f"{DAY}|facebook:maison-aurore|facebook|fr|_all"]["unanswered_critical"] == 0
    assert f"{DAY}|facebook:maison-aurore|facebook|en|_all" not in after
    assert after == set(rows) - {k for k in rows if "|en|" in k}


def test_empty_day_writes_nothing(settings) -> None:
    assert compute_daily_rollups(settings, DAY, DAY) == 0


def test_backfill_of_a_month_is_identical_twice(settings) -> None:
    from tests.jobs.alerts.data import month_with_crisis

    docs = month_with_crisis()
    index_mentions(settings, docs)
    first_day, last_day = date(2026, 10, 1), date(2026, 10, 31)
    written = compute_daily_rollups(settings, first_day, last_day)
    first = read_rollups(settings, first_day, last_day, topic=None)
    assert written == len(first)
    assert compute_daily_rollups(settings, first_day, last_day) == written
    second = read_rollups(settings, first_day, last_day, topic=None)
    assert [{k: v for k, v in r.items() if k != "computed_at"} for r in first] == [
        {k: v for k, v in r.items() if k != "computed_at"} for r in second
    ]
    totals = [r for r in first if r["topic"] == "_all"]
    assert sum(r["volume"] for r in totals) == len(docs)
    assert sum(r["criticism"] for r in totals) == sum(d["criticism"] for d in docs)


def test_windows_of_days_give_the_rows_of_days_read_one_by_one(settings, monkeypatch) -> None:
    """New authors across a window's edge, and a day's stale rows, come out the same whatever the window."""
    from jobs.reporting import rollups

    index_mentions(settings, _docs())
    first_day, last_day = DAY - timedelta(days=2), DAY + timedelta(days=1)

    def rows_with(window_days: int) -> list[dict]:
        monkeypatch.setattr(rollups, "WINDOW_DAYS", window_days)
        compute_daily_rollups(settings, first_day, last_day)
        return [
            {k: v for k, v in r.items() if k != "computed_at"}
            for r in read_rollups(settings, first_day, last_day, topic=None)
        ]

    whole = rows_with(31)
    assert rows_with(1) == whole
    assert rows_with(2) == whole  # the window edge falls between the returning author's two days
    day_of_a_new = [r for r in whole if r["day"] == DAY.isoformat() and r["topic"] == "_all"]
    assert sum(r["new_authors"] for r in day_of_a_new) == 3  # a_new, a_other, a_en; a_old came the day before
