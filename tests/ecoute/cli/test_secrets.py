"""Issue 19 item 10: URL credentials are never printed; the public pseudonym key is refused off the embedded stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ecoute.settings import Settings
from tests.conftest import free_port

ECOUTE = str(Path(sys.executable).with_name("ecoute"))


def ecoute(*argv: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "COLUMNS": "200",
        "ECOUTE_STATE_DIR": str(tmp_path / "state"),
    }
    return subprocess.run(
        [ECOUTE, *argv], env={**base, **env}, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def test_es_url_credentials_are_masked_in_config_and_in_errors(tmp_path):
    url = "http://elastic:hunter2@127.0.0.1:1"
    shown = ecoute("config", tmp_path=tmp_path, ECOUTE_ES__URL=url)
    assert shown.returncode == 0 and "hunter2" not in shown.stdout and "elastic:***@127.0.0.1:1" in shown.stdout
    down = ecoute("retention", tmp_path=tmp_path, ECOUTE_ES__URL=url)
    assert down.returncode == 1 and "hunter2" not in down.stderr + down.stdout
    assert "cannot reach Elasticsearch at http://elastic:***@127.0.0.1:1" in down.stderr


def test_the_public_pseudonym_key_is_refused_by_connectors_off_the_embedded_stack(tmp_path):
    export = tmp_path / "a.jsonl"
    export.write_text('{"native_id":"1","created_at":"2026-10-01T10:00:00Z","text":"x"}\n')
    remote = {"ECOUTE_KAFKA__BOOTSTRAP_SERVERS": "10.255.255.1:9092", "ECOUTE_ES__URL": "http://10.255.255.1:9200"}
    refused = ecoute("connect", "import", str(export), tmp_path=tmp_path, **remote)
    assert refused.returncode == 2 and "ECOUTE_PSEUDONYM_KEY" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    warned = ecoute("config", tmp_path=tmp_path, **remote)
    assert warned.returncode == 0 and "warning:" in warned.stderr and "ECOUTE_PSEUDONYM_KEY" in warned.stderr
    # With a key of its own the command goes on (to a Kafka where nothing listens: one line).
    keyed = ecoute(
        "connect",
        "import",
        str(export),
        tmp_path=tmp_path,
        ECOUTE_PSEUDONYM_KEY="k" * 32,
        ECOUTE_ES__URL="http://10.255.255.1:9200",
        ECOUTE_KAFKA__BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}",
    )
    assert "ECOUTE_PSEUDONYM_KEY" not in keyed.stderr and "cannot reach Kafka" in keyed.stderr


def test_the_embedded_stack_keeps_the_development_key():
    assert Settings().pseudonym_key_problem() is None
    assert Settings(kafka={"bootstrap_servers": "k1:9092"}).pseudonym_key_problem()
    assert Settings(kafka={"bootstrap_servers": "k1:9092"}, pseudonym_key="s" * 32).pseudonym_key_problem() is None


def test_every_connector_sink_refuses_the_public_key_off_the_embedded_stack(tmp_path):
    """Issue 28 item 17: the check lives where every source produces (CLI, DAGs, webhooks)."""
    import pytest

    from connectors.base import EventSink
    from connectors.errors import ConnectorError

    remote = Settings(
        state_dir=tmp_path, kafka={"bootstrap_servers": "10.255.255.1:9092"}, es={"url": "http://10.255.255.1:9200"}
    )
    for connector in ("import", "rss", "webhook", "facebook"):
        with pytest.raises(ConnectorError, match=f"ECOUTE_PSEUDONYM_KEY.*connector {connector} refuses"):
            EventSink(remote, connector)
