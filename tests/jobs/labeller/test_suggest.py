"""`ecoute feedback suggest`: the N pool lines the heads are least sure of, unchanged, never twice the
same thing — and `choose`'s diversity on its own."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from jobs.labeller.learning import Doubt, choose
from tests.jobs.labeller.test_label_cli import ECOUTE

SURE = [
    "Merci beaucoup, service génial, je suis ravie !",
    "Super produit, livraison rapide, je recommande à 100 %",
    "Trop bien, merci l'équipe, vous êtes au top ❤️",
]
DOUBTFUL = [
    "Bon, la commande est arrivée, on verra bien",
    "Pas mal mais bon, je ne sais pas trop quoi en penser",
    "Ouais enfin bref, c'est comme d'habitude quoi",
]


def test_choose_prefers_doubt_and_never_picks_near_duplicates() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(4, 16))
    vectors = np.vstack([base[0], base[0] + 0.01, base[0] + 0.02, base[1], base[2], base[3], np.zeros(16)])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    doubt = Doubt(np.array([0.99, 0.98, 0.97, 0.6, 0.5, 0.1, 1.0], dtype=np.float32), vectors, {})
    picked = choose(doubt, 4)
    assert picked[0] == 0 and 1 not in picked and 2 not in picked  # copies of the first: asked once
    assert sorted(picked) == [0, 3, 4, 5]  # the text without words (zero vector) never
    texts = ["Même texte", "même   TEXTE", "autre", "encore", "plus", "fin", ""]
    assert choose(Doubt(np.linspace(1, 0.5, 7, dtype=np.float32), np.eye(7, 16), {}), 3, texts) == [0, 2, 3]


def test_suggest_prints_chosen_pool_lines_unchanged(tmp_path: Path) -> None:
    pool = [{"id": f"s{i}", "text": t, "source": "facebook"} for i, t in enumerate(SURE)]
    pool += [{"id": f"d{i}", "text": t, "extra": {"k": i}} for i, t in enumerate(DOUBTFUL)]
    pool += [{"id": "dup", "text": DOUBTFUL[0]}]  # the same words again: one question only
    path = tmp_path / "pool.jsonl"
    lines = [json.dumps(p, ensure_ascii=False) for p in pool]
    path.write_text("\n".join([*lines[:3], "not json", *lines[3:]]) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [*ECOUTE, "feedback", "suggest", "--pool", str(path), "--n", "3"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert len(out) == 3 and all(line in lines for line in out)  # the pool's own lines, unchanged
    chosen = [json.loads(line)["id"] for line in out]
    assert set(chosen) <= {"d0", "d1", "d2", "dup", "s0", "s1", "s2"} and not {"d0", "dup"} <= set(chosen)
    assert sum(c.startswith("d") for c in chosen) >= 2, chosen  # the doubtful ones, not the obvious praise
    assert "line 4" in proc.stderr and "3 of 7 mention(s) chosen" in " ".join(proc.stderr.split())
