"""Benchmark: quality of every label on the project's evaluation sets, and `ecoute label` throughput.

Run: ``.venv/bin/python tests/benchmarks/bench_labels.py [--docs 20000] [--json out.json]``.

Quality (held-out files of tests/labeller/eval/, never tuned on; dev files shown for reference):
  lang accuracy (short noisy social texts), sentiment macro-F1 per language, toxic / criticism /
  constructive precision-recall-F1, topics micro-F1.
Throughput: `ecoute label` as a user runs it (JSON Lines through stdin/stdout), pinned to one core
(taskset) with one BLAS thread, all labels on. Reported as docs per CPU-second of the process
(robust on a shared machine; on an idle core it equals docs per second) and end-to-end wall
clock; model loading is measured separately and excluded from the steady-state figure. Targets: lang ≥ 0.97, sentiment macro-F1 ≥ 0.70 (fr, en),
≥ 2,000 docs/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from jobs.labeller import LABELLER_VERSION, get_labeller  # noqa: E402
from jobs.labeller.evaluation import evaluate_labelled, evaluate_lang, load_labelled, load_lang  # noqa: E402
from jobs.labeller.text import prepare  # noqa: E402

DECORATIONS = [
    "",
    "",
    "",
    " !",
    " !!",
    " 🙏",
    "…",
    " @MarqueFR",
    " merci",
    " #promo",
    " svp",
    " 😡",
    " 😍",
    " https://t.co/x1",
    " ?",
    " lol",
    " 😂",
    " vraiment",
    " franchement",
    " !!!",
    " 👍",
    " #service",
    " please",
]
OPENERS = [
    "",
    "",
    "",
    "",
    "Bonjour, ",
    "Hello ",
    "Re, ",
    "Franchement, ",
    "Bon, ",
    "Alors ",
    "Honnêtement, ",
    "@Léa ",
    "Hi, ",
    "Bref, ",
    "Sérieux, ",
    "Petit message : ",
    "Ok ",
    "Perso, ",
    "Moi : ",
    "Update: ",
]


def corpus(n: int, seed: int = 7) -> list[dict]:
    """A realistic stream: the evaluation texts (FR-heavy, as on the page) with openers and social
    noise so that most texts are distinct (as in a real stream: only short reactions repeat), and
    long comments mixed in."""
    texts = [
        it.text for name in ("fr_test.tsv", "fr_dev.tsv", "en_test.tsv", "xx_test.tsv") for it in load_labelled(name)
    ]
    texts += [t for _, t in load_lang("lang_test.tsv")]
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        text = rng.choice(OPENERS) + rng.choice(texts) + rng.choice(DECORATIONS)
        if rng.random() < 0.03:  # a long comment now and then
            text = " ".join(rng.choice(texts) for _ in range(rng.randint(4, 12)))
        rows.append({"id": f"bench:{i}", "text": text, "source": "facebook", "kind": "comment"})
    return rows


def run_cli(path: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, output lines) of `ecoute label < path` on one core."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [str(Path(sys.executable).with_name("ecoute")), "label", "--batch-size", "2000"]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with path.open("rb") as stdin:
        proc = subprocess.run(cmd, stdin=stdin, capture_output=True, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout.count(b"\n")


def fmt_prf(d: dict) -> str:
    return f"P {d['precision']:.3f}  R {d['recall']:.3f}  F1 {d['f1']:.3f}  (n+ = {d['support']})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000, help="documents for the throughput run")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()

    lab = get_labeller()
    report: dict = {"labeller_version": LABELLER_VERSION}
    print(f"Écoute labeller {LABELLER_VERSION} — quality on the project's evaluation sets (tests/labeller/eval)")
    print("=" * 100)
    for name in ("lang_test.tsv", "lang_dev.tsv"):
        r = evaluate_lang(lab, load_lang(name))
        report[name] = {k: v for k, v in r.items() if k != "errors"}
        tag = "HELD-OUT" if "test" in name else "dev"
        print(f"lang  {name:<14} {tag:<8} accuracy {r['accuracy']:.3f}  (n={r['n']})  per language: {r['by_lang']}")
    print("-" * 100)
    for name in ("fr_test.tsv", "en_test.tsv", "xx_test.tsv", "fr_dev.tsv", "en_dev.tsv", "toxic_dev.tsv"):
        r = evaluate_labelled(lab, load_labelled(name))
        r.pop("_cols")
        report[name] = r
        tag = "HELD-OUT" if "test" in name else "dev"
        print(f"{name} ({tag}, n={r['n']})")
        for lang, v in r["by_lang"].items():
            print(
                f"  sentiment [{lang}] macro-F1 {v['sentiment_macro_f1']:.3f}  accuracy {v['sentiment_accuracy']:.3f}"
                f"  (n={v['n']}; lang accuracy {v['lang_accuracy']:.3f})"
            )
        print(f"  toxic        {fmt_prf(r['toxic'])}")
        print(f"  criticism    {fmt_prf(r['criticism'])}")
        print(f"  constructive {fmt_prf(r['constructive'])}")
        t = r["topics_micro"]
        print(f"  topics       micro P {t['precision']:.3f}  R {t['recall']:.3f}  F1 {t['f1']:.3f}")
    demo = ROOT / "infra" / "demo"
    if (demo / "ground_truth_labels.jsonl.gz").exists():
        # The demo's synthetic month (infra/demo, written by the demo's generator, not by the labeller's
        # authors): a second opinion. Its labels follow the generator's intents ("+1" under a complaint
        # counts as critical, emoji are "zxx"), so figures are lower-bounded by definition mismatch.
        import gzip

        from jobs.labeller.evaluation import prf

        with gzip.open(demo / "ecoute-demo-2026-10.jsonl.gz") as fh:
            events = {(e["source"], e["native_id"]): e for e in map(json.loads, fh)}
        with gzip.open(demo / "ground_truth_labels.jsonl.gz") as fh:
            truth = [json.loads(line) for line in fh]
        pairs = [(t, events[(t["source"], t["native_id"])]) for t in truth if (t["source"], t["native_id"]) in events]
        cols = lab.label_columns(
            [e["text"] for _, e in pairs], is_brand=[bool(e.get("author_is_brand")) for _, e in pairs]
        )
        member = [i for i, (t, _) in enumerate(pairs) if not t["brand"]]
        report["demo"] = {}
        print("-" * 100)
        print(f"demo month (infra/demo, {len(pairs):,} events, generator's own labels — a second opinion)")
        for lang in ("fr", "en"):
            idx = [i for i in member if pairs[i][0]["lang"] == lang]
            for key, gold_key in (("criticism", "critical"), ("toxic", "toxic")):
                r = prf([bool(pairs[i][0][gold_key]) for i in idx], [cols[key][i] for i in idx])
                report["demo"][f"{lang}_{key}"] = r
                print(f"  {key:<12} [{lang}] {fmt_prf(r)}")
    if not args.skip_throughput:
        print("-" * 100)
        rows = corpus(args.docs)
        with tempfile.TemporaryDirectory() as tmp:
            big, small = Path(tmp) / "big.jsonl", Path(tmp) / "small.jsonl"
            big.write_bytes(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows))
            small.write_bytes(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows[:20]))
            wall0, cpu0, _ = run_cli(small)  # start-up: imports + model loading
            wall, cpu, n_out = run_cli(big)
        distinct = len({prepare(r["text"]).clean for r in rows}) / len(rows)
        assert n_out == len(rows), f"expected {len(rows)} output lines, got {n_out}"
        steady_cpu = len(rows) / max(cpu - cpu0, 1e-9)
        report["throughput"] = {
            "docs": len(rows),
            "distinct_texts": round(distinct, 3),
            "startup_wall_s": round(wall0, 2),
            "startup_cpu_s": round(cpu0, 2),
            "docs_per_cpu_second": round(steady_cpu),
            "end_to_end_docs_per_wall_second": round(len(rows) / wall),
            "load_average": os.getloadavg()[0],
        }
        print(
            f"ecoute label, one core, all labels on: {steady_cpu:,.0f} docs per CPU-second (steady state: {len(rows):,} docs, "
            f"{distinct:.0%} distinct, model loading excluded: {cpu0:.1f} s CPU / {wall0:.1f} s wall)\n"
            f"  end-to-end wall clock incl. start-up: {len(rows) / wall:,.0f} docs/s on this machine "
            f"(load average {os.getloadavg()[0]:.1f}: wall figures depend on what else runs)"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
