"""Automated moderation rules: conditions on a mention → actions (hide, assign, tag, notify).

Conditions (all must hold; at least one is required): toxic categories (any of), a minimum toxic
score, keywords (any, whole words, case and accents ignored), contains a link, first-time author,
language (any of), page (any of). A dry run replays a rule over the last 30 days of data and says
what it would have done; nothing is changed. Per-rule counts and the reversal rate (how often a
person undid what the rule did) come from the audit index.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import threading
import unicodedata
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import orjson
from elasticsearch import ApiError

from ecoute.es import scan_docs
from ecoute.feedback import TOXIC_CATEGORIES
from ecoute.safe_text import header_safe
from ecoute.views.common import NOT_BRAND, author_label, iso
from ecoute.views.queues import authors_seen_before
from inbox import actions, cache
from inbox.store import now_iso

log = logging.getLogger(__name__)
CATEGORIES = TOXIC_CATEGORIES
RULE_ACTIONS = ("hide", "assign", "tag", "notify")
EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+")
LINK = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
FIELDS = [
    "id",
    "source",
    "kind",
    "channel",
    "author",
    "text",
    "created_at",
    "lang",
    "toxic",
    "toxic_score",
    "toxic_categories",
    "handled",
]
SAMPLE_SIZE = 50
log = logging.getLogger(__name__)
DRY_RUN_KEEP_S = 120


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def _split(value: Any) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", str(value or "")) if part.strip()]


def rule_from_form(form: Any, who: str) -> dict[str, Any]:
    """A rule from the rules page's form; ValueError says what is missing."""
    name = str(form.get("name") or "").strip()
    if not name:
        raise ValueError("rule_needs_name")
    score = str(form.get("min_toxic_score") or "").strip().replace(",", ".")
    try:
        minimum = float(score) if score else None
    except ValueError:
        raise ValueError("rule_score_invalid") from None
    conditions = {
        "toxic_categories": [c for c in form.getlist("toxic_categories") if c in CATEGORIES],
        "min_toxic_score": minimum,
        "keywords": _split(form.get("keywords")),
        "has_link": form.get("has_link") == "on" or None,
        "first_time": form.get("first_time") == "on" or None,
        "lang": _split(form.get("lang")),
        "channel": _split(form.get("channel")),
    }
    conditions = {k: v for k, v in conditions.items() if v not in (None, [])}
    if not conditions:
        raise ValueError("rule_needs_condition")
    chosen = [a for a in form.getlist("actions") if a in RULE_ACTIONS]
    if not chosen:
        raise ValueError("rule_needs_action")
    rule = {
        "id": uuid.uuid4().hex[:12],
        "name": name,
        "enabled": False,
        "created_by": who,
        "created_at": now_iso(),
        "conditions": conditions,
        "actions": chosen,
        "assign_to": str(form.get("assign_to") or "").strip() or None,
        "tag": str(form.get("tag") or "").strip() or None,
        "notify": str(form.get("notify") or "").strip() or None,
    }
    for action, field in (("assign", "assign_to"), ("tag", "tag"), ("notify", "notify")):
        if action in chosen and not rule[field]:
            raise ValueError(f"rule_{action}_needs_{field}")
    notify = rule["notify"]
    if isinstance(notify, str) and not all(EMAIL.fullmatch(a.strip()) for a in notify.split(",")):
        raise ValueError("rule_notify_invalid", "notify takes email addresses, separated by commas")
    return rule


def matches(rule: dict[str, Any], doc: dict[str, Any], first_time: bool) -> bool:
    conditions = rule.get("conditions") or {}
    if not conditions:
        return False
    categories = conditions.get("toxic_categories")
    if categories and not set(categories) & set(doc.get("toxic_categories") or []):
        return False
    minimum = conditions.get("min_toxic_score")
    if minimum is not None and float(doc.get("toxic_score") or 0.0) < float(minimum):
        return False
    text = _fold(doc.get("text") or "")
    keywords = conditions.get("keywords")
    if keywords and not any(re.search(rf"\b{re.escape(_fold(k))}\b", text) for k in keywords):
        return False
    if conditions.get("has_link") and not LINK.search(doc.get("text") or ""):
        return False
    if conditions.get("first_time") and not first_time:
        return False
    if conditions.get("lang") and doc.get("lang") not in conditions["lang"]:
        return False
    return not (conditions.get("channel") and doc.get("channel") not in conditions["channel"])


def _candidates(services: Any, start: datetime, end: datetime, unhandled_only: bool) -> tuple[list[dict], set[str]]:
    """People's items in [start, end), oldest first, and the ids that are their author's first item ever."""
    settings, client = services.settings, services.store.client
    must_not: list[dict[str, Any]] = [NOT_BRAND]
    if unhandled_only:
        must_not.append({"term": {"handled": True}})
    query = {"bool": {"filter": [{"range": {"created_at": {"gte": iso(start), "lt": iso(end)}}}], "must_not": must_not}}
    try:
        docs = sorted(
            scan_docs(client, settings.indices.mentions, query, FIELDS), key=lambda d: d.get("created_at") or ""
        )
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
        return [], set()
    authors = {author for d in docs if (author := (d.get("author") or {}).get("id"))}
    returning = authors_seen_before(client, settings, sorted(authors), start)
    first_ids: set[str] = set()
    seen: set[str] = set(returning)
    for doc in docs:
        author = (doc.get("author") or {}).get("id")
        if author and author not in seen:
            seen.add(author)
            first_ids.add(doc["id"])
    return docs, first_ids


def _data_end(services: Any) -> datetime:
    from inbox.views import latest_day

    now = datetime.now(UTC)
    day = latest_day(services)
    if day is None:
        return now
    return min(now, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC))


_window_lock = threading.Lock()
# Past this many mentions in the window, a rule's own read pages through them (a scroll).
ONE_READ = 10_000


def pushed_filters(conditions: dict[str, Any]) -> list[dict[str, Any]]:
    """The rule's conditions Elasticsearch can test, as filters that keep at least every mention
    ``matches`` keeps (it still decides on what they let through). Keywords, links and first-time
    authors are tested here only: analysers do not fold and split words exactly as ``_fold`` does."""
    filters: list[dict[str, Any]] = []
    if conditions.get("toxic_categories"):
        filters.append({"terms": {"toxic_categories": list(conditions["toxic_categories"])}})
    minimum = conditions.get("min_toxic_score")
    if minimum is not None and float(minimum) > 0:  # a mention without a score counts as 0 here
        # toxic_score is a float32 field: 0.7 is stored as 0.69999999, which must still pass
        filters.append({"range": {"toxic_score": {"gte": float(minimum) - 1e-6}}})
    for field in ("lang", "channel"):
        if conditions.get(field):
            filters.append({"terms": {field: list(conditions[field])}})
    return filters


def dry_run_window(services: Any, days: int = 30) -> tuple[datetime, datetime, list[dict], set[str]]:
    """The last ``days`` days of people's mentions (ending at the newest one) and who wrote first
    there. Kept a couple of minutes: the dry runs of one editing session (save, look, change, look
    again) read them once; one reading at a time (a warm-up in progress is waited for)."""
    start, end = _window(services, days)
    with _window_lock:
        docs, first_ids = cache.cached(
            _window_key(services, start, end),
            DRY_RUN_KEEP_S,
            lambda: _candidates(services, start, end, unhandled_only=False),
        )
    return start, end, docs, first_ids


def _window(services: Any, days: int) -> tuple[datetime, datetime]:
    end = _data_end(services)
    return end - timedelta(days=days), end


def _window_key(services: Any, start: datetime, end: datetime) -> tuple[str, ...]:
    return ("dry-run", services.settings.indices.mentions, iso(start), iso(end))


def _rule_window(
    services: Any, rule: dict[str, Any], days: int
) -> tuple[datetime, datetime, list[dict], set[str], int]:
    """What a dry run tests: the window kept (the rules page read it, or a dry run did), else only
    what the rule's filters let through, in one search (first-time authors need the whole window:
    who wrote first is decided over every item). Also how many mentions the window holds."""
    start, end = _window(services, days)
    conditions = rule.get("conditions") or {}
    with _window_lock:
        kept = cache.peek(_window_key(services, start, end), DRY_RUN_KEEP_S)
    if kept is not None or conditions.get("first_time"):
        start, end, docs, first_ids = dry_run_window(services, days)
        return start, end, docs, first_ids, len(docs)
    filters = pushed_filters(conditions)
    key = (*_window_key(services, start, end), orjson.dumps(filters, option=orjson.OPT_SORT_KEYS))
    docs, scanned = cache.cached(key, DRY_RUN_KEEP_S, lambda: _read_window(services, start, end, filters))
    return start, end, docs, set(), scanned


def _read_window(
    services: Any, start: datetime, end: datetime, filters: list[dict[str, Any]]
) -> tuple[list[dict], int]:
    """People's mentions in [start, end) that pass ``filters``, oldest first, and how many mentions
    the window holds (the filters are a post filter: the count is the window's, from the same search)."""
    settings, client = services.settings, services.store.client
    window = {
        "bool": {"filter": [{"range": {"created_at": {"gte": iso(start), "lt": iso(end)}}}], "must_not": [NOT_BRAND]}
    }
    narrowed = {"bool": {"filter": [window, *filters]}}
    try:
        response = client.search(
            index=settings.indices.mentions,
            query=window,
            post_filter={"bool": {"filter": filters}},
            size=ONE_READ,
            source=FIELDS,
            track_total_hits=True,
            aggs={"window": {"filter": {"match_all": {}}}},
        )
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
        return [], 0
    hits = response["hits"]["hits"]
    scanned = int(response["aggregations"]["window"]["doc_count"])
    if int(response["hits"]["total"]["value"]) > len(hits):
        docs = list(scan_docs(client, settings.indices.mentions, narrowed, FIELDS))
    else:
        docs = [dict(hit["_source"], _id=hit["_id"], _index=hit["_index"]) for hit in hits]
    return sorted(docs, key=lambda d: d.get("created_at") or ""), scanned


def warm_dry_run_window(services: Any) -> None:
    """Read the dry run's window in the background (the rules page is opened: a dry run follows)."""

    def warm() -> None:
        try:
            dry_run_window(services)
        except Exception:  # a warm-up only saves time; the dry run itself reports any error
            log.debug("dry-run warm-up failed", exc_info=True)

    if not _window_lock.locked():
        threading.Thread(target=warm, name="dry-run-warm-up", daemon=True).start()


def dry_run(
    services: Any, rule: dict[str, Any], days: int = 30, who: str = "system", record: bool = True
) -> dict[str, Any]:
    """What the rule would have done on the last ``days`` days of data (ending at the newest mention).
    ``record``: the run goes to the audit (the page that shows it again on a reload records nothing)."""
    start, end, docs, first_ids, scanned = _rule_window(services, rule, days)
    hits = [doc for doc in docs if matches(rule, doc, doc["id"] in first_ids)]
    per_day = Counter(doc["created_at"][:10] for doc in hits)
    sample = [
        {
            "id": d["id"],
            "created_at": d.get("created_at"),
            "text": d.get("text") or "",
            "channel": d.get("channel"),
            "author": author_label(d, services.settings),
            "author_id": (d.get("author") or {}).get("id"),
            "toxic_categories": d.get("toxic_categories") or [],
            "toxic_score": d.get("toxic_score"),
        }
        for d in reversed(hits[-SAMPLE_SIZE:])
    ]
    result = {
        "rule_id": rule["id"],
        "start": iso(start),
        "end": iso(end),
        "scanned": scanned,
        "matched": len(hits),
        "actions": {action: len(hits) for action in rule.get("actions") or []},
        "per_day": sorted(per_day.items()),
        "sample": sample,
    }
    if not record:
        return result
    services.store.audit(
        {
            "kind": "rule",
            "action": "dry_run",
            "status": "done",
            "dry_run": True,
            "rule_id": rule["id"],
            "who": who,
            "text": f"{len(hits)} of {scanned} mentions from {result['start']} to {result['end']}",
            "platform_response": {
                "matched": len(hits),
                "scanned": scanned,
                "start": result["start"],
                "end": result["end"],
            },
        }
    )
    return result


def apply(services: Any, rule: dict[str, Any], user: dict[str, Any], hours: int = 24) -> dict[str, Any]:
    """Run the rule for real on the last ``hours`` of not-yet-handled mentions."""
    end = datetime.now(UTC)
    docs, first_ids = _candidates(services, end - timedelta(hours=hours), end, unhandled_only=True)
    hits = [doc for doc in docs if matches(rule, doc, doc["id"] in first_ids)]
    failed = 0
    actor = {"username": f"rule:{rule['id']}", "role": "moderator"}
    for doc in hits:
        if "hide" in rule["actions"]:
            record = actions.act(
                services, actor, doc["id"], "hide", reason=f"{rule['name']} ({user['username']})", rule_id=rule["id"]
            )
            failed += record["status"] != "done"
        if "assign" in rule["actions"] or "tag" in rule["actions"]:
            item = services.store.item(doc["id"])
            if "assign" in rule["actions"]:
                item.update(
                    {"assigned_to": rule["assign_to"], "assigned_by": actor["username"], "assigned_at": now_iso()}
                )
            if "tag" in rule["actions"] and rule["tag"] not in item.setdefault("tags", []):
                item["tags"].append(rule["tag"])
            services.store.save_item(item)
    if hits:
        cache.invalidate()  # tags and assignments changed
    if hits and "notify" in rule["actions"]:
        failed += not _notify(services, rule, hits)
    services.store.audit(
        {
            "kind": "rule",
            "action": "apply",
            "status": "done" if not failed else "failed",
            "rule_id": rule["id"],
            "who": user["username"],
            "text": f"{len(hits)} matched, {failed} failed",
            "platform_response": {"matched": len(hits), "failed": failed},
        }
    )
    return {"matched": len(hits), "failed": failed}


def run_enabled(services: Any, hours: int = 1, who: str = "scheduler") -> dict[str, dict[str, Any]]:
    """Apply every enabled rule to the last ``hours`` (`ecoute inbox rules-run`, e.g. every 15 minutes
    with --hours 1: items already handled are skipped, so overlapping windows do not act twice).

    Per rule id: its name and counts, or its name and ``error`` when it could not run: one broken
    rule is reported (and audited) and skipped, the rules after it still run."""
    results: dict[str, dict[str, Any]] = {}
    for rule in services.store.rules():
        if not rule.get("enabled"):
            continue
        name = str(rule.get("name") or rule.get("id"))
        try:
            results[rule["id"]] = {
                "name": name,
                **apply(services, rule, {"username": who, "role": "admin"}, hours=hours),
            }
        except Exception as exc:  # reported per rule: the next rules must still run
            log.exception("rule %s could not run", rule.get("id"))
            error = f"{type(exc).__name__}: {exc}"[:500]
            results[rule["id"]] = {"name": name, "error": error}
            with contextlib.suppress(Exception):
                services.store.audit(
                    {
                        "kind": "rule",
                        "action": "apply",
                        "status": "failed",
                        "rule_id": rule["id"],
                        "who": who,
                        "text": error,
                    }
                )
    return results


def _notify(services: Any, rule: dict[str, Any], hits: list[dict[str, Any]]) -> bool:
    smtp = services.settings.smtp
    base = services.settings.inbox.url.rstrip("/")
    try:
        message = EmailMessage()
        message["Subject"] = header_safe(f"Écoute — {rule['name']}: {len(hits)}")  # names may hold line breaks
        message["From"] = smtp.sender
        message["To"] = header_safe(rule["notify"])
        message.set_content("\n".join(f"{base}/threads/{quote(doc['id'], safe=':')}" for doc in hits[:100]))
        with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.username and smtp.password:
                client.login(smtp.username, smtp.password.get_secret_value())
            client.send_message(message)
    except (OSError, ValueError, smtplib.SMTPException) as exc:
        log.warning("rule %s: notify email to %r not sent: %s", rule.get("id"), rule.get("notify"), exc)
        return False
    return True


def rule_counts(services: Any, rule_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per rule: actions done, undone by a person, reversal rate, dry runs."""
    counts: dict[str, dict[str, Any]] = {
        rid: {"done": 0, "undone": 0, "failed": 0, "dry_runs": 0, "reversal_rate": None} for rid in rule_ids
    }
    if not rule_ids:
        return counts
    for record in services.store.audit_records({"terms": {"rule_id": rule_ids}}, size=10_000):
        entry = counts.get(record.get("rule_id"))
        if entry is None:
            continue
        if record.get("kind") == "rule":
            entry["dry_runs"] += record.get("action") == "dry_run"
        elif record.get("status") in ("done", "undone"):
            entry["done"] += 1
            entry["undone"] += record["status"] == "undone"
        elif record.get("status") == "failed":
            entry["failed"] += 1
    for entry in counts.values():
        if entry["done"]:
            entry["reversal_rate"] = round(entry["undone"] / entry["done"], 3)
    return counts
