"""The feedback index (ecoute/feedback.py) and `ecoute feedback import`, on a real noida-db."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecoute import es
from ecoute.feedback import (
    Correction,
    InvalidCorrection,
    correction_id,
    iter_corrections,
    record_corrections,
    to_document,
)

ECOUTE = [str(Path(sys.executable).with_name("ecoute"))]


@pytest.fixture
def feedback_settings(settings):
    es.apply_templates(es.make_client(settings), settings)
    return settings


def test_record_then_iterate_keeps_who_source_and_previous_labels(feedback_settings) -> None:
    corrections = [
        Correction(
            "facebook:1",
            "Colis jamais reçu",
            {"sentiment": "negative", "criticism": True},
            lang="fr",
            previous={"sentiment": "neutral", "criticism": False, "labeller_version": "2026.11-1", "x": 1},
        ),
        Correction("facebook:2", "Merci pour la réponse rapide", {"sentiment": "positive"}),
    ]
    result = record_corrections(feedback_settings, corrections, who="claire", source="inbox")
    assert result.ok == 2 and not result.failed
    docs = {d["mention_id"]: d for d in iter_corrections(feedback_settings)}
    assert set(docs) == {"facebook:1", "facebook:2"}
    first = docs["facebook:1"]
    assert first["labels"] == {"sentiment": "negative", "criticism": True}
    assert first["who"] == "claire" and first["source"] == "inbox" and first["lang"] == "fr"
    assert first["previous"] == {"sentiment": "neutral", "criticism": False, "labeller_version": "2026.11-1"}
    assert datetime.fromisoformat(first["corrected_at"].replace("Z", "+00:00")) <= datetime.now(UTC)
    assert "lang" not in docs["facebook:2"]


def test_same_correction_twice_is_stored_once_another_person_twice(feedback_settings) -> None:
    fix = Correction("instagram:9", "Trop cher pour ce que c'est", {"criticism": True})
    record_corrections(feedback_settings, [fix], who="claire", source="import")
    record_corrections(feedback_settings, [fix], who="claire", source="import")
    record_corrections(feedback_settings, [fix], who="marc", source="inbox")
    docs = list(iter_corrections(feedback_settings))
    assert sorted(d["who"] for d in docs) == ["claire", "marc"]
    assert correction_id(fix, "claire") != correction_id(fix, "marc")


def test_no_index_yet_means_no_corrections(settings) -> None:
    assert list(iter_corrections(settings)) == []
    assert record_corrections(settings, [], who="x", source="import").ok == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mention_id": "", "text": "t", "labels": {"toxic": True}}, "id must be"),
        ({"mention_id": "m", "text": "  ", "labels": {"toxic": True}}, "text must be"),
        ({"mention_id": "m", "text": "t", "labels": {}}, "no label given"),
        ({"mention_id": "m", "text": "t", "labels": {"mood": "sad"}}, "unknown label"),
        ({"mention_id": "m", "text": "t", "labels": {"sentiment": "angry"}}, "sentiment must be one of"),
        ({"mention_id": "m", "text": "t", "labels": {"criticism": "yes"}}, "criticism must be true or false"),
        ({"mention_id": "m", "text": "t", "labels": {"topics": "delivery"}}, "topics must be a list"),
        ({"mention_id": "m", "text": "t", "labels": {"toxic": True}, "lang": "french"}, "lang must be"),
    ],
)
def test_invalid_corrections_say_what_is_wrong(kwargs, message) -> None:
    with pytest.raises(InvalidCorrection, match=message):
        Correction(**kwargs)


def test_document_has_the_index_mapping_fields_only() -> None:
    template = json.loads(
        (
            Path(__file__).resolve().parents[2] / "schemas" / "elasticsearch" / "ecoute-feedback.template.json"
        ).read_text()
    )
    mapped = set(template["template"]["mappings"]["properties"])
    doc = to_document(Correction("m", "t", {"toxic": False}, lang="en", previous={"toxic": True}), who="a", source="b")
    assert set(doc) <= mapped


def _env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "ECOUTE_ES__URL": settings.es.url,
        "ECOUTE_INDICES__FEEDBACK": settings.indices.feedback,
        "ECOUTE_STATE_DIR": str(settings.state_dir),
    }


def test_feedback_import_reports_bad_lines_and_stores_the_rest(feedback_settings, tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "fb:1", "text": "Livraison en retard", "lang": "fr", "sentiment": "negative"}),
        "{not json",
        json.dumps({"id": "fb:2", "text": "Love it", "sentiment": "positive", "criticism": False}),
        json.dumps({"text": "no id", "sentiment": "neutral"}),
        json.dumps({"id": "fb:3", "text": "x", "sentiment": "furious"}),
        "",
        json.dumps({"id": "fb:4", "text": "only an id and a text"}),
        json.dumps({"id": 5, "text": "numeric ids are fine", "toxic": False, "topics": ["delivery"]}),
        json.dumps(["an", "array"]),
    ]
    path = tmp_path / "corrections.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [*ECOUTE, "feedback", "import", str(path), "--who", "claire"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(feedback_settings),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for lineno, reason in (
        (2, "invalid JSON"),
        (4, "missing field 'id'"),
        (5, "sentiment must be"),
        (7, "no label given"),
        (9, "expected a JSON object"),
    ):
        assert f"line {lineno}: {reason}" in " ".join(out.split()), out
    assert "3 correction(s) stored" in out and "5 bad line(s) of 8" in out, out
    docs = {d["mention_id"]: d for d in iter_corrections(feedback_settings)}
    assert set(docs) == {"fb:1", "fb:2", "5"}
    assert docs["fb:2"]["labels"] == {"sentiment": "positive", "criticism": False} and docs["fb:2"]["who"] == "claire"
    assert docs["5"]["source"] == "import"


def test_feedback_import_of_a_missing_file_is_a_clear_error(feedback_settings, tmp_path: Path) -> None:
    proc = subprocess.run(
        [*ECOUTE, "feedback", "import", str(tmp_path / "nope.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(feedback_settings),
    )
    assert proc.returncode == 1 and "cannot read" in proc.stdout + proc.stderr
