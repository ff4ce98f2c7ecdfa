"""Whether one stored document matches a queue's query, without asking Elasticsearch: the inbox
uses it to put a mention back into a kept queue after an action here (a reopened item, a label
corrected), instead of reading the whole queue again.

Only the clauses the queues build are understood (bool, term, terms, range, exists,
constant_score, match_all); any other raises ``Unsupported``, so a caller falls back to a read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class Unsupported(ValueError):
    """A clause this module does not evaluate."""


def _values(doc: dict[str, Any], field: str) -> list[Any]:
    value: Any = doc
    for part in field.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        else:
            return []
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(stored, bool):
        return str(stored).lower() == str(wanted).lower()  # a boolean field takes true or "true"
    if isinstance(wanted, int | float) and not isinstance(stored, str):
        return float(stored) == float(wanted)
    return str(stored) == str(wanted)


def _moment(value: Any) -> datetime | float:
    if isinstance(value, int | float):
        return float(value)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _in_range(stored: Any, bounds: dict[str, Any]) -> bool:
    is_number = isinstance(stored, int | float) and not isinstance(stored, bool)
    value = float(stored) if is_number else _moment(stored)
    for op, bound in bounds.items():
        limit = float(bound) if is_number else _moment(bound)
        if op == "gte" and not value >= limit:  # type: ignore[operator]
            return False
        if op == "gt" and not value > limit:  # type: ignore[operator]
            return False
        if op == "lte" and not value <= limit:  # type: ignore[operator]
            return False
        if op == "lt" and not value < limit:  # type: ignore[operator]
            return False
        if op not in ("gte", "gt", "lte", "lt"):
            raise Unsupported(f"range {op}")
    return True


def matches_query(doc: dict[str, Any], query: dict[str, Any] | None) -> bool:
    """Whether ``doc`` (a ``_source``) matches ``query`` as Elasticsearch would decide it."""
    if not query:
        return True
    (kind, body), *rest = query.items()
    if rest:
        raise Unsupported(f"several clauses in one: {list(query)}")
    if kind == "match_all":
        return True
    if kind == "bool":
        return _bool(doc, body)
    if kind == "constant_score":
        return matches_query(doc, body["filter"])
    (field, wanted), *others = body.items()
    if others:
        raise Unsupported(f"{kind} on several fields")
    values = _values(doc, field)
    if kind == "term":
        wanted = wanted.get("value") if isinstance(wanted, dict) else wanted
        return any(_same(v, wanted) for v in values)
    if kind == "terms":
        return any(_same(v, w) for v in values for w in wanted)
    if kind == "range":
        return any(_in_range(v, wanted) for v in values)
    if kind == "exists":
        return bool(_values(doc, str(wanted)))
    raise Unsupported(kind)


def _bool(doc: dict[str, Any], body: dict[str, Any]) -> bool:
    unknown = set(body) - {"filter", "must", "must_not", "should", "minimum_should_match", "boost"}
    if unknown:
        raise Unsupported(f"bool {sorted(unknown)}")

    def clauses(name: str) -> list[dict[str, Any]]:
        value = body.get(name) or []
        return value if isinstance(value, list) else [value]

    if not all(matches_query(doc, q) for q in clauses("filter") + clauses("must")):
        return False
    if any(matches_query(doc, q) for q in clauses("must_not")):
        return False
    should = clauses("should")
    if not should:
        return True
    # as Elasticsearch: with no filter/must, at least one should clause; else none required
    default = 0 if clauses("filter") or clauses("must") else 1
    needed = int(body.get("minimum_should_match", default))
    return sum(matches_query(doc, q) for q in should) >= needed
