"""The views on the demo month (infra/demo), labelled from its ground truth: the crisis shows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ecoute.views.queues import answer_queue, moderate_queue, welcome_queue
from jobs.reporting.report import build_report, kpis, load_data
from tests.ecoute.views.demo_enriched import DEMO, demo_enriched
from tests.ecoute.views.synthetic import index_mentions

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def demo_settings(settings):
    index_mentions(settings, demo_enriched())
    return settings


def test_views_on_the_demo_month(demo_settings, tmp_path: Path) -> None:
    truth = json.loads((DEMO / "ground_truth.json").read_text())
    data = load_data(demo_settings, date(2026, 10, 1), date(2026, 10, 31), None)
    frame = data.frame
    critical_per_day = frame[frame["criticism"]].groupby(frame["created_at"].dt.date).size()
    assert critical_per_day.idxmax() == date(2026, 10, 17)
    assert int(critical_per_day.max()) == truth["critical_comments_by_day"]["2026-10-17"]
    figures = kpis(data)
    assert figures["criticism"] == truth["critical_total"]
    assert figures["unanswered"] == truth["critical_total"] - truth["critical_answered_by_brand"]
    # Members' questions and how fast the brand answered them (the month's generator answers ~55 %).
    assert figures["questions"] == truth["by_intent_people"]["question"]
    assert 40 < figures["question_response_rate"] < 70 and figures["median_question_response_hours"] > 0
    assert figures["unanswered_questions"] < figures["questions"]
    # The one threat is in the moderation queue; the answer queue opens with constructive criticism.
    threat = "facebook:" + truth["threats"][0]["native_id"]
    assert threat in [r["id"] for r in moderate_queue(demo_settings, limit=500)]
    answer = answer_queue(demo_settings, limit=20)
    assert answer[0]["constructive"] and answer[0]["post"] is not None
    assert welcome_queue(demo_settings, day=date(2026, 10, 17))
    # The month's biggest complaint, named from its own words, is the carrier's lost parcels.
    assert data.complaints and data.complaints[0]["topic"] == "delivery"
    assert data.complaints[0]["size"] >= truth["critical_comments_by_day"]["2026-10-17"] // 2
    ARTIFACTS.mkdir(exist_ok=True)
    out = build_report(demo_settings, date(2026, 10, 1), date(2026, 10, 31), ARTIFACTS / "report-demo.html")
    assert out.stat().st_size > 50_000
    assert "De quoi se plaint-on ?" in out.read_text(encoding="utf-8")
    assert "Délai de réponse médian aux questions" in out.read_text(encoding="utf-8")
