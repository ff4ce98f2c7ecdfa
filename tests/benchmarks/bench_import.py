"""Benchmark: import JSONL of ~1 KB records into Kafka (acks=all) through the file-import connector.

Run: ``.venv/bin/python tests/benchmarks/bench_import.py [--records 50000] [--batch-size 5000]``.
Starts its own noida-db on free ports with data in a temp folder (like the test fixtures), writes
the file, imports it, checks every record landed (high watermarks), prints docs/s. Target ≥ 10,000.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from connectors.file_import import import_file  # noqa: E402
from ecoute import kafka  # noqa: E402
from tests.conftest import Noida, free_port, make_settings  # noqa: E402

WORDS = [
    "service",
    "client",
    "livraison",
    "produit",
    "commande",
    "retard",
    "merci",
    "super",
    "nul",
    "déçu",
    "remboursement",
    "qualité",
    "prix",
    "application",
    "bug",
    "mise",
    "à",
    "jour",
    "magasin",
    "conseiller",
    "attente",
    "réponse",
    "rapide",
    "génial",
    "😍",
    "🔥",
    "👍",
    "great",
    "price",
]


def write_records(path: Path, count: int, size: int = 1024) -> int:
    rng = random.Random(7)
    total = 0
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            row = {
                "source": "facebook",
                "native_id": f"123456789_{i}",
                "kind": "post" if i % 20 == 0 else "comment",
                "parent_native_id": None if i % 20 == 0 else f"123456789_{i - i % 20}",
                "channel": "MaMarque",
                "author_id": f"{rng.randrange(10**9)}",
                "author_name": "Camille Dupont",
                "author_is_brand": False,
                "created_at": f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
                "likes": i % 17,
                "replies": i % 3,
                "text": "",
            }
            line = json.dumps(row, ensure_ascii=False)
            words = []
            while len(line.encode()) + len(" ".join(words).encode()) < size - 1:
                words.append(rng.choice(WORDS))
            row["text"] = " ".join(words)
            encoded = json.dumps(row, ensure_ascii=False) + "\n"
            total += len(encoded.encode())
            handle.write(encoded)
    return total


def cpu_seconds(pid: int | None = None) -> float:
    """User+system CPU seconds of this process (all threads), or of another process via /proc."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kafka_baseline(settings, count: int, batch_size: int) -> float:
    """docs/s of the bare Kafka client (same 1 KB payloads, same acks=all batches), for reference."""
    records = [(f"facebook:baseline-{i}", b"x" * 1024) for i in range(count)]
    with kafka.Producer(settings) as producer:
        started = time.perf_counter()
        for i in range(0, count, batch_size):
            producer.send_batch(settings.topics.enriched, records[i : i + batch_size])
        return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=2, help="imports of the same file into fresh topics")
    parser.add_argument("--baseline", action="store_true", help="also measure the bare Kafka client")
    parser.add_argument("--workers", type=int, default=None, help="mapping processes (default: auto)")
    args = parser.parse_args()

    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="ecoute-bench-") as tmp:
        tmp_path = Path(tmp)
        noida = Noida(free_port(), free_port(), tmp_path / "noida", tmp_path / "noida.log", None)  # type: ignore[arg-type]
        noida.start()
        try:
            data = tmp_path / "records.jsonl"
            size = write_records(data, args.records)
            print(f"{args.records:,} records, {size / args.records:.0f} bytes each on average, {size / 1e6:.1f} MB")
            rates = []
            for run in range(1, args.repeat + 1):
                settings = make_settings(tmp_path / f"run{run}", noida.bootstrap, noida.es_url)
                kafka.ensure_topics(settings)
                started, cpu, broker_cpu = time.perf_counter(), cpu_seconds(), cpu_seconds(noida.process.pid)
                stats = import_file(data, settings, batch_size=args.batch_size, workers=args.workers)
                elapsed = time.perf_counter() - started
                cpu, broker_cpu = cpu_seconds() - cpu, cpu_seconds(noida.process.pid) - broker_cpu
                landed = sum(kafka.high_watermarks(settings.topics.raw, settings=settings).values())
                if landed != args.records or stats.produced != args.records:
                    print(f"FAIL: produced {stats.produced:,}, in Kafka {landed:,}, expected {args.records:,}")
                    return 1
                rates.append(stats.produced / elapsed)
                print(
                    f"run {run}: {elapsed:.2f} s, {rates[-1]:,.0f} docs/s, {size / elapsed / 1e6:.1f} MB/s "
                    f"(all {landed:,} in Kafka); CPU: importer {cpu:.2f} s ({cpu / args.records * 1e6:.0f} µs/doc), "
                    f"noida-db {broker_cpu:.2f} s"
                )
                if args.baseline and run == 1:
                    print(
                        f"bare Kafka client, same payload size: {kafka_baseline(settings, args.records, args.batch_size):,.0f} docs/s"
                    )
            best = max(rates)
            print(f"import: best {best:,.0f} docs/s of {len(rates)} runs (target ≥ 10,000 docs/s)")
            print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
            return 0 if best >= 10_000 else 2
        finally:
            noida.stop()


if __name__ == "__main__":
    sys.exit(main())
