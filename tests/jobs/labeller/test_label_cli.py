"""`ecoute label` as a user runs it: JSON Lines through the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ECOUTE = [str(Path(sys.executable).with_name("ecoute"))]


def test_label_command_keeps_order_and_reports_bad_lines():
    lines = [
        json.dumps({"id": "fb:1", "text": "Colis toujours pas reçu, remboursez-moi", "source": "facebook"}),
        'not json at all "id": "fb:2"',
        json.dumps({"id": "fb:3"}),
        json.dumps({"id": "fb:4", "text": "Merci pour la rapidité 👍", "author": {"is_brand": False}}),
        json.dumps([1, 2]),
        json.dumps({"id": "fb:6", "text": 12}),
        "",
        json.dumps({"id": "fb:7", "text": "\u0000😂"}),
    ]
    proc = subprocess.run(
        [*ECOUTE, "label", "--batch-size", "2"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["fb:1", "fb:2", "fb:3", "fb:4", None, "fb:6", None, "fb:7"]
    assert [("error" in o) for o in out] == [False, True, True, False, True, True, True, False]
    assert out[0]["criticism"] is True and out[0]["sentiment"] == "negative"
    assert out[3]["sentiment"] == "positive"
    assert out[7]["lang"] == "und"
    for key in (
        "lang",
        "lang_confidence",
        "sentiment",
        "sentiment_score",
        "topics",
        "toxic",
        "toxic_score",
        "criticism",
        "constructive",
    ):
        assert key in out[0]
    assert "missing field 'text'" in proc.stderr and "fb:3" in proc.stderr


def test_check_taxonomy():
    proc = subprocess.run([*ECOUTE, "label", "--check-taxonomy"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "delivery" in proc.stderr


def _env(settings) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "ECOUTE_ES__URL": settings.es.url,
        "ECOUTE_INDICES__FEEDBACK": settings.indices.feedback,
        "ECOUTE_INDICES__MENTIONS": settings.indices.mentions,
        "ECOUTE_STATE_DIR": str(settings.state_dir),
        "ECOUTE_LABELLER_DIR": str(settings.state_dir / "labeller"),
    }


def test_models_build_without_feedback_has_nothing_to_learn(settings):
    proc = subprocess.run([*ECOUTE, "models", "build"], capture_output=True, text=True, timeout=300, env=_env(settings))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing to learn" in " ".join((proc.stdout + proc.stderr).split())


def test_models_build_with_unreachable_feedback_index_is_a_clear_error(settings):
    env = {**_env(settings), "ECOUTE_ES__URL": "http://127.0.0.1:1"}
    proc = subprocess.run([*ECOUTE, "models", "build"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1
    assert "cannot read the feedback index" in " ".join((proc.stdout + proc.stderr).split())


def test_a_labelled_file_is_centred_on_its_own_unless_asked_to_use_the_published_centring(tmp_path: Path):
    """A file of tweets is centred on its own texts by default; ``--shared-centring`` centres it on the
    enrichment's published centring, read-only: the same file labelled twice gives the same bytes,
    and no run writes any state (a replay never counts a text twice)."""
    import os

    import numpy as np

    from jobs.labeller.centring import CentringStats
    from jobs.labeller.heads import PACKAGED_ARTEFACT, LabelModel

    lines = "\n".join(
        json.dumps({"id": f"t:{i}", "text": text})
        for i, text in enumerate(["Livraison en retard, encore.", "Super équipe, merci !", "Le site est en panne"])
    )
    env = {**os.environ, "ECOUTE_LABELLER_DIR": str(tmp_path)}
    run = [*ECOUTE, "label"]
    own = subprocess.run(run, input=lines + "\n", capture_output=True, text=True, timeout=300, env=env)
    assert own.returncode == 0, own.stderr
    assert len(own.stdout.splitlines()) == 3
    assert not list(tmp_path.rglob("*.npz")), "the default run wrote labeller state"

    model = LabelModel.load(PACKAGED_ARTEFACT)
    far = model.means["fr"] + np.random.default_rng(3).normal(scale=0.2, size=model.means["fr"].shape)
    published = CentringStats.build(
        {"fr": far * 5000.0},
        {"fr": 5000.0},
        {"created_at": "2026-12-01T00:00:00+00:00", "encoder": model.meta["encoder"]},
    )
    published.save(tmp_path / "centring")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    shared = [
        subprocess.run(
            [*run, "--shared-centring"], input=lines + "\n", capture_output=True, text=True, timeout=300, env=env
        )
        for _ in range(2)
    ]
    assert all(proc.returncode == 0 for proc in shared), shared[0].stderr
    assert shared[0].stdout == shared[1].stdout, "labelling the same file again changed its labels"
    scores = [
        [json.loads(line)["sentiment_score"] for line in out.splitlines()] for out in (own.stdout, shared[0].stdout)
    ]
    assert scores[0] != scores[1], "--shared-centring did not centre on the published means"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before, "--shared-centring wrote labeller state"


def test_a_terminal_gets_a_progress_bar_over_the_input_file(tmp_path: Path):
    import io

    from rich.console import Console

    from jobs.labeller.cli import run_label

    lines = [json.dumps({"id": f"t{i}", "text": f"commande {i} toujours pas arrivée"}) for i in range(30)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    out = io.BytesIO()
    with path.open("rb") as stdin:
        assert run_label(stdin, out, console, batch_size=10) == 0
    assert out.getvalue().count(b"\n") == 30
    shown = screen.getvalue()
    assert "labelled 30 lines (0 malformed)" in shown
    assert "100%" in shown and "left" in shown  # a bar with its percentage and time left
    # a pipe has no size: a spinner and the count, no percentage
    screen.truncate(0)
    assert run_label(io.BytesIO(path.read_bytes()), io.BytesIO(), console, batch_size=10) == 0
    assert "labelled 30 lines" in screen.getvalue()


def test_a_file_or_pipe_that_is_not_a_terminal_gets_no_progress_output(tmp_path: Path):
    import io

    from rich.console import Console

    from jobs.labeller.cli import run_label

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=False)
    out = io.BytesIO()
    assert run_label(io.BytesIO(b'{"id": "a", "text": "merci"}\n'), out, console) == 0
    assert screen.getvalue() == "" and out.getvalue().count(b"\n") == 1
