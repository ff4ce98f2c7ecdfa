"""`ecoute inbox user add` and `ecoute inbox serve` as a user runs them; the demo month's queues; the
UI strings complete in both languages (the alert-feedback route: test_alert_feedback.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from ecoute.stack import port_open
from inbox.app import create_app
from inbox.auth import verify_password
from inbox.store import Store
from tests.conftest import free_port
from tests.ecoute.views.demo_enriched import DEMO, demo_enriched
from tests.ecoute.views.synthetic import index_mentions
from tests.inbox.conftest import PASSWORD, add_user, inbox_settings_for, shot

ECOUTE = str(Path(sys.executable).parent / "ecoute")
INBOX = Path(__file__).resolve().parents[2] / "inbox"


def cli_env(settings) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "COLUMNS": "200",
        "ECOUTE_STATE_DIR": str(settings.state_dir),
        "ECOUTE_ES__URL": settings.es.url,
    }
    env.update({f"ECOUTE_INDICES__{k.upper()}": v for k, v in settings.indices.model_dump().items()})
    return env


def test_user_add_reads_the_password_on_stdin_and_stores_only_a_hash(settings) -> None:
    seeded = inbox_settings_for(settings)
    run = subprocess.run(
        [ECOUTE, "inbox", "user", "add", "claire", "--role", "moderator"],
        input=f"{PASSWORD}\n",
        capture_output=True,
        text=True,
        env=cli_env(seeded),
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "created claire (moderator)" in run.stderr
    user = Store(seeded).user("claire")
    assert user["role"] == "moderator" and verify_password(user["password_hash"], PASSWORD)
    assert PASSWORD not in str(user)
    weak = subprocess.run(
        [ECOUTE, "inbox", "user", "add", "bob", "--role", "viewer"],
        input="short\n",
        capture_output=True,
        text=True,
        env=cli_env(seeded),
        timeout=120,
    )
    assert weak.returncode == 2 and "at least 10" in weak.stderr
    bad_role = subprocess.run(
        [ECOUTE, "inbox", "user", "add", "bob", "--role", "root"],
        input=f"{PASSWORD}\n",
        capture_output=True,
        text=True,
        env=cli_env(seeded),
        timeout=120,
    )
    assert bad_role.returncode == 2 and "viewer, moderator, admin" in bad_role.stderr


@pytest.fixture
def demo_settings(settings):
    seeded = inbox_settings_for(settings)
    index_mentions(seeded, demo_enriched())  # the demo month, labelled from its ground truth
    add_user(seeded, "cm", "moderator")
    return seeded


def test_serve_shows_the_demo_months_queues(demo_settings, tmp_path, request) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [ECOUTE, "inbox", "serve", "--port", str(port)],
            env=cli_env(demo_settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/queues/answer").status_code == 401
        with httpx.Client(base_url=base, timeout=60) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            assert (
                client.post("/login", data={"username": "cm", "password": PASSWORD, "csrf_token": token}).status_code
                == 303
            )
            truth = __import__("json").loads((DEMO / "ground_truth.json").read_text())
            moderate = client.get("/api/queues/moderate", params={"limit": 500}).json()["items"]
            assert "facebook:" + truth["threats"][0]["native_id"] in [r["id"] for r in moderate]
            first = client.get("/api/queues/answer").json()
            answer = first["items"]
            assert answer and answer[0]["constructive"] and answer[0]["reason"]
            second = client.get("/api/queues/answer", params={"page": 2}).json()
            assert len(answer) == len(second["items"]) == 50 and second["total"] == first["total"] > 100
            assert not {r["id"] for r in answer} & {r["id"] for r in second["items"]}
            questions = client.get("/api/queues/questions").json()
            assert questions["total"] > 100 and set(questions["sections"]) == {"open", "community"}
            word = search_pages_of_questions(client, questions["total"])
            crisis = client.get("/api/queues/answer", params={"start": "2026-10-17", "end": "2026-10-17"}).json()[
                "items"
            ]
            assert crisis and all(r["created_at"].startswith("2026-10-17") for r in crisis)
            welcome = client.get("/api/queues/welcome", params={"day": "2026-10-17"}).json()
            assert welcome["count"] > 0
            for name in ("moderate", "answer", "questions", "welcome"):
                page = client.get(f"/queues/{name}")
                assert page.status_code == 200 and page.text.count('<article class="item') > 0, name
            thread = client.get(f"/threads/{answer[0]['id']}")
            assert thread.status_code == 200 and '<svg class="mood"' in thread.text
            stats = client.get("/api/stats/response-times", params={"start": "2026-10-01", "end": "2026-10-31"}).json()
            classes = stats["classes"]  # against the demo's ground truth, written by its generator
            assert stats["headline"]["items"] == truth["constructive"]
            assert classes["constructive"]["items"] + classes["criticism"]["items"] == truth["critical_total"]
            assert (
                classes["constructive"]["answered"] + classes["criticism"]["answered"]
                == truth["critical_answered_by_brand"]
            )
        screenshots_of_the_demo(request, base, answer[0]["id"], word)
    finally:
        server.terminate()
        server.wait(10)


def search_pages_of_questions(client: httpx.Client, total: int) -> str:
    """A word many questions hold: its search is paged like the queue (total, sections, page 2),
    every item holds it. Returns the word."""
    every = client.get("/api/queues/questions", params={"limit": 500}).json()["items"]
    counts = Counter(w for r in every for w in set(re.findall(r"\w{4,}", r["text"].lower())))
    word = next(w for w, n in counts.most_common() if 60 < n < total)
    found = client.get("/api/queues/questions", params={"q": word}).json()
    assert 50 < found["total"] < total and found["pages"] >= 2 and sum(found["sections"].values()) == found["total"]
    second = client.get("/api/queues/questions", params={"q": word, "page": 2}).json()
    assert second["items"] and not {r["id"] for r in found["items"]} & {r["id"] for r in second["items"]}
    assert all(word in r["text"].lower() for r in found["items"] + second["items"])
    return word


def screenshots_of_the_demo(request, base: str, first_answer: str, word: str = "") -> None:
    """What the CM sees after `make demo` (skipped without Chromium; the API checks above still ran)."""
    try:
        browser = request.getfixturevalue("browser")
    except pytest.skip.Exception:
        return
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "cm")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/queues/answer")
    page.goto(f"{base}/queues/answer?start=2026-10-17&end=2026-10-17")
    assert page.locator("article.item").count() > 0
    shot(page, "demo-answer-crisis-day")
    page.goto(f"{base}/queues/moderate")
    shot(page, "demo-moderate")
    page.goto(f"{base}/threads/{first_answer}")
    shot(page, "demo-thread")
    page.goto(f"{base}/stats?start=2026-10-01&end=2026-10-31")
    shot(page, "demo-stats")
    for width in (1280, 390):  # the questions queue, searched and paged, at a desk and on a phone
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/queues/questions")
        assert page.locator("h2.section").count() >= 1
        shot(page, f"demo-questions-{width}")
        page.fill("input[name=q]", word)
        page.press("input[name=q]", "Enter")
        page.wait_for_url(f"**q={word}**")
        page.click("a[data-page=next]")
        page.wait_for_url("**page=2**")
        assert page.locator("article.item").count() > 0
        assert page.locator("[data-page-of]").get_attribute("data-page-of").startswith("2/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"demo-questions-search-page-2-{width}")
    page.close()


def test_every_ui_string_exists_in_french_and_english() -> None:
    french = yaml.safe_load((INBOX / "strings" / "fr.yaml").read_text(encoding="utf-8"))
    english = yaml.safe_load((INBOX / "strings" / "en.yaml").read_text(encoding="utf-8"))
    assert set(french) == set(english)
    used = set()
    for template in (INBOX / "templates").glob("*.html"):
        used |= set(re.findall(r"t\('([a-z_0-9]+)'[,)]", template.read_text(encoding="utf-8")))
    code = (INBOX / "app.py").read_text(encoding="utf-8")
    used |= set(re.findall(r'\bt\("([a-z_]+)"', code)) | set(re.findall(r'tr\("([a-z_]+)"\)', code))
    assert used and used <= set(french), sorted(used - set(french))
    for prefix, values in {
        "act_": ("reply", "hide", "unhide", "delete", "delete_reply", "correct", "done"),
        "status_": ("done", "failed", "pending", "undone"),
        "queue_": ("moderate", "answer", "welcome"),
        "cat_": ("insult", "threat", "hate", "harassment", "sexual"),
    }.items():
        assert {prefix + v for v in values} <= set(french)


def test_response_times_period_defaults_to_the_month_of_the_newest_data(inbox_settings, users) -> None:
    client = TestClient(create_app(inbox_settings))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "mo", "password": PASSWORD, "csrf_token": token})
    figures = client.get("/api/stats/response-times").json()
    assert (figures["start"], figures["end"]) == (date(2026, 10, 1).isoformat(), "2026-10-17")
