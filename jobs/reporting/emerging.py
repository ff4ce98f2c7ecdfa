"""Emerging topics: what are people complaining about today?

Cluster the day's negative mentions by meaning (multilingual USE embeddings, so "colis jamais reçu"
and "parcel never arrived" meet), then name each cluster with its most distinctive words (class-based
TF-IDF against the other clusters and, when given, a baseline of earlier days), the taxonomy topic
most of its texts carry, and the texts closest to its centre.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jobs.labeller.text import prepare

STOPWORDS_FR = {
    line.strip()
    for line in (Path(__file__).resolve().parent / "resources" / "stopwords_fr.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
}
TOKEN_RE = re.compile(r"[a-z][a-z0-9'-]{2,}")


def _tokens(folded: str, stop: set[str]) -> list[str]:
    toks = [t.strip("'-") for t in TOKEN_RE.findall(folded)]
    toks = [t for t in toks if len(t) > 2 and t not in stop]
    bigrams = [f"{a} {b}" for a, b in itertools.pairwise(toks)]
    return toks + bigrams


def emerging_topics(
    texts: Sequence[str],
    *,
    min_cluster_size: int = 3,
    max_topics: int = 8,
    distance_threshold: float = 0.7,
    baseline: Sequence[str] | None = None,
    max_texts: int = 3000,
    examples: int = 3,
) -> list[dict[str, Any]]:
    """Group texts (e.g. today's negative mentions) into named clusters, biggest first.

    Each result: label (readable, e.g. "livraison · retard · colis"), keywords, topic (taxonomy id
    most texts carry, or None), size, share (of the texts), indices (into `texts`), examples, and —
    when `baseline` (earlier days' texts) is given — baseline_share and new (the subject was rare before).
    """
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from jobs.labeller import get_labeller
    from jobs.reporting.use_encoder import encode

    docs = [prepare(t) for t in texts]
    keep = [i for i, d in enumerate(docs) if d.n_letters >= 3][:max_texts]
    if len(keep) < min_cluster_size:
        return []
    emb = encode([docs[i].clean for i in keep])
    if len(keep) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        clustering = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold
        )
        labels = clustering.fit_predict(emb)
    stop = STOPWORDS_FR | set(ENGLISH_STOP_WORDS)
    counts = Counter(labels.tolist())
    clusters = [c for c, n in counts.most_common() if n >= min_cluster_size][:max_topics]
    if not clusters:
        return []

    # class-based TF-IDF: words frequent in this cluster and rare in the others (and in the baseline)
    cluster_terms: dict[int, Counter[str]] = {c: Counter() for c in set(labels.tolist())}
    for row, i in enumerate(keep):
        cluster_terms[int(labels[row])].update(set(_tokens(docs[i].folded, stop)))
    doc_freq: Counter[str] = Counter()
    for terms in cluster_terms.values():
        doc_freq.update(terms)
    base_freq: Counter[str] = Counter()
    base_docs = [prepare(t) for t in (baseline or [])][:max_texts]
    for d in base_docs:
        base_freq.update(set(_tokens(d.folded, stop)))
    n_total = len(keep) + len(base_docs)

    lab = get_labeller()
    from jobs.labeller.topics import decide, keyword_scores

    topic_lists = [decide(lab.taxonomy, s) for s in keyword_scores(lab.taxonomy, [docs[i].folded for i in keep])]
    base_emb = encode([d.clean for d in base_docs]) if base_docs else None

    results: list[dict[str, Any]] = []
    for c in clusters:
        rows = np.flatnonzero(labels == c)
        size = len(rows)
        terms = cluster_terms[c]
        scored = []
        for term, tf in terms.items():
            if tf < max(2, math.ceil(size * 0.2)):
                continue
            idf = math.log(1 + n_total / (doc_freq[term] + base_freq[term]))
            bonus = 1.15 if " " in term else 1.0  # prefer "colis perdu" to "colis" when as frequent
            scored.append((tf / size * idf * bonus, term))
        scored.sort(reverse=True)
        keywords: list[str] = []
        for _, term in scored:
            # skip a word already inside a chosen bigram (or a bigram made of chosen words)
            if any(term in k.split(" ") or k in term.split(" ") for k in keywords if k != term):
                continue
            keywords.append(term)
            if len(keywords) == 4:
                break
        centre = emb[rows].mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-8)
        closest = rows[np.argsort(-(emb[rows] @ centre))][:examples]
        topic_votes = Counter(t for r in rows for t in topic_lists[r] if t != lab.taxonomy.fallback)
        topic = topic_votes.most_common(1)[0][0] if topic_votes else None
        words = " · ".join(keywords[:3])
        if topic and words:
            label = f"{lab.taxonomy.topics[topic].label_fr} : {words}"
        elif topic or words:
            label = lab.taxonomy.topics[topic].label_fr if topic else words
        else:
            label = docs[keep[closest[0]]].clean[:60]
        item: dict[str, Any] = {
            "label": label,
            "keywords": keywords,
            "topic": topic,
            "size": size,
            "share": round(size / len(keep), 4),
            "indices": [keep[r] for r in rows],
            "examples": [texts[keep[r]] for r in closest],
        }
        if base_emb is not None:
            near = float(np.mean(base_emb @ centre >= 1 - distance_threshold))
            item["baseline_share"] = round(near, 4)
            item["new"] = near < 0.5 * item["share"]
        results.append(item)
    return results
