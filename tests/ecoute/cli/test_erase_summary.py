"""Issue 19 item 11: `ecoute erase` says how many documents it erased (real Elasticsearch)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ecoute import es
from tests.connectors.conftest import cli_env

ECOUTE = str(Path(sys.executable).with_name("ecoute"))


def test_erase_summary_shows_the_erased_count(settings):
    client = es.make_client(settings)
    es.apply_templates(client, settings)
    author = "a_0123456789abcdef01234567"
    env = cli_env(
        settings,
        ECOUTE_ES__URL=settings.es.url,
        **{f"ECOUTE_INDICES__{role.upper()}": name for role, name in settings.indices.model_dump().items()},
    )
    done = subprocess.run(
        [ECOUTE, "erase", "--author", author, "--yes"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"author {author}: 0 document(s) erased (0 mentions, 0 quarantined records, 0 labels)" in done.stderr
