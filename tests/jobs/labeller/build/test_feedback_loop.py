"""The learning loop as a community manager runs it, on a real noida-db:
`ecoute feedback import` → `ecoute models build` → `ecoute label` uses the new model → `ecoute models backfill`
→ `ecoute models list` / `ecoute models rollback`: the previous model is back and the labels with it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ecoute import es
from jobs.labeller.build.evaluation import load_labelled
from tests.jobs.labeller.test_label_cli import ECOUTE, _env

# The corrections contradict the usual reading (praise marked negative and vice versa): the rebuilt
# model must follow the page's own corrections, which only a strong, per-language use of them does.
FLIP = {"positive": "negative", "negative": "positive", "neutral": "neutral"}


def run(args: list[str], settings, stdin: str | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ECOUTE, *args], input=stdin, capture_output=True, text=True, timeout=timeout, env=_env(settings)
    )


def test_import_build_label_backfill(settings, tmp_path: Path) -> None:
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    items = [it for it in load_labelled("fr_test.tsv") if it.sentiment != "neutral"][:120]
    path = tmp_path / "corrections.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {"id": f"m{i}", "text": it.text, "lang": "fr", "sentiment": FLIP[it.sentiment]}, ensure_ascii=False
            )
            + "\n"
            for i, it in enumerate(items)
        ),
        encoding="utf-8",
    )
    imported = run(["feedback", "import", str(path)], settings, timeout=300)
    assert imported.returncode == 0 and "120 correction(s) stored" in imported.stdout + imported.stderr, imported

    def label_all() -> list[str]:
        lines = "".join(json.dumps({"id": f"m{i}", "text": it.text}) + "\n" for i, it in enumerate(items))
        return [json.loads(line)["sentiment"] for line in run(["label"], settings, lines).stdout.splitlines()]

    before = label_all()
    usual = [i for i, it in enumerate(items) if before[i] == it.sentiment]  # the shipped model reads these right
    assert len(usual) >= 40, before

    built = run(["models", "build"], settings)
    out = " ".join((built.stdout + built.stderr).split())
    assert built.returncode == 0, out
    assert "sentiment fr: current" in out and "k-fold on 120 of the page's corrections" in out and "±" in out, out
    assert "written and in use" in out, out
    models = list((settings.state_dir / "labeller" / "models").glob("e5-heads-*.npz"))
    assert len(models) == 1

    after = label_all()
    followed = [i for i in usual if after[i] == FLIP[items[i].sentiment]]
    assert len(followed) >= 0.8 * len(usual), (len(followed), len(usual))
    probe = items[followed[0]]

    mention = {
        "id": "facebook:1_2",
        "text": probe.text,
        "created_at": "2026-12-01T10:00:00Z",
        "sentiment": "neutral",
        "labeller_version": "old",
        "author": {"id": "a_1", "is_brand": False},
        "handled": True,
    }
    es.bulk_write(client, es.upsert_actions(settings.indices.mentions, [mention]), refresh="wait_for")
    backfilled = run(["models", "backfill", "--days", "36500"], settings)
    assert backfilled.returncode == 0 and "1 of 1 mention(s)" in backfilled.stdout + backfilled.stderr, backfilled
    client.indices.refresh(index=settings.indices.mentions)
    doc = client.get(index=settings.indices.mentions, id="facebook:1_2")["_source"]
    assert doc["sentiment"] == FLIP[probe.sentiment] and doc["labeller_version"] != "old"
    assert doc["handled"] is True and doc["created_at"] == mention["created_at"]  # the rest of the doc is kept
    built = models[0].name.removeprefix("e5-heads-").removesuffix(".npz")
    assert doc["model_version"] == built

    listed = run(["models", "list", "--json"], settings, timeout=120)
    versions = json.loads(listed.stdout)["models"]
    assert [v["version"] for v in versions if v["in_use"]] == [built] and versions[0]["kind"] == "base", listed
    back = run(["models", "rollback"], settings, timeout=120)
    assert back.returncode == 0 and "in use again" in back.stdout + back.stderr, back
    assert label_all() == before  # the packaged model again: the labels change back
    again = run(["models", "rollback", built], settings, timeout=120)
    assert again.returncode == 0 and label_all() == after
    assert run(["models", "rollback", "nope"], settings, timeout=120).returncode == 2
