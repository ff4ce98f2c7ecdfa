"""What the report's readers see: no developer instruction, complaints quoted from people's own
comments (no praise flagged as criticism, no replies), and a page that fits a 390 px phone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from ecoute import es
from jobs.reporting.report import build_report
from jobs.reporting.report.data import load_complaints
from tests.ecoute.views.synthetic import index_mentions, mention
from tests.inbox.conftest import ARTIFACTS, browser  # noqa: F401 (the Chromium fixture)

COMPLAINTS = [
    "Ma commande n'est toujours pas arrivée, le colis est bloqué depuis dix jours",
    "Colis marqué livré mais jamais reçu, toujours pas de commande",
    "Toujours pas reçu ma commande, le suivi du colis ne bouge plus",
    "Commande jamais arrivée, colis perdu par le transporteur",
    "Le colis de ma commande n'est jamais arrivé, c'est la troisième fois",
]
# Replies agreeing (the same words, so the group's centre is near them) and praise the labeller
# flagged as criticism: neither is a complaint to quote.
REPLIES = [
    "pareil, ma commande n'est toujours pas arrivée, colis bloqué",
    "moi aussi le colis n'est jamais arrivé, commande perdue",
    "pareil, colis marqué livré mais jamais reçu",
    "idem, toujours pas reçu ma commande, le colis ne bouge plus",
    "même chose, commande jamais arrivée, colis perdu",
    "pareil pour moi, le colis de ma commande n'est jamais arrivé",
]
PRAISE = ["Commande arrivée, colis reçu en deux jours, merci !", "Colis reçu, ma commande est bien arrivée, top"]


def _month(settings) -> None:
    docs = [
        mention(
            "facebook:p1",
            datetime(2026, 10, 3, 8, tzinfo=UTC),
            kind="post",
            author_id="brand",
            is_brand=True,
            text="Nos nouveautés",
            sentiment="neutral",
        )
    ]
    for i, text in enumerate(COMPLAINTS):
        docs.append(
            mention(
                f"facebook:c{i}",
                datetime(2026, 10, 5 + i, 9, tzinfo=UTC),
                parent_id="facebook:p1",
                thread_id="facebook:p1",
                author_id=f"a_{i:08x}",
                text=text,
                sentiment="negative",
                criticism=True,
                topics=["delivery"],
            )
        )
    for i, text in enumerate(REPLIES):
        docs.append(
            mention(
                f"facebook:r{i}",
                datetime(2026, 10, 12, 9 + i, tzinfo=UTC),
                kind="reply",
                parent_id="facebook:c0",
                thread_id="facebook:p1",
                author_id=f"a_{90 + i:08x}",
                text=text,
                sentiment="negative",
                criticism=True,
                topics=["delivery"],
            )
        )
    for i, text in enumerate(PRAISE):
        docs.append(
            mention(
                f"facebook:g{i}",
                datetime(2026, 10, 13, 9 + i, tzinfo=UTC),
                parent_id="facebook:p1",
                thread_id="facebook:p1",
                author_id=f"a_{200 + i:08x}",
                text=text,
                sentiment="positive",
                criticism=True,
                topics=["delivery"],
            )
        )
    index_mentions(settings, docs)


def test_complaint_examples_are_peoples_own_complaints(settings) -> None:
    _month(settings)
    groups = load_complaints(es.make_client(settings), settings, date(2026, 10, 1), date(2026, 10, 31), None)
    quoted = [text for group in groups for text in group["examples"]]
    assert quoted and set(quoted) <= set(COMPLAINTS), quoted  # no reply, no praise


def test_the_report_reads_on_a_phone_and_gives_no_command(settings, tmp_path: Path, browser) -> None:  # noqa: F811
    _month(settings)
    out = build_report(settings, date(2026, 10, 1), date(2026, 10, 31), tmp_path / "report.html", lang="fr")
    html = out.read_text(encoding="utf-8")
    assert "ecoute inbox serve" not in html and "ecoute queue" not in html
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(out.resolve().as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # was 706: no sideways scrolling
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-phone.png"), full_page=True)
    page.close()
