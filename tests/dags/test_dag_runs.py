"""Each Écoute DAG run with dag.test() against the embedded stack (noida-db, SMTP sink)."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from jobs.notify import smtp_connection_uri
from jobs.reporting.rollups import read_rollups
from tests.dags.conftest import DAGS
from tests.jobs.alerts.data import index_mentions, month_with_crisis


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    return bag


def _run(dag, when: datetime | None) -> str:
    for task in dag.tasks:
        task.retries = 0  # a failing task must fail the test now, not after a retry delay
    run = dag.test(logical_date=when)
    return str(run.state)


def test_rollups_dag_backfill_is_identical_twice(dagbag, task_settings) -> None:
    index_mentions(task_settings, month_with_crisis(days=6))
    dag = dagbag.get_dag("ecoute_rollups_daily")
    days = [datetime(2026, 10, d, tzinfo=UTC) for d in range(3, 7)]  # fires 10-03 … 10-06 at midnight
    began = time.perf_counter()
    for fired in days:
        assert _run(dag, fired) == "success"
    per_run = (time.perf_counter() - began) / len(days)
    first = read_rollups(task_settings, date(2026, 10, 1), date(2026, 10, 9), topic=None)
    # The run firing on 10-06 rolls up 10-05 (the day that ended) and 10-04 (late mentions), not 10-06;
    # the first run (10-03) rolls up 10-02 and 10-01.
    assert {r["day"] for r in first} == {f"2026-10-0{d}" for d in range(1, 6)}
    for fired in days:
        assert _run(dag, fired) == "success"
    second = read_rollups(task_settings, date(2026, 10, 1), date(2026, 10, 9), topic=None)

    def strip(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "computed_at"} for r in rows]

    assert strip(first) == strip(second) and len(first) > 5 * 5
    print(f"rollups dag.test: {per_run:.2f}s per run")


def test_rollups_dag_run_by_the_mentions_asset_rolls_up_today(dagbag, task_settings) -> None:
    """A run the mentions asset starts has no logical date: it rolls up today so far, and yesterday."""
    from tests.jobs.alerts.data import mention

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    index_mentions(task_settings, [mention(n, now - timedelta(hours=n * 5)) for n in range(1, 8)])
    assert _run(dagbag.get_dag("ecoute_rollups_daily"), None) == "success"
    today = now.date()
    days = {r["day"] for r in read_rollups(task_settings, today - timedelta(days=3), today, topic=None)}
    assert days == {d.isoformat() for d in (today - timedelta(days=1), today)}


def test_centring_dag_publishes_a_centring_of_the_stored_mentions(dagbag, task_settings, monkeypatch, tmp_path) -> None:
    from datetime import datetime as dt

    from ecoute.settings import get_settings
    from jobs.labeller.centring import newest_centring
    from tests.jobs.alerts.data import mention

    monkeypatch.setenv("ECOUTE_LABELLER_DIR", str(tmp_path / "labeller"))
    get_settings.cache_clear()
    now = dt.now(UTC)
    index_mentions(task_settings, [mention(n, now - timedelta(hours=n), lang="fr") for n in range(1, 7)])
    assert _run(dagbag.get_dag("ecoute_labeller_centring"), now) == "success"
    published = newest_centring(tmp_path / "labeller" / "centring")
    assert published is not None and set(published.counts) == {"fr"} and published.counts["fr"] >= 3


def test_criticism_watch_dag_emails_the_crisis(dagbag, task_settings, smtp_outbox, monkeypatch) -> None:
    task_settings.smtp.port = smtp_outbox.port
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(task_settings))
    index_mentions(task_settings, month_with_crisis(days=21))
    dag = dagbag.get_dag("ecoute_criticism_watch")
    assert _run(dag, datetime(2026, 10, 20, 12, tzinfo=UTC)) == "success"  # before the crisis
    assert smtp_outbox.messages() == []
    assert _run(dag, datetime(2026, 10, 20, 16, 15, tzinfo=UTC)) == "success"
    assert _run(dag, datetime(2026, 10, 20, 16, 30, tzinfo=UTC)) == "success"  # same episode: no new email
    [path] = smtp_outbox.messages()
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert "Pic de critiques" in message["Subject"]


def test_digest_dag_sends_daily_and_weekly_on_monday(dagbag, task_settings, smtp_outbox, monkeypatch) -> None:
    from jobs.reporting.rollups import compute_daily_rollups

    task_settings.smtp.port = smtp_outbox.port
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(task_settings))
    index_mentions(task_settings, month_with_crisis(days=20))
    compute_daily_rollups(task_settings, date(2026, 10, 1), date(2026, 10, 19))
    dag = dagbag.get_dag("ecoute_team_digest")
    assert _run(dag, datetime(2026, 10, 19, 6, tzinfo=UTC)) == "success"  # a Monday
    subjects = sorted(
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"] for p in smtp_outbox.messages()
    )
    assert subjects == ["[Écoute] Bilan de la semaine du 2026-10-12", "[Écoute] Bilan du 2026-10-18"]
    assert _run(dag, datetime(2026, 10, 20, 6, tzinfo=UTC)) == "success"  # a Tuesday: daily only
    assert len(smtp_outbox.messages()) == 3


def test_connectors_dag_with_no_connector_enabled(dagbag, task_settings, monkeypatch) -> None:
    monkeypatch.setenv("ECOUTE_POLLED_CONNECTORS", "")
    assert _run(dagbag.get_dag("ecoute_connectors"), datetime(2026, 10, 20, tzinfo=UTC)) == "success"


def test_connectors_dag_fails_clearly_on_a_non_polled_connector(dagbag, task_settings, monkeypatch) -> None:
    monkeypatch.setenv("ECOUTE_POLLED_CONNECTORS", "webhook")
    assert _run(dagbag.get_dag("ecoute_connectors"), datetime(2026, 10, 20, 1, tzinfo=UTC)) == "failed"


def _serve_rss(httpserver, monkeypatch) -> None:
    from tests.connectors.conftest import FIXTURES

    body = (FIXTURES / "rss" / "actualites.rss.xml").read_text(encoding="utf-8")
    httpserver.expect_request("/economie/rss.xml").respond_with_data(body, content_type="application/rss+xml")
    monkeypatch.setenv("ECOUTE_POLLED_CONNECTORS", "rss")
    monkeypatch.setenv("ECOUTE_RSS__FEEDS", f'["{httpserver.url_for("/economie/rss.xml")}"]')
    monkeypatch.setenv("ECOUTE_RSS__LOOKBACK_DAYS", "36500")  # the fixture feed is from 2024
    monkeypatch.setenv("ECOUTE_RSS__MAX_RETRIES", "0")


def test_connectors_dag_polls_a_feed_into_kafka(dagbag, task_settings, httpserver, monkeypatch) -> None:
    from tests.connectors.conftest import raw_events

    _serve_rss(httpserver, monkeypatch)
    assert _run(dagbag.get_dag("ecoute_connectors"), datetime(2026, 10, 20, 2, tzinfo=UTC)) == "success"
    produced = raw_events(task_settings)
    assert len(produced) == 3 and all(e["source"] == "rss" for e in produced)


@pytest.mark.slow
def test_pipeline_runs_from_airflow_alone(dagbag, task_settings, httpserver, monkeypatch) -> None:
    """Connectors DAG → Kafka → enrichment DAG (Spark) → Elasticsearch → rollups DAG."""
    import os
    import sys

    from ecoute.es import make_client, scan_docs

    monkeypatch.setenv("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", sys.executable))
    monkeypatch.setenv("ECOUTE_SPARK_MASTER", "local[2]")
    _serve_rss(httpserver, monkeypatch)
    assert _run(dagbag.get_dag("ecoute_connectors"), datetime(2026, 10, 20, 3, tzinfo=UTC)) == "success"
    enrichment = dagbag.get_dag("ecoute_enrichment")
    assert _published_mentions(enrichment, datetime(2026, 10, 20, 3, 5, tzinfo=UTC)) == "success"
    client = make_client(task_settings)
    client.indices.refresh(index=f"{task_settings.indices.mentions}-*")
    docs = list(scan_docs(client, task_settings.indices.mentions))
    assert len(docs) == 3 and all(d["lang"] and d["sentiment"] for d in docs)
    # The feed's undated item is dated when first seen (today); older items predate the DAG's start.
    day = max(datetime.fromisoformat(d["created_at"].replace("Z", "+00:00")) for d in docs)
    fired = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    assert _run(dagbag.get_dag("ecoute_rollups_daily"), fired) == "success"
    assert read_rollups(task_settings, fired.date() - timedelta(days=1), fired.date() - timedelta(days=1))
    # Nothing new in Kafka: the next enrichment run writes nothing and publishes no asset event.
    assert _published_mentions(enrichment, datetime(2026, 10, 20, 3, 10, tzinfo=UTC)) == "skipped"


def _published_mentions(dag, when: datetime) -> str:
    """Run the enrichment DAG; the state of its task that publishes the mentions asset."""
    for task in dag.tasks:
        task.retries = 0
    run = dag.test(logical_date=when)
    assert str(run.state) == "success"
    return str(run.get_task_instance("mentions_written").state)


def test_connectors_dag_refuses_the_public_pseudonym_key_off_the_embedded_stack(
    dagbag, task_settings, httpserver, monkeypatch
) -> None:
    """Issue 28 item 17: only `ecoute connect` refused it; the DAG pseudonymised real authors with it."""
    from ecoute.kafka import ensure_topics
    from ecoute.settings import get_settings
    from tests.connectors.conftest import raw_events

    _serve_rss(httpserver, monkeypatch)
    monkeypatch.setenv("ECOUTE_ES__URL", "http://10.255.255.1:9200")  # a production cluster: not the embedded stack
    monkeypatch.delenv("ECOUTE_PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    assert _run(dagbag.get_dag("ecoute_connectors"), datetime(2026, 10, 20, 4, tzinfo=UTC)) == "failed"
    ensure_topics(task_settings)  # refused before it created them
    assert raw_events(task_settings) == []
    monkeypatch.setenv("ECOUTE_PSEUDONYM_KEY", "k" * 32)
    get_settings.cache_clear()
    assert _run(dagbag.get_dag("ecoute_connectors"), datetime(2026, 10, 20, 5, tzinfo=UTC)) == "success"
    assert len(raw_events(task_settings)) == 3
