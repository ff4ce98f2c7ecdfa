"""File import (CSV/JSONL, .gz) against real brokers: mapping, DLQ, checkpoints, crash and resume."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

from connectors.base import ConnectorError
from connectors.file_import import import_file, parse_mapping
from ecoute import es, events
from tests.connectors.conftest import dead_letters, raw_events, read_topic

RTL = "שלום עולם — مرحبا بالعالم"
EMOJI = "Trop bien 😍🔥👍🏽 ça marche !"


def import_rows(n: int, start: int = 0) -> list[dict]:
    rows = []
    for i in range(start, start + n):
        post = i % 10 == 0
        rows.append(
            {
                "source": "facebook",
                "native_id": f"1000_{i}",
                "kind": "post" if post else "comment",
                "parent_native_id": None if post else f"1000_{i - i % 10}",
                "channel": "MaMarque",
                "author_id": f"user{i % 13}",
                "author_name": f"Utilisateur {i % 13}",
                "author_is_brand": "false",
                "text": f"commentaire n°{i} é à ç",
                "created_at": f"2024-05-01 10:{i % 60:02d}:00",
                "likes": i % 5,
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict], extra_lines: list[str] = ()) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        for line in extra_lines:
            handle.write(line + "\n")
    return path


def test_jsonl_import_maps_every_field_and_dead_letters_bad_rows(settings, tmp_path):
    big = "Un avis très détaillé. " * 2200  # ~50 kB
    good = [
        {
            "native_id": "p1",
            "kind": "post",
            "channel": "MaMarque",
            "author_id": "page-1",
            "author_name": "MaMarque",
            "author_is_brand": "true",
            "text": "Nouveau produit !",
            "url": "https://example.com/p1",
            "created_at": "2024-05-01T08:00:00+02:00",
            "likes": "12",
            "replies": 3,
            "shares": "0",
        },
        {
            "native_id": "c1",
            "parent_native_id": "p1",
            "channel": "MaMarque",
            "author_id": "u1",
            "author_name": "Zoé",
            "text": EMOJI,
            "created_at": "2024-05-01 09:00:00",
        },
        {
            "native_id": "r1",
            "kind": "reply",
            "parent_native_id": "c1",
            "thread_native_id": "p1",
            "channel": "MaMarque",
            "author_id": "page-1",
            "author_is_brand": 1,
            "text": RTL,
            "created_at": "2024-05-01T09:05:00Z",
        },
        {
            "native_id": "c2",
            "parent_native_id": "p1",
            "channel": "MaMarque",
            "author_id": "u2",
            "text": big,
            "created_at": "2024-05-01T09:10:00Z",
        },
    ]
    bad_lines = [
        '{"native_id": "c3", "text": "no date", "channel": "MaMarque"}',
        '{"native_id": "c4", "kind": "comment", "text": "no parent", "created_at": "2024-05-01T09:00:00Z"}',
        "this is not JSON at all",
        '{"native_id": "c5", "created_at": "2024-05-01T09:00:00Z", "likes": -3}',
        '{"native_id": "has space", "created_at": "2024-05-01T09:00:00Z"}',
        "[1, 2, 3]",
    ]
    path = write_jsonl(tmp_path / "export.jsonl", good, bad_lines)

    stats = import_file(path, settings, batch_size=2)
    assert (stats.produced, stats.dead_lettered, stats.skipped) == (4, 6, 0)

    produced = {event["id"]: event for event in raw_events(settings)}
    assert set(produced) == {"import:p1", "import:c1", "import:r1", "import:c2"}
    for event in produced.values():
        assert events.validation_errors(event) == []
    post, comment, reply, long = (produced[f"import:{n}"] for n in ("p1", "c1", "r1", "c2"))
    assert post["thread_id"] == "import:p1" and post["parent_id"] is None
    assert post["created_at"] == "2024-05-01T06:00:00Z"
    assert post["metrics"] == {"likes": 12, "replies": 3, "shares": 0}
    assert post["author"] == {
        "id": events.pseudonymise("page-1", settings.pseudonym_key.get_secret_value()),
        "name": None,  # store_author_names is off by default
        "is_brand": True,
    }
    assert comment["kind"] == "comment" and comment["parent_id"] == "import:p1" and comment["thread_id"] == "import:p1"
    assert comment["text"] == EMOJI and comment["created_at"] == "2024-05-01T09:00:00Z"
    assert reply["kind"] == "reply" and reply["parent_id"] == "import:c1" and reply["thread_id"] == "import:p1"
    assert reply["text"] == RTL and reply["author"]["is_brand"] is True
    assert reply["author"]["id"] == post["author"]["id"]
    assert long["text"] == big and len(big.encode()) > 50_000
    assert all(event["raw"] is None for event in produced.values())

    letters = dead_letters(settings)
    assert len(letters) == 6
    by_original = {letter["original"]: letter for letter in letters}
    assert set(by_original) == set(bad_lines)
    assert "created_at is missing" in by_original[bad_lines[0]]["reason"]
    assert "parent" in by_original[bad_lines[1]]["reason"]
    assert by_original[bad_lines[2]]["reason"].startswith("parse: not JSON")
    assert "negative" in by_original[bad_lines[3]]["reason"]
    assert "white space" in by_original[bad_lines[4]]["reason"]
    assert all(letter["stage"] == "connector:import" for letter in letters)
    assert all(events.validation_errors(letter, "dlq_record.schema.json") == [] for letter in letters)


@pytest.mark.parametrize("workers", [0, 2])
def test_rerun_of_same_file_sends_nothing_and_appended_rows_only_once(settings, tmp_path, workers):
    path = write_jsonl(tmp_path / "grow.jsonl", import_rows(250), ["not json"])
    first = import_file(path, settings, batch_size=100, workers=workers)
    assert (first.produced, first.dead_lettered, first.skipped) == (250, 1, 0)
    again = import_file(path, settings, batch_size=100, workers=workers)
    assert (again.produced, again.skipped) == (0, 251)
    with path.open("a", encoding="utf-8") as handle:  # the export grew at its end
        for row in import_rows(30, start=250):
            handle.write(json.dumps(row) + "\n")
    grown = import_file(path, settings, batch_size=100, workers=workers)
    assert (grown.produced, grown.skipped) == (30, 251)
    ids = [event["id"] for event in raw_events(settings)]
    assert len(ids) == 280 == len(set(ids))
    restarted = import_file(path, settings, batch_size=100, restart=True, workers=workers)
    assert restarted.produced == 280
    assert [letter["original"] for letter in dead_letters(settings)] == ["not json"] * 2


def test_csv_gz_with_column_mapping_and_source_option(settings, tmp_path):
    path = tmp_path / "youtube-export.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Comment ID", "Video", "Parent", "Author channel", "Comment", "Published", "Likes"])
        writer.writerow(
            [
                "Ugx1",
                "vid9",
                "",
                "UCa",
                "Première ligne\navec un saut de ligne, et une virgule",
                "2024-05-02T10:00:00Z",
                "4",
            ]
        )
        writer.writerow(["Ugx2", "vid9", "Ugx1", "UCb", EMOJI, "2024-05-02T11:00:00Z", ""])
        writer.writerow(["Ugx3", "vid9", "", "UCc", "bad likes", "2024-05-02T11:00:00Z", "beaucoup"])
        writer.writerow(["only", "two"])
    mapping = parse_mapping(
        [
            "Comment ID=native_id",
            "Parent=parent_native_id",
            "Video=thread_native_id",
            "Author channel=author_id",
            "Comment=text",
            "Published=created_at",
            "Likes=likes",
        ]
    )
    stats = import_file(path, settings, mapping=mapping, source="youtube", channel="MaMarqueTV", progress=True)
    assert (stats.produced, stats.dead_lettered) == (2, 2)
    produced = {event["id"]: event for event in raw_events(settings)}
    assert produced["youtube:Ugx1"]["text"] == "Première ligne\navec un saut de ligne, et une virgule"
    assert produced["youtube:Ugx1"]["kind"] == "post" and produced["youtube:Ugx1"]["metrics"] == {"likes": 4}
    assert produced["youtube:Ugx2"]["parent_id"] == "youtube:Ugx1"
    assert produced["youtube:Ugx2"]["thread_id"] == "youtube:vid9"
    assert {event["channel"] for event in produced.values()} == {"MaMarqueTV"}
    reasons = sorted(letter["reason"] for letter in dead_letters(settings))
    assert "whole number" in reasons[0] and "columns where the header has" in reasons[1]


def test_bad_options_fail_clearly(settings, tmp_path):
    with pytest.raises(ConnectorError, match="no such file"):
        import_file(tmp_path / "missing.jsonl", settings)
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(ConnectorError, match="unknown format"):
        import_file(tmp_path / "x.xlsx", settings)
    with pytest.raises(ConnectorError, match="not a field"):
        parse_mapping(["Comment=body"])
    with pytest.raises(ConnectorError, match="expected one of"):
        import_file(write_jsonl(tmp_path / "a.jsonl", []), settings, source="tiktok")


CRASHING_IMPORT = """
import json, os, sys
from pathlib import Path
from connectors import base
from connectors.file_import import import_file
from ecoute.settings import Settings

calls = 0


def crash_at(n, real_save):
    def save(self, key, state):
        global calls
        calls += 1
        if calls == n:
            os._exit(137)  # killed after the broker acknowledged the batch, before the checkpoint
        real_save(self, key, state)
    return save


if __name__ == "__main__":  # worker processes are spawned: they re-import this file
    settings = Settings(**json.loads(sys.argv[1]))
    base.CheckpointStore.save = crash_at(int(sys.argv[3]), base.CheckpointStore.save)
    stats = import_file(Path(sys.argv[2]), settings, batch_size=int(sys.argv[4]), workers=int(sys.argv[5]))
    print(stats.produced, stats.skipped)
"""


@pytest.mark.parametrize("workers", [0, 1])
def test_crash_between_produce_and_checkpoint_loses_nothing_resends_one_batch(broker_settings, tmp_path, workers):
    total, batch = 1000, 100
    path = write_jsonl(tmp_path / "crash.jsonl", import_rows(total))
    config = broker_settings.model_dump(mode="json", include={"state_dir", "kafka", "topics"})
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_IMPORT)
    root = Path(__file__).resolve().parents[2]
    crashed = subprocess.run(
        [sys.executable, str(script), json.dumps(config), str(path), "4", str(batch), str(workers)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    assert crashed.returncode == 137, crashed.stderr[-2000:]
    before = read_topic(broker_settings, broker_settings.topics.raw)
    assert len(before) == 4 * batch  # 4 batches acknowledged, only 3 checkpointed

    resumed = import_file(path, broker_settings, batch_size=batch, workers=workers)
    assert resumed.skipped == 3 * batch and resumed.produced == total - 3 * batch

    after = read_topic(broker_settings, broker_settings.topics.raw)
    ids = Counter(key for key, _ in after)
    assert set(ids) == {f"facebook:1000_{i}" for i in range(total)}  # 0 lost
    resent = sum(count - 1 for count in ids.values())
    assert 0 < resent <= batch  # ≤ one batch re-sent
    assert all(key == value["id"] for key, value in after)
    # Downstream upserts by id absorb the duplicates: every copy of an id is the same event.
    variants: dict[str, set[bytes]] = {}
    for key, value in after:
        variants.setdefault(key, set()).add(orjson.dumps({k: v for k, v in value.items() if k != "fetched_at"}))
    assert all(len(copies) == 1 for copies in variants.values())
    # Replayed into Elasticsearch with the shared upsert (id = _id), the duplicates vanish.
    client = es.make_client(broker_settings)
    index = f"{broker_settings.indices.mentions}-replay"
    written = es.bulk_write(client, es.upsert_actions(index, [value for _, value in after]), refresh=True)
    assert written.ok == len(after) > total and not written.failed
    assert es.count(client, index) == total


def test_cli_connect_import(settings, tmp_path):
    path = write_jsonl(tmp_path / "cli.jsonl", import_rows(20), ["not json"])
    env = {
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "250",
        "ECOUTE_STATE_DIR": str(settings.state_dir),
        "ECOUTE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "ECOUTE_TOPICS__RAW": settings.topics.raw,
        "ECOUTE_TOPICS__DLQ": settings.topics.dlq,
        "ECOUTE_TOPICS__ENRICHED": settings.topics.enriched,
        "ECOUTE_TOPICS__ALERTS": settings.topics.alerts,
    }
    command = [
        sys.executable,
        "-m",
        "ecoute.cli",
        "connect",
        "import",
        str(path),
        "--no-progress",
        "--source",
        "reddit",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "20 produced, 1 dead-lettered, 0 skipped" in run.stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert "0 produced, 0 dead-lettered, 21 skipped" in again.stdout
    assert {event["source"] for event in raw_events(settings)} == {"facebook"}  # rows say facebook
    bad = subprocess.run([*command[:5], str(tmp_path / "nope.csv")], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "no such file" in bad.stderr


def test_oversized_records_are_dead_lettered_not_blocking(settings, tmp_path):
    huge_text = "é" * 120_000  # over the schema's 100,000 characters
    raw_blob = {"native_id": "big2", "created_at": "2024-05-01T10:00:00Z", "text": "ok", "junk": "x" * 3_000_000}
    path = write_jsonl(
        tmp_path / "big.jsonl",
        [{"native_id": "big1", "created_at": "2024-05-01T10:00:00Z", "text": huge_text}, raw_blob, *import_rows(3)],
    )
    stats = import_file(path, settings)
    assert (stats.produced, stats.dead_lettered) == (4, 1)  # big2 maps fine: unknown columns are ignored
    letter = dead_letters(settings)[0]
    assert letter["event_id"] == "import:big1" and "text" in letter["reason"]
    assert letter["original"].startswith('{"native_id":"big1"') or letter["original"].startswith('{"native_id": "big1"')


def test_a_line_over_the_message_limit_is_dead_lettered_and_kept_whole(settings, tmp_path):
    path = tmp_path / "huge.jsonl"
    line = "{" + "x" * 3_000_000
    path.write_text(line + "\n" + json.dumps(import_rows(1)[0]) + "\n")
    stats = import_file(path, settings)
    assert (stats.produced, stats.dead_lettered) == (1, 1)  # the run went on
    letter = dead_letters(settings)[0]
    assert letter["reason"].startswith("parse: not JSON") and letter["original_size"] == len(line)
    kept = orjson.loads(Path(letter["overflow_file"]).read_bytes())
    assert kept["original"] == line


@pytest.mark.slow  # kafka-python waits ~30 s before it gives up bootstrapping
def test_unreachable_kafka_is_a_clear_error_and_nothing_is_checkpointed(tmp_path):
    from ecoute.settings import Settings
    from tests.conftest import free_port

    down = Settings(
        state_dir=tmp_path / "state",
        kafka={"bootstrap_servers": f"127.0.0.1:{free_port()}", "request_timeout_ms": 1500},
    )
    path = write_jsonl(tmp_path / "a.jsonl", import_rows(3))
    with pytest.raises(ConnectorError, match=r"unreachable.*ecoute stack up"):
        import_file(path, down)
    assert not (tmp_path / "state" / "checkpoints").exists() or not any((tmp_path / "state" / "checkpoints").iterdir())
