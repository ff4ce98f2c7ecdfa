"""The demo data set (infra/demo): deterministic, in the Écoute import format, with its crisis day."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "infra" / "demo"
DATA = DEMO / "ecoute-demo-2026-10.jsonl.gz"
FIELDS = {
    "source": str,
    "native_id": str,
    "kind": str,
    "channel": str,
    "author_id": str,
    "author_name": str,
    "author_is_brand": bool,
    "text": str,
    "url": str,
    "created_at": str,
    "likes": int,
    "replies": int,
    "shares": int,
}
RFC3339_UTC = re.compile(r"^2026-10-\d\dT\d\d:\d\d:\d\dZ$")


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_sample", DEMO / "generate_sample.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def read_rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return read_rows(DATA)


def test_same_seed_same_bytes_and_matches_committed_file(tmp_path: Path) -> None:
    generator = load_generator()
    first, second, other = (
        tmp_path / "a" / "demo.jsonl.gz",
        tmp_path / "b" / "demo.jsonl.gz",
        tmp_path / "c" / "demo.jsonl.gz",
    )
    generator.main(["--out", str(first)])
    generator.main(["--seed", str(generator.DEFAULT_SEED), "--out", str(second)])
    generator.main(["--seed", "7", "--out", str(other)])
    assert first.read_bytes() == second.read_bytes()
    assert (first.parent / "ground_truth.json").read_bytes() == (second.parent / "ground_truth.json").read_bytes()
    assert first.read_bytes() != other.read_bytes()
    # The committed file is what the default seed gives: regenerate it after changing the script.
    assert first.read_bytes() == DATA.read_bytes(), "run: python infra/demo/generate_sample.py"
    assert (first.parent / "ground_truth.json").read_text() == (DEMO / "ground_truth.json").read_text().replace(
        DATA.name, "demo.jsonl.gz"
    )


def test_every_row_is_in_the_import_format(rows: list[dict]) -> None:
    assert 8_000 <= len(rows) <= 12_000
    assert DATA.stat().st_size < 2_000_000
    seen: dict[tuple[str, str], dict] = {}
    for line_number, row in enumerate(rows, 1):
        for name, kind in FIELDS.items():
            assert isinstance(row.get(name), kind), f"line {line_number}: {name} = {row.get(name)!r}"
        assert row["native_id"].strip() and not re.search(r"\s", row["native_id"])
        assert row["source"] in {"facebook", "instagram", "youtube"}
        assert row["kind"] in {"post", "comment", "reply"}
        assert row["channel"].startswith(row["source"] + ":")
        assert row["url"].startswith("https://")
        assert min(row["likes"], row["replies"], row["shares"]) >= 0
        assert RFC3339_UTC.match(row["created_at"]), row["created_at"]
        created = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
        assert datetime(2026, 10, 1, tzinfo=UTC) <= created < datetime(2026, 11, 1, tzinfo=UTC)
        key = (row["source"], row["native_id"])
        assert key not in seen, f"duplicate {key}"
        if row["kind"] == "post":
            assert row["parent_native_id"] is None and row["thread_native_id"] == row["native_id"]
            assert row["author_is_brand"]
        else:
            # Parents exist, come earlier in the file and were created no later than the child.
            parent = seen.get((row["source"], row["parent_native_id"]))
            assert parent is not None, f"line {line_number}: parent {row['parent_native_id']} missing or later"
            assert parent["created_at"] <= row["created_at"]
            assert parent["kind"] == ("post" if row["kind"] == "comment" else "comment")
            thread = seen[(row["source"], row["thread_native_id"])]
            assert thread["kind"] == "post"
        seen[key] = row


def test_ids_look_like_each_platform(rows: list[dict]) -> None:
    patterns = {
        ("facebook", "post"): r"^\d{15}_\d{16}$",
        ("facebook", "comment"): r"^\d{16}_\d{16}$",
        ("facebook", "reply"): r"^\d{16}_\d{16}$",
        ("instagram", "post"): r"^\d{19}$",
        ("instagram", "comment"): r"^\d{17}$",
        ("instagram", "reply"): r"^\d{17}$",
        ("youtube", "post"): r"^[A-Za-z0-9_-]{11}$",
        ("youtube", "comment"): r"^Ug[w-z][A-Za-z0-9_-]{19}4AaABAg$",
        ("youtube", "reply"): r"^Ug[w-z][A-Za-z0-9_-]{19}4AaABAg\.[A-Za-z0-9_-]{22}$",
    }
    for row in rows:
        assert re.match(patterns[(row["source"], row["kind"])], row["native_id"]), row
    brand_ids = {(row["source"], row["author_id"]) for row in rows if row["author_is_brand"]}
    assert len(brand_ids) == 3  # one fixed brand id per platform
    assert not {(row["source"], row["author_id"]) for row in rows if not row["author_is_brand"]} & brand_ids


def test_realistic_mix(rows: list[dict]) -> None:
    texts = [row["text"] for row in rows if row["kind"] != "post"]
    assert len(set(texts)) / len(texts) > 0.75, "texts must be varied, not copies"
    truth = json.loads((DEMO / "ground_truth.json").read_text())
    langs = truth["by_lang_people"]
    people = sum(langs.values()) - langs.get("zxx", 0)
    assert 0.68 < langs["fr"] / people < 0.82 and 0.10 < langs["en"] / people < 0.20
    assert all(langs[lang] > 50 for lang in ("es", "de", "it", "pt"))
    assert len(truth["threats"]) == 1 and truth["toxic"] > 20 and truth["spam"] > 20 and truth["emoji_only"] > 50
    assert 0 < truth["critical_answered_by_brand"] < truth["critical_total"]
    hours = Counter(int(row["created_at"][11:13]) for row in rows if not row["author_is_brand"])
    assert hours[18] > 3 * hours[2]  # evenings (20:00 Paris) are busier than nights


def test_no_text_keeps_an_unfilled_slot(rows: list[dict]) -> None:
    unfilled = [row["text"] for row in rows if re.search(r"\{[a-z_0-9]+\}", row["text"])]
    assert unfilled == []  # e.g. "Cliente fidèle depuis {y} ans" on the crisis day


def test_crisis_day_bursts(rows: list[dict]) -> None:
    # Recount from the per-record labels rather than trusting ground_truth.json's counts.
    with gzip.open(DEMO / "ground_truth_labels.jsonl.gz", "rt", encoding="utf-8") as handle:
        labels = {(lab["source"], lab["native_id"]): lab for lab in map(json.loads, handle)}
    critical_by_day = Counter(
        row["created_at"][:10]
        for row in rows
        if row["kind"] != "post"
        and labels[(row["source"], row["native_id"])]["critical"]
        and not row["author_is_brand"]
    )
    crisis = critical_by_day.pop("2026-10-17")
    assert crisis > 2.5 * max(critical_by_day.values())
    assert crisis > 5 * sorted(critical_by_day.values())[len(critical_by_day) // 2]
    truth = json.loads((DEMO / "ground_truth.json").read_text())
    assert truth["critical_comments_by_day"]["2026-10-17"] == crisis
    assert truth["crisis"]["start"] == "2026-10-17T09:00:00Z"
    # Calm before 09:00 UTC, several hours at 6x+ the usual level afterwards.
    by_hour = truth["crisis"]["critical_by_utc_hour"]
    usual = truth["crisis"]["usual_critical_by_utc_hour"]
    assert sum(by_hour[str(h)] for h in range(9)) < 10
    assert sum(1 for h in range(9, 24) if by_hour[str(h)] >= 6 * max(usual[str(h)], 1)) >= 4


def test_the_file_importer_maps_every_row_to_a_valid_raw_event(rows: list[dict]) -> None:
    file_import = pytest.importorskip("connectors.file_import")
    from connectors.base import contract_errors
    from ecoute.settings import Settings

    settings = Settings()
    for row in rows:
        event = file_import.row_to_event(row, settings)
        assert contract_errors(event) == [], row
        assert event["id"] == f"{row['source']}:{row['native_id']}"
