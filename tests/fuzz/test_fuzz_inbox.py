"""Fuzz: the inbox's query parameters, form fields and path ids (issue 28), against a real app on
noida-db with a recorded-shape platform server. Every request is answered (accepted, or refused
with a 4xx and a message); a 5xx is a lost request. Bounded: a few dozen requests per entry point."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.app import create_app
from tests.fuzz.conftest import account
from tests.inbox.conftest import FB_CRITIC, FB_THREAT, inbox_settings, platforms, users  # noqa: F401 - fixtures
from tests.inbox.test_security import login

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
HOSTILE = [
    "",
    " ",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2026-10-17",
    "-1",
    "0",
    "abc",
    "1e9",
    "9" * 5000,
    "{0}",
    "{author,",
    "{page:>50000000}",
    "%",
    "%00",
    "../../etc",
    "<script>alert(1)</script>",
    "\x00",
    "é😂\u202e",
    "a" * 5000,
    "javascript:alert(1)",
    "//evil.example",
    "true",
    "null",
    "fr:Merci",
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))
GET_PATHS = [
    "/queues/moderate",
    "/queues/answer",
    "/queues/questions",
    "/queues/welcome",
    "/api/queues/answer",
    "/api/queues/questions",
    "/api/queues/welcome",
    "/replies",
    "/rules",
    "/healthz",
    "/api/audit",
    "/api/stats/response-times",
    "/stats",
    f"/mentions/{FB_CRITIC}/reply-text",
    "/login",
    "/alerts/feedback",
]
GET_PARAMS = [
    "start",
    "end",
    "day",
    "limit",
    "channel",
    "source",
    "lang",
    "topic",
    "saved",
    "next",
    "t",
    "page",
    "q",
    "author",
    "assigned",
    "comment_lang",
    "edit",
    "k",
]


@pytest.fixture
def client(inbox_settings, users, platforms):  # noqa: F811 - the fixtures imported above
    app = create_app(inbox_settings, platforms.connector_settings())
    client = TestClient(app, raise_server_exceptions=False)
    token = login(client, "claire")  # an admin: every form is reachable
    client.post("/replies", data={"csrf_token": token, "title": "Merci", "lang": "fr", "text": "Merci {author} !"})
    client.headers["x-csrf-token"] = token
    return client


def _tally(entry_point: str, status: int) -> None:
    account(
        entry_point, tried=1, enriched=int(status < 400), rejected=int(400 <= status < 500), lost=int(status >= 500)
    )


@FUZZ
@given(path=st.sampled_from(GET_PATHS), params=st.dictionaries(st.sampled_from(GET_PARAMS), values, max_size=4))
def test_get_parameters_are_answered_or_refused_never_500(client, path, params) -> None:
    response = client.get(path, params=params, follow_redirects=False)
    _tally("inbox GET parameters", response.status_code)
    assert response.status_code < 500, (path, params, response.text[:300])


FORMS = {
    f"/mentions/{FB_CRITIC}/labels": ["field", "value", "done"],
    f"/mentions/{FB_CRITIC}/assign": ["assignee"],
    f"/mentions/{FB_CRITIC}/notes": ["text"],
    f"/mentions/{FB_CRITIC}/done": ["undo"],
    f"/mentions/{FB_THREAT}/act/reply": ["text", "reason"],
    "/replies": ["title", "text", "lang", "id"],
    "/mentions/bulk": ["ids", "action", "assignee"],
    f"/mentions/{FB_CRITIC}/forward": ["to", "question"],
    "/forwards/nope": ["k", "answer"],
    "/replies/fr:Merci/delete": [],
    "/rules": [
        "name",
        "min_toxic_score",
        "keywords",
        "lang",
        "channel",
        "actions",
        "assign_to",
        "tag",
        "notify",
        "has_link",
        "first_time",
        "toxic_categories",
    ],
    "/actions/nope/retry": [],
    "/login": ["username", "password", "next"],
}


@FUZZ
@given(path=st.sampled_from(sorted(FORMS)), data=st.data())
def test_form_fields_are_answered_or_refused_never_500(client, path, data) -> None:
    fields = data.draw(st.dictionaries(st.sampled_from(FORMS[path] or ["x"]), values, max_size=5))
    if path == "/rules" and data.draw(st.booleans()):
        fields["actions"] = data.draw(
            st.lists(st.sampled_from(["hide", "assign", "tag", "notify", "nope"]), max_size=3)
        )
    response = client.post(path, data={"csrf_token": client.headers["x-csrf-token"], **fields}, follow_redirects=False)
    _tally("inbox form fields", response.status_code)
    assert response.status_code < 500, (path, fields, response.text[:300])


@FUZZ
@given(
    mention_id=st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=40)),
    route=st.sampled_from(["/threads/{}", "/api/threads/{}", "/mentions/{}/reply-text?saved=fr:Merci"]),
)
def test_any_id_in_a_path_is_answered_or_refused_never_500(client, mention_id, route) -> None:
    response = client.get(route.format(quote(mention_id, safe="")), follow_redirects=False)
    _tally("inbox path ids", response.status_code)
    assert response.status_code < 500, (mention_id, response.text[:300])


@FUZZ
@given(hours=values)
def test_rule_apply_hours_are_answered_or_refused_never_500(client, inbox_settings, hours) -> None:  # noqa: F811
    from inbox.store import Store

    rules = Store(inbox_settings).rules()
    if not rules:
        client.post(
            "/rules",
            data={
                "csrf_token": client.headers["x-csrf-token"],
                "name": "tags",
                "keywords": "zzz-none",
                "actions": ["tag"],
                "tag": "x",
            },
        )
        rules = Store(inbox_settings).rules()
    response = client.post(
        f"/rules/{rules[0]['id']}/apply",
        data={"csrf_token": client.headers["x-csrf-token"], "hours": hours},
        follow_redirects=False,
    )
    _tally("inbox form fields", response.status_code)
    assert response.status_code < 500, (hours, response.text[:300])
