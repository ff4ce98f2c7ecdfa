"""The feedback index's labels beyond corrections, on noida-db: an action's label replaces the previous
action's on the same mention, alert verdicts read as labels, and erasure finds labels stored without
the author's id through the author's mentions."""

from __future__ import annotations

from ecoute import es
from ecoute.feedback import Correction, action_correction, alert_labels, count_labels, record_corrections
from ecoute.privacy import erase_author
from tests.ecoute.views.synthetic import index_mentions

MENTION = {
    "id": "facebook:1_9",
    "text": "Bande de nuls, vous êtes des escrocs",
    "lang": "fr",
    "toxic": True,
    "labeller_version": "2026.12-3",
    "model_version": "base-x",
    "author": {"id": "a_zoe", "is_brand": False},
}


def test_action_labels_are_one_per_mention_and_carry_their_provenance(settings) -> None:
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    record_corrections(settings, [action_correction("hide", MENTION)], who="mo", source="inbox-action", client=client)
    record_corrections(
        settings, [action_correction("unhide", MENTION)], who="claire", source="inbox-action", client=client
    )
    client.indices.refresh(index=settings.indices.feedback)
    (doc,) = list(es.scan_docs(client, settings.indices.feedback))
    assert doc["labels"] == {"toxic": False} and doc["action"] == "unhide" and doc["who"] == "claire"
    assert doc["model_version"] == "base-x" and doc["author_id"] == "a_zoe" and doc["previous"]["toxic"] is True
    assert count_labels(settings, client=client) == 1


def test_alert_verdicts_read_as_labels(settings) -> None:
    from jobs.alerts.verdicts import record_verdict, sign_token

    alert = {"id": "alert-7", "scope": "overall"}
    record_verdict(settings, sign_token(settings, alert, "not_useful", recipient="lea@example.org"))
    record_verdict(settings, sign_token(settings, alert, "useful", recipient="marc@example.org"))
    labels = sorted(alert_labels(settings), key=lambda label: label["who"])
    assert [(label["alert_id"], label["who"], label["labels"], label["action"]) for label in labels] == [
        ("alert-7", "lea@example.org", {"spike": False}, "alert_not_useful"),
        ("alert-7", "marc@example.org", {"spike": True}, "alert_useful"),
    ]
    label = labels[0]
    assert label["corrected_at"]


def test_erasure_removes_imported_labels_of_the_authors_mentions(settings) -> None:
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    index_mentions(settings, [{**MENTION, "created_at": "2026-12-01T10:00:00Z"}])
    imported = Correction("facebook:1_9", MENTION["text"], {"sentiment": "negative"}, lang="fr")  # no author id
    other = Correction("facebook:2_9", "Merci !", {"sentiment": "positive"}, lang="fr")
    assert record_corrections(settings, [imported, other], who="claire", source="import", client=client).ok == 2
    assert erase_author(settings, "a_zoe").labels_deleted == 1
    client.indices.refresh(index=settings.indices.feedback)
    assert [d["mention_id"] for d in es.scan_docs(client, settings.indices.feedback)] == ["facebook:2_9"]
