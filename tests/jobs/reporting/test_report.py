"""The HTML report: figures, escaping, offline, and a real browser rendering its charts."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoute.cli import app
from jobs.reporting.report import build_report, kpis, load_data
from tests.ecoute.views.conftest import EVIL

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


def test_figures_follow_the_queues_definitions(seeded) -> None:
    figures = kpis(load_data(seeded.settings, *OCTOBER, None))
    assert figures["items"] == 11  # community items: posts and the brand's reply are not counted
    assert figures["criticism"] == 6 and figures["constructive"] == 2
    assert figures["unanswered"] == 4  # the answer queue's size: not answered, not handled
    assert figures["moderate"] == 2 and figures["toxic"] == 3
    assert figures["response_rate"] == pytest.approx(100 / 6, abs=0.1)
    assert figures["median_response_hours"] == pytest.approx(80 / 60, abs=0.01)
    assert figures["alerts"] == 1
    only_instagram = kpis(load_data(seeded.settings, *OCTOBER, "instagram:maisonaurore"))
    assert only_instagram["items"] == 1 and only_instagram["alerts"] == 1  # the overall episode concerns it too
    assert kpis(load_data(seeded.settings, date(2026, 10, 1), date(2026, 10, 16), None))["alerts"] == 0


def test_report_is_self_contained_and_escapes_user_text(seeded, tmp_path: Path) -> None:
    out = build_report(seeded.settings, *OCTOBER, tmp_path / "r" / "report.html", lang="en")
    page = out.read_text(encoding="utf-8")
    assert "Mood index over time" in page and "Most criticised posts" in page
    assert page.count("<img class='chart'") == 5
    assert len(re.findall(r"src='data:image/svg\+xml;base64,[A-Za-z0-9+/=]{2000,}'", page)) == 5
    # Nothing is loaded from outside: no external src/stylesheet, and the CSP forbids it anyway.
    assert not re.search(r"""(src|href)=["']?(https?:)?//(?!example\.test)""", page.replace("<a href=", ""))
    assert "default-src 'none'" in page
    assert f"href='{seeded.settings.inbox.url}/queues/answer'" in page  # the queues open in the inbox
    # User text (and alert summaries) is escaped, never interpreted.
    assert "<script>alert(" not in page and "&lt;script&gt;alert(" in page
    assert "<i>42</i>" not in page and "&lt;i&gt;42&lt;/i&gt;" in page
    assert EVIL not in page
    french = build_report(seeded.settings, *OCTOBER, tmp_path / "fr.html", lang="fr").read_text(encoding="utf-8")
    assert any(f"Indice d{quote}humeur dans le temps" in french for quote in ("&#x27;", "&#39;", "'"))


def test_empty_period_still_builds(seeded, tmp_path: Path) -> None:
    page = build_report(seeded.settings, date(2026, 9, 1), date(2026, 9, 30), tmp_path / "empty.html").read_text()
    assert "Aucune donnée sur la période." in page and page.count("<img class='chart'") == 5
    with pytest.raises(ValueError):
        build_report(seeded.settings, date(2026, 9, 30), date(2026, 9, 1), tmp_path / "x.html")


def test_cli_report(seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ecoute.cli_support.views_settings", lambda: seeded.settings)
    out = tmp_path / "cli.html"
    result = CliRunner().invoke(
        app, ["report", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "Écoute report" in out.read_text()
    bad = CliRunner().invoke(app, ["report", "--from", "2026-10-31", "--to", "2026-10-01"])
    assert bad.exit_code == 2


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not binary:
        pytest.skip("no Chromium: apt-get install -y chromium")
    return binary


def test_a_real_browser_renders_every_chart(seeded, tmp_path: Path) -> None:
    browser = chromium()
    out = build_report(seeded.settings, *OCTOBER, tmp_path / "report.html", lang="fr")
    url = out.resolve().as_uri()
    # 1. The DOM after load: the page's own check counted every chart image as decoded.
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 'data-charts-rendered="5/5"' in dom.stdout, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert any("ecoute-report: charts rendered 5/5" in line for line in console), dom.stderr[-2000:]
    assert [line for line in console if "ecoute-report:" not in line] == []  # no console errors
    # 2. A screenshot, kept for people to look at, with real pixels in it.
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [browser, *CHROMIUM_FLAGS, "--hide-scrollbars", "--window-size=1200,3400", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from PIL import Image

    image = Image.open(shot).convert("L")
    assert image.size == (1200, 3400)
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # charts and text, not a blank page


def test_only_http_links_become_anchors() -> None:
    import pandas as pd

    from jobs.reporting.report import WORDS, ReportData
    from jobs.reporting.report.page import _posts_table

    frame = pd.DataFrame({"thread_id": ["x:1", "x:2"], "criticism": [True, True]})
    posts = {
        "x:1": {"text": "a", "url": "javascript:alert(1)", "channel": "c"},
        "x:2": {"text": "b", "url": "https://ok.test/2", "channel": "c"},
    }
    table = _posts_table(ReportData(frame, [], posts, {}), frame["criticism"], "n", WORDS["en"])
    assert "javascript:" not in table and "href='https://ok.test/2'" in table
