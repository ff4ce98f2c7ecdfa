"""The figures defined once (jobs/reporting/kpis.py): what the rollups, the digest and the report print."""

from __future__ import annotations

import pytest

from jobs.reporting.kpis import mood_index, share


def test_mood_index_runs_from_all_negative_to_all_positive() -> None:
    assert mood_index(4, 0, 4) == 1.0
    assert mood_index(0, 4, 4) == -1.0
    assert mood_index(3, 1, 8) == pytest.approx(0.25)  # neutral items dilute the mood
    assert mood_index(0, 0, 0) is None  # no volume, no mood (not a neutral 0)


def test_share_of_nothing_is_unknown() -> None:
    assert share(1, 4) == 0.25
    assert share(0, 0) is None


def _day_of_mentions() -> list[dict]:
    """One day of one channel: criticism and praise, answered quickly, late, before (clock skew) or not."""
    from datetime import UTC, datetime, timedelta

    from tests.jobs.alerts.data import mention

    t0 = datetime(2026, 10, 5, 8, tzinfo=UTC)
    answers = [timedelta(minutes=20), None, timedelta(hours=5), timedelta(minutes=-3), None, timedelta(minutes=45)]
    docs = [
        mention(
            n,
            t0 + timedelta(hours=n),
            critical=n % 3 != 0,
            answered_after=answers[n % len(answers)],
            kind=("post", "comment", "reply")[n % 3],
        )
        for n in range(1, 15)
    ]
    docs.append(mention(99, t0, is_brand=True, kind="reply"))  # the brand's own reply: never answerable
    return docs


def test_the_response_rate_is_one_definition_in_the_rollups_digest_and_report() -> None:
    """The rollups and the digest take the brand response rate over every community item, the report
    over the criticism: fed the same items, the three agree, and agree with kpis.response_rate."""
    import statistics
    from datetime import date

    from jobs.reporting import kpis
    from jobs.reporting.digest import summarise
    from jobs.reporting.report.data import ReportData, item_frame
    from jobs.reporting.report.data import kpis as report_figures
    from jobs.reporting.rollups import ALL_TOPICS, rollup_rows

    docs = _day_of_mentions()
    community = [d for d in docs if not d["author"]["is_brand"]]
    answerable = [d for d in community if kpis.answerable(d)]
    expected = kpis.response_rate(sum(map(kpis.answered, answerable)), len(answerable))
    assert expected is not None and 0 < expected < 1

    [rollup] = [r for r in rollup_rows(docs, date(2026, 10, 5), set()) if r["topic"] == ALL_TOPICS]
    digest = summarise(community)  # the digest's query leaves the brand's items out
    assert rollup["brand_response_rate"] == round(expected, 4)
    assert digest["brand_response_rate"] == pytest.approx(expected)
    # The median response time too: skewed answers (before their item) have none, in both.
    minutes = [m for m in map(kpis.response_minutes, answerable) if m is not None]
    assert len(minutes) < sum(map(kpis.answered, answerable))
    assert rollup["median_response_minutes"] == digest["median_response_minutes"] == statistics.median(minutes)

    critical = [d for d in community if d["criticism"]]
    expected_critical = kpis.response_rate(sum(map(kpis.answered, critical)), len(critical))
    report = report_figures(ReportData(item_frame(community), [], {}, {}))
    assert report["response_rate"] == round(expected_critical * 100, 1)
    # Fed only the criticism, the rollups and the digest give the report's figure.
    [critical_rollup] = [r for r in rollup_rows(critical, date(2026, 10, 5), set()) if r["topic"] == ALL_TOPICS]
    assert critical_rollup["brand_response_rate"] * 100 == pytest.approx(report["response_rate"], abs=0.01)
    assert summarise(critical)["brand_response_rate"] * 100 == pytest.approx(report["response_rate"], abs=0.05)


def test_nothing_to_answer_has_no_response_rate() -> None:
    from jobs.reporting.kpis import answerable, response_minutes, response_rate

    assert response_rate(0, 0) is None
    assert not answerable({"kind": "comment", "author": {"is_brand": True}})
    assert not answerable({"kind": "story"})  # not a kind any connector produces
    assert response_minutes({"answered_by_brand": True, "created_at": "2026-10-05T10:00:00Z"}) is None
    answered = {
        "answered_by_brand": True,
        "created_at": "2026-10-05T10:00:00Z",
        "brand_answered_at": "2026-10-05T10:30:00Z",
    }
    assert response_minutes(answered) == 30.0
    assert response_minutes({**answered, "answered_by_brand": False}) is None
