"""Topics from the analyst-editable taxonomy (schemas/taxonomy.yaml): keyword rules, plus an
embedding matcher (multilingual e5, the labeller's encoder) for texts the rules do not place — multi-label with scores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from jobs.labeller.patterns import PatternSet

TAXONOMY_PATH = Path(__file__).resolve().parents[2] / "schemas" / "taxonomy.yaml"
KEYWORD_SCORE = 0.9


class TaxonomyError(ValueError):
    """The taxonomy file is invalid (the message says where)."""


@dataclass
class Topic:
    id: str
    label_fr: str
    label_en: str
    description_fr: str
    description_en: str
    examples: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    pattern: re.Pattern[str] | None = None


@dataclass
class Taxonomy:
    topics: dict[str, Topic]
    min_score: float = 0.5
    fallback: str = "other"
    version: int = 1

    @property
    def ids(self) -> list[str]:
        return list(self.topics)


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    path = Path(path) if path else TAXONOMY_PATH
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("topics"), dict) or not data["topics"]:
        raise TaxonomyError(f"{path}: expected a mapping with a non-empty 'topics' mapping")
    topics: dict[str, Topic] = {}
    for tid, spec in data["topics"].items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(tid)):
            raise TaxonomyError(f"{path}: topic id {tid!r} must be lower_snake_case")
        if not isinstance(spec, dict):
            raise TaxonomyError(f"{path}: topic {tid!r} must be a mapping")
        missing = [k for k in ("label_fr", "label_en", "description_fr", "description_en") if not spec.get(k)]
        if missing:
            raise TaxonomyError(f"{path}: topic {tid!r} lacks {', '.join(missing)}")
        keywords = [str(k) for k in (spec.get("keywords") or [])]
        pattern = None
        if keywords:
            try:
                pattern = re.compile(r"(?<![\w'])(?:" + "|".join(f"(?:{k})" for k in keywords) + r")(?!\w)")
            except re.error as exc:
                raise TaxonomyError(f"{path}: topic {tid!r} has an invalid keyword pattern: {exc}") from exc
        topics[str(tid)] = Topic(
            id=str(tid),
            label_fr=str(spec["label_fr"]),
            label_en=str(spec["label_en"]),
            description_fr=str(spec["description_fr"]),
            description_en=str(spec["description_en"]),
            examples=[str(e) for e in (spec.get("examples") or [])],
            keywords=keywords,
            pattern=pattern,
        )
    fallback = str(data.get("fallback", "other"))
    if fallback not in topics:
        raise TaxonomyError(f"{path}: fallback topic {fallback!r} is not defined")
    return Taxonomy(topics, float(data.get("min_score", 0.5)), fallback, int(data.get("version", 1)))


def keyword_scores(taxonomy: Taxonomy, folded: Sequence[str]) -> list[dict[str, float]]:
    """Per text: topic → KEYWORD_SCORE for every topic whose keywords match."""
    topic_ids, patterns = keyword_patterns(taxonomy)
    return [{topic_ids[i]: KEYWORD_SCORE for i in patterns.matching(text)} for text in folded]


def keyword_patterns(taxonomy: Taxonomy) -> tuple[list[str], PatternSet]:
    """(topic ids, their keyword patterns as one set, in the same order)."""
    keyed = [(tid, topic.pattern) for tid, topic in taxonomy.topics.items() if topic.pattern is not None]
    return [tid for tid, _ in keyed], _pattern_set(tuple(pattern for _, pattern in keyed))


@lru_cache(maxsize=8)
def _pattern_set(patterns: tuple[re.Pattern[str], ...]) -> PatternSet:
    """One scan per text for all topics' keyword patterns (cached per taxonomy's patterns)."""
    return PatternSet(patterns)


def decide(taxonomy: Taxonomy, scores: dict[str, float]) -> list[str]:
    chosen = sorted((t for t, s in scores.items() if s >= taxonomy.min_score), key=lambda t: -scores[t])
    return chosen or [taxonomy.fallback]


class TopicEmbedder:
    """Zero/few-shot topics: cosine similarity of a text's embedding to each topic's descriptions and
    examples (multilingual, so French examples also catch English texts and vice versa)."""

    def __init__(self, taxonomy: Taxonomy, encode: Any, floor: float | None = None, full: float | None = None) -> None:
        self.floor = SIM_FLOOR if floor is None else floor
        self.full = SIM_FULL if full is None else full
        self.ids: list[str] = []
        self.owner: list[int] = []
        sentences: list[str] = []
        for tid, topic in taxonomy.topics.items():
            if tid == taxonomy.fallback:
                continue
            k = len(self.ids)
            self.ids.append(tid)
            for sentence in (topic.description_fr, topic.description_en, *topic.examples):
                sentences.append(sentence)
                self.owner.append(k)
        self.matrix = encode(sentences) if sentences else None

    def scores(self, emb: Any) -> list[dict[str, float]]:
        """Per embedding row: topic → score in 0..1 (only topics above SIM_FLOOR)."""
        import numpy as np

        if self.matrix is None or len(emb) == 0:
            return [{} for _ in range(len(emb))]
        sims = emb @ self.matrix.T  # rows are L2-normalised
        owner = np.asarray(self.owner)
        best = np.full((len(emb), len(self.ids)), -1.0, dtype=np.float32)
        for k in range(len(self.ids)):
            best[:, k] = sims[:, owner == k].max(axis=1)
        out: list[dict[str, float]] = []
        for row in best:
            # the nearest topic only: e5 similarities are compressed, the runner-up is mostly noise
            k = int(row.argmax())
            score = (float(row[k]) - self.floor) / (self.full - self.floor)
            out.append({self.ids[k]: round(min(1.0, score), 4)} if score > 0 else {})
        return out


# Cosine similarities of e5 query-form embeddings (texts and the taxonomy's sentences alike) mapped
# to a 0..1 topic score: SIM_FLOOR → 0, SIM_FULL → 1 (e5 similarities are all high: unrelated
# sentences sit near 0.8). With taxonomy min_score 0.5 a topic needs a similarity ≥
# (SIM_FLOOR + SIM_FULL) / 2 = 0.915, chosen on the project's own jobs/labeller/build/eval/{fr,en}_dev.tsv
# (there is no real labelled topic data): keywords + nearest topic micro-F1 0.759 / 0.644 (the
# passage form at 0.91: 0.755 / 0.621; keywords alone 0.763 / 0.596). docs/labels.md, *Quality*.
SIM_FLOOR = 0.895
SIM_FULL = 0.935
