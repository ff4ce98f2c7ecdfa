"""The one Elasticsearch client wrapper of Écoute, used by jobs, DAGs, the CLI and tests.

- Templates come from schemas/elasticsearch and are applied at start (``apply_templates``).
- Every write is an idempotent upsert by ``_id`` (the event id), so replays never duplicate.
- ``bulk_send`` is the one retry policy of writes: transient failures (server unreachable, 429 or
  5xx on an item) are retried with back-off until ``retry_for_s``; items refused for good come back
  with their reasons, so the caller can quarantine them: nothing is dropped silently. A client for it
  is made with ``max_retries=0`` so retries never nest (``bulk_write`` keeps its old signature).
- Queries stick to what both Elasticsearch 8/9 and the embedded noida-db answer (no percentiles,
  composite or time_zone on date_histogram): see docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, ConnectionTimeout, Elasticsearch, TransportError
from elasticsearch import ConnectionError as ESConnectionError
from elasticsearch.helpers import scan, streaming_bulk
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

import schemas
from ecoute import preflight
from ecoute.settings import Settings, get_settings

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 502, 503, 504}


def make_client(settings: Settings | None = None, *, max_retries: int = 3) -> Elasticsearch:
    """A client of the configured server; ``max_retries=0`` for callers that own their retries (bulk_send)."""
    settings = settings or get_settings()
    es = settings.es
    preflight.check("Elasticsearch", es.url, default_port=9200, hint=f"{preflight.START_HINT} or set ECOUTE_ES__URL")
    options: dict[str, Any] = {
        "request_timeout": es.request_timeout_s,
        "retry_on_timeout": max_retries > 0,
        "max_retries": max_retries,
    }
    try:  # orjson (a dependency) serialises bulk bodies ~5x faster than the standard library
        from elasticsearch.serializer import OrjsonSerializer

        options["serializer"] = OrjsonSerializer()
    except ImportError:  # pragma: no cover - orjson is pinned in the lock file
        pass
    if es.api_key:
        options["api_key"] = es.api_key.get_secret_value()
    elif es.username and es.password:
        options["basic_auth"] = (es.username, es.password.get_secret_value())
    if es.url.startswith("https"):
        options["verify_certs"] = es.verify_certs
        if es.ca_certs:
            options["ca_certs"] = str(es.ca_certs)
    return Elasticsearch(es.url, **options)


def wait_until_up(client: Elasticsearch, timeout_s: float = 60.0) -> dict[str, Any]:
    """Block until the server answers (or raise), and check the client/server major versions."""
    for attempt in Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_exponential(multiplier=0.2, max=5),
        retry=retry_if_exception_type((ESConnectionError, TransportError)),
        reraise=True,
    ):
        with attempt:
            info = client.info()
    server_major = int(info["version"]["number"].split(".")[0])
    import elasticsearch

    client_major = elasticsearch.__versionstr__.split(".")[0]
    if str(server_major) != client_major:
        raise RuntimeError(
            f"Elasticsearch server is {info['version']['number']} but the client is "
            f"{elasticsearch.__versionstr__}: install elasticsearch=={server_major}.* (the majors must match)"
        )
    return dict(info)


def apply_templates(client: Elasticsearch, settings: Settings | None = None) -> list[str]:
    """Put every index template of schemas/ and create the non-time-based indices. Idempotent."""
    settings = settings or get_settings()
    applied = []
    for name, body in schemas.index_templates().items():
        body = dict(body)
        meta = body.pop("_meta", None)
        client.indices.put_index_template(name=name, **body, meta=meta)
        applied.append(name)
    for index in (
        settings.indices.rollups_daily,
        settings.indices.alerts,
        settings.indices.quarantine,
        settings.indices.job_metrics,
        settings.indices.erasures,
        settings.indices.feedback,
    ):
        if not client.indices.exists(index=index):
            client.options(ignore_status=400).indices.create(index=index)
    return applied


def ensure_index_mapping(client: Elasticsearch, index: str, template_name: str) -> None:
    """Create ``index`` or add to its mapping the fields its template (schemas/) declares now.

    Indices are created from the template of their time; a later release may declare new fields,
    which a ``dynamic: strict`` mapping would reject. Adding fields is always allowed, so an
    upgraded deployment keeps writing to its existing indices."""
    properties = schemas.index_templates()[template_name]["template"]["mappings"]["properties"]
    if not client.indices.exists(index=index):
        client.options(ignore_status=400).indices.create(index=index)
    client.indices.put_mapping(index=index, properties=properties)


def brand_answers_index(settings: Settings) -> str:
    """Where the enrichment records brand answers, keyed by the parent's id (``ecoute-brand-answers``;
    named after the mentions index so a renamed deployment or a test keeps its own)."""
    return settings.indices.mentions.replace("mentions", "brand-answers", 1)


@dataclass
class BulkResult:
    ok: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


def _is_retryable(item: dict[str, Any]) -> bool:
    return int(item.get("status", 500)) in RETRYABLE_STATUS


class TransientWriteError(RuntimeError):
    """Some bulk items failed transiently (429/5xx): the whole remainder is retried by the policy."""


def write_retrying(retry_for_s: float, what: str = "Elasticsearch write") -> Retrying:
    """THE retry policy of writes: exponential back-off on unreachable server or transient refusals."""
    return Retrying(
        stop=stop_after_delay(retry_for_s),
        wait=wait_exponential(multiplier=0.5, max=10),
        retry=retry_if_exception_type((ESConnectionError, ConnectionTimeout, TransientWriteError)),
        before_sleep=lambda state: log.warning(
            "%s: retrying (%s)", what, state.outcome.exception() if state.outcome else None
        ),
        reraise=True,
    )


def bulk_send(
    client: Elasticsearch,
    actions: Sequence[dict[str, Any]],
    *,
    refresh: bool | str = False,
    chunk_size: int = 2000,
    retry_for_s: float = 900.0,
) -> BulkResult:
    """Send bulk actions under the one retry policy; return what Elasticsearch refused for good.

    Acknowledged items are never re-sent; what failed transiently (429/5xx, or unanswered because the
    server went away) is re-sent after a back-off, until ``retry_for_s``. Then a connection error
    raises (nothing is committed: the caller's batch is retried whole) and items still refused
    transiently are returned as failed with their reason.
    """
    result = BulkResult()
    pending = list(actions)
    transient: list[dict[str, Any]] = []
    try:
        for attempt in write_retrying(retry_for_s):
            with attempt:
                transient, unreachable, still = [], None, []
                for (success, item), action in zip(
                    streaming_bulk(
                        client,
                        pending,
                        chunk_size=chunk_size,
                        raise_on_error=False,
                        raise_on_exception=False,
                        refresh=refresh,
                        max_retries=0,
                    ),
                    pending,
                    strict=True,
                ):
                    if success:
                        result.ok += 1
                        continue
                    info = next(iter(item.values()))
                    entry = {"action": action, "status": info.get("status"), "error": info.get("error")}
                    if isinstance(info.get("exception"), ESConnectionError | ConnectionTimeout):
                        unreachable = info["exception"]
                        still.append(action)
                    elif _is_retryable(info):
                        transient.append(entry)
                        still.append(action)
                    else:
                        result.failed.append(entry)
                pending = still
                if unreachable is not None:
                    raise unreachable
                if transient:
                    raise TransientWriteError(f"{len(transient)} items refused transiently: {transient[0]['error']}")
    except TransientWriteError:
        result.failed.extend(transient)
    return result


def bulk_write(
    client: Elasticsearch,
    actions: Sequence[dict[str, Any]],
    *,
    refresh: bool | str = False,
    max_attempts: int = 5,
    chunk_size: int = 2000,
    retry_for_s: float = 300.0,
) -> BulkResult:
    """``bulk_send`` with the historical default of 300 s (``max_attempts`` is kept for callers; the
    retry policy is time-bounded)."""
    del max_attempts
    return bulk_send(client, actions, refresh=refresh, chunk_size=chunk_size, retry_for_s=retry_for_s)


def upsert_actions(
    index: str | None, docs: Iterable[dict[str, Any]], *, index_of: Callable[[dict[str, Any]], str] | None = None
) -> list[dict[str, Any]]:
    """Index actions with ``_id`` = doc["id"]; ``index_of(doc)`` picks the concrete index when given."""
    return [
        {"_op_type": "index", "_index": index_of(doc) if index_of else index, "_id": doc["id"], "_source": doc}
        for doc in docs
    ]


def scan_docs(
    client: Elasticsearch, index: str, query: dict[str, Any] | None = None, source: Any = True, size: int = 2000
) -> Iterator[dict[str, Any]]:
    """Every matching document's _source (with ``_id`` and ``_index`` added)."""
    body = {"query": query or {"match_all": {}}, "_source": source}
    for hit in scan(client, index=index, query=body, size=size, preserve_order=False):
        doc = hit.get("_source", {})
        doc["_id"] = hit["_id"]
        doc["_index"] = hit["_index"]
        yield doc


def count(client: Elasticsearch, index: str, query: dict[str, Any] | None = None) -> int:
    try:
        return int(client.count(index=index, query=query or {"match_all": {}})["count"])
    except ApiError as exc:
        if exc.meta.status == 404:
            return 0
        raise


def mget_found(
    client: Elasticsearch, docs: Sequence[dict[str, str]], *, retry_for_s: float = 900.0
) -> list[dict[str, Any]]:
    """Realtime multi-get (no refresh needed) of ``[{"_index", "_id"}]``; returns the hits found.

    Missing indices count as not found. Retried under the same policy as writes.
    """
    if not docs:
        return []
    found: list[dict[str, Any]] = []
    for attempt in write_retrying(retry_for_s, "Elasticsearch multi-get"):
        with attempt:
            response = client.mget(docs=list(docs))
            found = [d for d in response["docs"] if d.get("found")]
    return found


def pit_pages(
    client: Elasticsearch, index: str, query: dict[str, Any] | None = None, source: Any = True, size: int = 2000
) -> Iterator[list[dict[str, Any]]]:
    """Pages of matching documents (``_source`` with ``_id`` and ``_index``) over a point-in-time,
    in ``_shard_doc`` order with ``search_after``: a consistent view, memory bounded by one page.

    An alias is read index by index: noida-db's point-in-time on an alias over several indices
    sees only one of them (as its delete_by_query does)."""
    for concrete in concrete_indices(client, index):
        yield from _pit_pages_of(client, concrete, query, source, size)


def concrete_indices(client: Elasticsearch, index: str) -> list[str]:
    """The indices behind an alias (sorted), or ``[index]`` itself when it is not an alias."""
    aliased = client.options(ignore_status=404).indices.get_alias(name=index)
    body = aliased.body if hasattr(aliased, "body") else aliased
    return sorted(i for i, v in (body or {}).items() if isinstance(v, dict) and "aliases" in v) or [index]


def _pit_pages_of(
    client: Elasticsearch, index: str, query: dict[str, Any] | None, source: Any, size: int
) -> Iterator[list[dict[str, Any]]]:
    try:
        pit = client.open_point_in_time(index=index, keep_alive="2m")["id"]
    except ApiError as exc:
        if exc.meta.status == 404:
            return
        raise
    try:
        after = None
        while True:
            response = client.search(
                pit={"id": pit, "keep_alive": "2m"},
                query=query or {"match_all": {}},
                source=source,
                size=size,
                sort=[{"_shard_doc": "asc"}],
                **({"search_after": after} if after else {}),
            )
            hits = response["hits"]["hits"]
            if not hits:
                return
            pit = response.get("pit_id", pit)
            yield [{**hit.get("_source", {}), "_id": hit["_id"], "_index": hit["_index"]} for hit in hits]
            after = hits[-1]["sort"]
    finally:
        client.options(ignore_status=404).close_point_in_time(id=pit)
