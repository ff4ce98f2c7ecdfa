"""Actions back on the platforms against recorded-shape fixture servers; every one audited."""

from __future__ import annotations

import pytest

from ecoute.views.common import fetch_by_ids
from inbox import actions
from inbox.actions import ActionRefused, Services
from inbox.platforms import PlatformError, Unsupported, call_with_retries, platform_for
from inbox.store import Store
from tests.inbox.conftest import FB_CRITIC, FB_THREAT, IG_COMMENT, RD_COMMENT, YT_COMMENT

MO = {"username": "mo", "role": "moderator"}
FB_NATIVE = FB_THREAT.split(":", 1)[1]


@pytest.fixture
def services(inbox_settings, platforms) -> Services:
    store = Store(inbox_settings)
    store.ensure()
    return Services(inbox_settings, store, platforms.connector_settings())


def handled(services: Services, mention_id: str) -> bool:
    doc = fetch_by_ids(services.store.client, services.settings.indices.mentions, [mention_id], ["handled"])[mention_id]
    return bool(doc.get("handled"))


def test_facebook_hide_then_undo_unhides_and_everything_is_audited(services, platforms) -> None:
    platforms.add("POST", f"/v21.0/{FB_NATIVE}", "facebook/success.json")
    record = actions.act(services, MO, FB_THREAT, "hide", reason="menace")
    assert record["status"] == "done" and record["platform_status"] == 200
    call = platforms.calls_to("POST", f"/v21.0/{FB_NATIVE}")[0]
    assert call.form == {"is_hidden": "true", "access_token": "EAAGpage"}
    assert handled(services, FB_THREAT)  # out of the moderation queue

    undo = actions.undo(services, MO, record["id"], reason="erreur")
    assert undo["status"] == "done" and undo["action"] == "unhide" and undo["undo_of"] == record["id"]
    assert platforms.calls_to("POST", f"/v21.0/{FB_NATIVE}")[1].form["is_hidden"] == "false"
    assert not handled(services, FB_THREAT)
    stored = {r["id"]: r for r in services.store.audit_records({"term": {"mention_id": FB_THREAT}})}
    assert stored[record["id"]]["status"] == "undone" and stored[record["id"]]["undone_by"] == undo["id"]
    assert stored[record["id"]]["who"] == "mo" and stored[record["id"]]["reason"] == "menace"
    assert stored[record["id"]]["platform_response"] == {"success": True}
    with pytest.raises(ActionRefused):  # an undone action cannot be undone twice
        actions.undo(services, MO, record["id"])


def test_facebook_reply_and_its_undo_deletes_the_reply(services, platforms) -> None:
    native = FB_CRITIC.split(":", 1)[1]
    platforms.add("POST", f"/v21.0/{native}/comments", "facebook/reply.json")
    platforms.add("DELETE", "/v21.0/811111111111111_900000000000099", "facebook/success.json")
    record = actions.act(services, MO, FB_CRITIC, "reply", text="Merci Anna, bonne idée : on transmet.")
    assert record["status"] == "done" and record["platform_id"] == "811111111111111_900000000000099"
    assert platforms.calls_to("POST", f"/v21.0/{native}/comments")[0].form["message"].startswith("Merci Anna")
    undo = actions.undo(services, MO, record["id"])
    assert undo["action"] == "delete_reply" and undo["status"] == "done"
    assert platforms.calls_to("DELETE", "/v21.0/811111111111111_900000000000099")[0].args == {
        "access_token": "EAAGpage"
    }


def test_transient_graph_error_is_retried_then_succeeds(services, platforms) -> None:
    platforms.add("DELETE", f"/v21.0/{FB_NATIVE}", "facebook/error_transient.json")
    platforms.add("DELETE", f"/v21.0/{FB_NATIVE}", "facebook/success.json")
    record = actions.act(services, MO, FB_THREAT, "delete")
    assert record["status"] == "done" and record["attempts"] == 2
    assert len(platforms.calls_to("DELETE", f"/v21.0/{FB_NATIVE}")) == 2


def test_a_refused_call_is_recorded_failed_shown_and_retried_later(services, platforms) -> None:
    platforms.add("POST", f"/v21.0/{FB_NATIVE}", "facebook/error_permission.json")
    platforms.add("POST", f"/v21.0/{FB_NATIVE}", "facebook/success.json")
    record = actions.act(services, MO, FB_THREAT, "hide")
    assert record["status"] == "failed" and record["platform_status"] == 403 and "(#200)" in record["error"]
    assert len(platforms.calls_to("POST", f"/v21.0/{FB_NATIVE}")) == 1  # a permission error is not retried blindly
    assert not handled(services, FB_THREAT)  # still in the queue: nothing lost
    failed = services.store.audit_records({"term": {"status": "failed"}})
    assert [r["id"] for r in failed] == [record["id"]]
    again = actions.retry(services, record["id"])
    assert again["status"] == "done" and again["id"] == record["id"]
    assert handled(services, FB_THREAT)


def test_unreachable_platform_is_failed_not_lost(services, platforms) -> None:
    services.connectors.facebook.base_url = "http://127.0.0.1:9/v21.0"  # nothing listens on port 9
    record = actions.act(services, MO, FB_THREAT, "hide")
    assert record["status"] == "failed" and "ConnectError" in record["error"]
    assert services.store.get(services.settings.indices.inbox_audit, record["id"])["status"] == "failed"


def test_instagram_reply_hide_unhide_delete(services, platforms) -> None:
    native = IG_COMMENT.split(":", 1)[1]
    platforms.add("POST", f"/v21.0/{native}/replies", "instagram/reply.json")
    platforms.add("POST", f"/v21.0/{native}", "instagram/success.json")
    platforms.add("DELETE", f"/v21.0/{native}", "instagram/success.json")
    assert (
        actions.act(services, MO, IG_COMMENT, "reply", text="Thanks, tracking is coming")["platform_id"]
        == "17858893269000099"
    )
    assert platforms.calls_to("POST", f"/v21.0/{native}/replies")[0].form == {
        "message": "Thanks, tracking is coming",
        "access_token": "IGQVtoken",
    }
    hide = actions.act(services, MO, IG_COMMENT, "hide")
    actions.undo(services, MO, hide["id"])
    assert [c.form["hide"] for c in platforms.calls_to("POST", f"/v21.0/{native}")] == ["true", "false"]
    assert actions.act(services, MO, IG_COMMENT, "delete")["status"] == "done"


def test_youtube_reply_and_moderation_status_with_oauth(services, platforms) -> None:
    native = YT_COMMENT.split(":", 1)[1]
    platforms.add("POST", "/youtube/v3/comments", "youtube/comment_insert.json")
    platforms.add("POST", "/youtube/v3/comments/setModerationStatus", None, status=204)
    reply = actions.act(services, MO, YT_COMMENT, "reply", text="Merci pour votre retour")
    assert reply["status"] == "done" and reply["platform_id"] == "UgzReply0000000000099.9zzReply"
    call = platforms.calls_to("POST", "/youtube/v3/comments")[0]
    assert call.args == {"part": "snippet"} and call.json == {
        "snippet": {"parentId": native, "textOriginal": "Merci pour votre retour"}
    }
    assert call.headers["Authorization"] == "Bearer ya29.test-oauth"
    hide = actions.act(services, MO, YT_COMMENT, "hide")
    actions.undo(services, MO, hide["id"])
    actions.act(services, MO, YT_COMMENT, "delete")
    statuses = [c.args for c in platforms.calls_to("POST", "/youtube/v3/comments/setModerationStatus")]
    assert statuses == [{"id": native, "moderationStatus": s} for s in ("heldForReview", "published", "rejected")]


def test_youtube_forbidden_is_failed_and_without_token_unsupported(services, platforms) -> None:
    platforms.add("POST", "/youtube/v3/comments/setModerationStatus", "youtube/error_forbidden.json")
    record = actions.act(services, MO, YT_COMMENT, "hide")
    assert record["status"] == "failed" and "could not be moderated" in record["error"]
    inbox = services.settings.inbox.model_copy(update={"youtube_oauth_token": None})
    with platform_for("youtube", services.connectors, inbox) as youtube, pytest.raises(Unsupported, match="OAuth"):
        youtube.perform("hide", "x")


def test_reddit_token_reply_removal_and_approve(services, platforms) -> None:
    platforms.add("POST", "/reddit/api/v1/access_token", "reddit/token.json")
    platforms.add("POST", "/reddit/api/comment", "reddit/ratelimit.json")  # first try: Reddit's 200 + RATELIMIT
    platforms.add("POST", "/reddit/api/comment", "reddit/comment.json")
    platforms.add("POST", "/reddit/api/remove", "reddit/empty.json")
    platforms.add("POST", "/reddit/api/approve", "reddit/empty.json")
    reply = actions.act(services, MO, RD_COMMENT, "reply", text="On regarde ça")
    assert reply["status"] == "done" and reply["platform_id"] == "t1_lz9reply" and reply["attempts"] == 2
    token_call = platforms.calls_to("POST", "/reddit/api/v1/access_token")[0]
    assert token_call.form == {"grant_type": "refresh_token", "refresh_token": "-refreshtest"}
    assert token_call.headers["Authorization"].startswith("Basic ")
    comment = platforms.calls_to("POST", "/reddit/api/comment")[-1]
    assert comment.form == {"thing_id": "t1_lz9abc", "text": "On regarde ça", "api_type": "json"}
    assert comment.headers["Authorization"].startswith("bearer eyJ")
    hide = actions.act(services, MO, RD_COMMENT, "hide")
    assert platforms.calls_to("POST", "/reddit/api/remove")[0].form == {"id": "t1_lz9abc", "spam": "false"}
    assert actions.undo(services, MO, hide["id"])["action"] == "unhide"
    assert platforms.calls_to("POST", "/reddit/api/approve")[0].form == {"id": "t1_lz9abc"}
    delete = actions.act(services, MO, RD_COMMENT, "delete")  # moderators remove; they cannot delete
    assert delete["status"] == "failed" and "not possible" in delete["error"]


def test_sources_without_a_write_api_are_refused_clearly(services) -> None:
    with pytest.raises(Unsupported, match="read-only"):
        platform_for("rss", services.connectors, services.settings.inbox)
    with platform_for("facebook", services.connectors, services.settings.inbox) as facebook:
        with pytest.raises(ValueError, match="needs a text"):
            facebook.perform("reply", FB_NATIVE, "  ")
        services.connectors.facebook.page_token = None
        with pytest.raises(Unsupported, match="PAGE_TOKEN"):
            call_with_retries(facebook, "hide", FB_NATIVE)
    with pytest.raises(ActionRefused, match="unknown mention"):
        actions.act(services, MO, "facebook:nope", "hide")


def test_platform_error_keeps_the_platform_answer() -> None:
    error = PlatformError("x", status=500, body={"error": {"code": 2}}, retryable=True)
    assert error.retryable and error.body == {"error": {"code": 2}}
