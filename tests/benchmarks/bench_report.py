"""Benchmark: build the HTML report for one month of ≥ 100k enriched mentions (target < 30 s).

Run: ``.venv/bin/python tests/benchmarks/bench_report.py [--docs 100000] [--out /tmp/report.html]``.
Starts its own noida-db on free ports with data in a temp folder (like the test fixtures), indexes
synthetic enriched mentions of October 2026 (posts, comments, replies, a crisis on the 17th, texts
of realistic length) into ``<alias>-2026.10`` with the alias attached, adds one alert episode, then
times ``jobs.reporting.report.build_report`` for the month and prints the figures. Indexing is not
part of the measured time. The machine's load average is printed too: the figure depends on it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ecoute import es  # noqa: E402
from jobs.reporting.report import build_report  # noqa: E402
from tests.conftest import Noida, free_port, make_settings  # noqa: E402
from tests.ecoute.views.synthetic import index_mentions, synthetic_month  # noqa: E402

PHRASES = [
    "ma commande n'est toujours pas arrivée",
    "le service client ne répond pas",
    "j'adore cette crème",
    "livraison rapide merci",
    "le prix a encore augmenté",
    "l'appli plante au paiement",
    "super odeur",
    "colis marqué livré mais jamais reçu",
    "bravo pour Octobre Rose",
    "great product, fast shipping",
]


def realistic_docs(count: int):
    rng = random.Random(11)
    for doc in synthetic_month(count):
        doc["text"] = " ".join(rng.choice(PHRASES) for _ in range(rng.randint(2, 5)))
        yield doc


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to see the cost apart from the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--lang", default="fr")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        tmp_path = Path(tmp)
        server = Noida(free_port(), free_port(), tmp_path / "data", tmp_path / "noida.log", None)  # type: ignore[arg-type]
        server.start()
        try:
            settings = make_settings(tmp_path, server.bootstrap, server.es_url)
            settings = settings.model_copy(update={"es": settings.es.model_copy(update={"request_timeout_s": 300.0})})
            began = time.perf_counter()
            written = index_mentions(settings, realistic_docs(args.docs))
            indexed_s = time.perf_counter() - began
            es.make_client(settings).index(
                index=settings.indices.alerts,
                id="overall|2026-10-17T09:00:00Z",
                refresh=True,
                document={
                    "id": "overall|2026-10-17T09:00:00Z",
                    "scope": "overall",
                    "severity": "high",
                    "status": "ended",
                    "episode_start": "2026-10-17T09:00:00Z",
                    "bucket_start": "2026-10-17T15:00:00Z",
                    "bucket_minutes": 60,
                    "ended_at": "2026-10-17T19:00:00Z",
                    "summary": "crisis",
                },
            )
            out = args.out or tmp_path / "report.html"
            load_before = os.getloadavg()[0]
            server_cpu, client_cpu = cpu_seconds(server.process.pid), time.process_time()
            began = time.perf_counter()
            build_report(settings, date(2026, 10, 1), date(2026, 10, 31), out, lang=args.lang)
            report_s = time.perf_counter() - began
            server_cpu = cpu_seconds(server.process.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            load_after = os.getloadavg()[0]
        finally:
            server.stop()
        print(f"indexed {written} enriched mentions in {indexed_s:.1f} s (not measured)")
        print(f"report for 2026-10 built in {report_s:.1f} s -> {out} ({out.stat().st_size / 1e3:.0f} kB)")
        print(f"load average (1 min) before/after: {load_before:.1f}/{load_after:.1f} on {os.cpu_count()} CPUs")
        print(
            f"CPU time spent on it: noida-db {server_cpu:.1f} s + report {client_cpu:.1f} s "
            f"= {server_cpu + client_cpu:.1f} s (what the wall time approaches on an idle machine)"
        )
        print(f"target < 30 s: {'OK' if report_s < 30 else 'MISSED'}")
    return 0 if report_s < 30 else 1


if __name__ == "__main__":
    sys.exit(main())
