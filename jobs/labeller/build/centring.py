"""The published centring, built from the stored mentions (``ecoute models centring``, the
``ecoute_labeller_centring`` DAG): what the enrichment job centres embeddings on (jobs.labeller.centring).

Per language, the sum and count of the query-form embeddings of the distinct texts of the mentions
created in the last ``days`` days (the newest ``max_per_lang`` of each language), as the labeller
encodes them: the same preparation, the stored language. A function of what is stored, not of the
order texts arrived in: rebuilt from the same mentions it gives the same version, and a replay or a
second node cannot count a text twice. Texts the enrichment encoded on this machine are in the
embedding cache, so a refresh mostly reads; a cold cache costs one encoding per text.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import TYPE_CHECKING, Any

import numpy as np

from jobs.labeller.centring import ARTEFACT_GLOB, CentringStats

if TYPE_CHECKING:
    from ecoute.settings import Settings

log = logging.getLogger(__name__)

WINDOW_DAYS = 30.0
MAX_PER_LANG = 10_000  # the mean of 10,000 texts moves by < 1 % of its length when one more is added
KEEP = 5  # published versions kept (the older ones are deleted): a run can still be explained
ENCODE_CHUNK = 512


def centring_inputs(texts: Iterable[tuple[Any, str | None]], max_per_lang: int = MAX_PER_LANG) -> dict[str, list[str]]:
    """Per language, the distinct encoder inputs of (text, lang) pairs given newest first, at most
    ``max_per_lang`` each, sorted (so the sums do not depend on the order they were read in)."""
    from jobs.labeller.encoder import encoder_input
    from jobs.labeller.text import prepare

    chosen: dict[str, dict[str, None]] = {}
    for text, lang in texts:
        if not isinstance(text, str) or not lang or lang == "und":
            continue
        doc = prepare(text)
        if doc.n_letters < 2:  # not encoded by the labeller either (decide_batch)
            continue
        inputs = chosen.setdefault(lang, {})
        if len(inputs) < max_per_lang:
            inputs[encoder_input(doc.raw)] = None
    return {lang: sorted(inputs) for lang, inputs in sorted(chosen.items())}


def centring_stats(inputs: Mapping[str, Sequence[str]], meta: dict[str, Any]) -> CentringStats:
    """Sum and count the query-form embeddings of each language's inputs."""
    from jobs.labeller.encoder import embed

    sums: dict[str, np.ndarray] = {}
    counts: dict[str, float] = {}
    for lang, texts in inputs.items():
        if not texts:
            continue
        parts = (
            embed(list(texts[start : start + ENCODE_CHUNK]), query=True).astype(np.float64).sum(axis=0)
            for start in range(0, len(texts), ENCODE_CHUNK)
        )
        sums[lang], counts[lang] = reduce(operator.add, parts), float(len(texts))
    return CentringStats.build(sums, counts, {**meta, "texts": {k: int(v) for k, v in counts.items()}})


def stored_texts(settings: Settings, since: datetime, until: datetime) -> list[tuple[Any, str | None]]:
    """(text, lang) of the mentions created in [since, until), newest first."""
    from ecoute.es import make_client, scan_docs
    from ecoute.events import to_rfc3339

    client = make_client(settings)
    try:
        if not client.indices.exists_alias(name=settings.indices.mentions):
            return []
        query = {"range": {"created_at": {"gte": to_rfc3339(since), "lt": to_rfc3339(until)}}}
        docs = list(scan_docs(client, settings.indices.mentions, query, ["text", "lang", "created_at"]))
    finally:
        client.close()
    docs.sort(key=lambda d: (str(d.get("created_at") or ""), str(d.get("_id"))), reverse=True)
    return [(d.get("text"), d.get("lang")) for d in docs]


def refresh_centring(
    settings: Settings,
    *,
    days: float = WINDOW_DAYS,
    max_per_lang: int = MAX_PER_LANG,
    now: datetime | None = None,
    keep: int = KEEP,
) -> CentringStats | None:
    """Build the centring of the last ``days`` days of stored mentions and publish it (None: no text)."""
    from jobs.labeller import LABELLER_VERSION, encoder
    from jobs.labeller.config import LabellerConfig
    from jobs.labeller.heads import newest_model

    config = LabellerConfig.from_settings(settings, centring="own")
    encoder.use_disk_cache(config.embed_cache)
    until = now or datetime.now(UTC)
    since = until - timedelta(days=days)
    texts = stored_texts(settings, since, until)
    inputs = centring_inputs(texts, max_per_lang)
    if not any(inputs.values()):
        log.info("no labelled text in %s since %s: no centring published", settings.indices.mentions, since)
        return None
    model = newest_model(config.state_dir)
    meta = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "encoder": model.meta.get("encoder"),
        "model_version": model.version,
        "labeller_version": LABELLER_VERSION,
        "source": settings.indices.mentions,
        "window": {
            "from": since.isoformat(timespec="seconds"),
            "to": until.isoformat(timespec="seconds"),
            "days": days,
        },
        "mentions_read": len(texts),
        "max_per_lang": max_per_lang,
    }
    stats = centring_stats(inputs, meta)
    path = stats.save(config.centring_dir)
    prune(config.centring_dir, keep)
    log.info("centring %s published (%s): %s", stats.version, path, stats.meta["texts"])
    return stats


def prune(directory: Any, keep: int) -> list[Any]:
    """Delete all but the ``keep`` newest published centrings; returns the deleted paths."""
    found = []
    for path in directory.glob(ARTEFACT_GLOB):
        try:
            found.append((str(CentringStats.load(path).meta.get("created_at", "")), path))
        except Exception:
            found.append(("", path))
    found.sort(reverse=True)
    stale = [path for _, path in found[keep:]]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
