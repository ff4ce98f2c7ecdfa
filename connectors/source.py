"""The polled-source contract: a source *declares* its streams, ``connectors/run.py`` runs them.

In the spirit of the Singer SDK's ``RESTStream``: a stream says where its records are (``path``,
first-page ``params``), how it pages (a :class:`Paginator`), how records come out of an answer
(``records_path`` or ``records``) and how one record becomes a raw event (``map``, with the one
builder ``build_raw_event``). The run loop owns the rest: requests page after page up to
``max_pages``, the checkpoint (bookmark) after each acknowledged page, the :class:`SeenFilter` of
sources that list newest first (``newest_first``), dead-letter dedupe on those re-read sources,
the parents a stream watches for a child listing (posts → comments), and closing the source.

A polled source (``connectors/<name>.py``) is a :class:`Source`: it checks its configuration,
builds its HTTP clients and returns its streams; ``close()`` releases the clients after each sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from connectors.http import ApiClient, next_params

if TYPE_CHECKING:
    from connectors.config import ConnectorSettings, HttpSourceSettings
    from ecoute.settings import Settings


# ---------------------------------------------------------------------------------------------
# sources and their registry entries
# ---------------------------------------------------------------------------------------------
@runtime_checkable
class Source(Protocol):
    """One polled source: its streams for a sweep, and the resources to release after it."""

    name: str

    def streams(self, settings: Settings, connector_settings: ConnectorSettings) -> Sequence[PolledStream]:
        """Check the configuration (raise ConnectorError with the setting to fix) and build the streams."""
        ...

    def close(self) -> None: ...


SourceFactory = Callable[[], Source]


class HttpSource:
    """A source whose streams share the HTTP clients it opened (``client``); ``close`` closes them."""

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self._clients: list[ApiClient] = []

    def client(self, client: ApiClient) -> ApiClient:
        """Keep ``client`` to close it after the sweep; returns it."""
        self._clients.append(client)
        return client

    def close(self) -> None:
        while self._clients:
            self._clients.pop().close()


# ---------------------------------------------------------------------------------------------
# paginators (shared by sources)
# ---------------------------------------------------------------------------------------------
def dig(body: Any, path: str) -> Any:
    """``body["a"]["b"]`` for ``path="a.b"``; None when a level is missing or not an object."""
    for name in path.split(".") if path else ():
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body


class Paginator(Protocol):
    def request_params(self, first: dict[str, Any], token: Any) -> dict[str, Any]:
        """The query of the page ``token`` points at (None: the first page, ``first``)."""
        ...

    def next_token(self, body: Any) -> Any:
        """The token of the page after ``body``, or None on the last page."""
        ...


@dataclass(frozen=True)
class SinglePage:
    """One request, no next page (a feed, a whole comment tree)."""

    def request_params(self, first: dict[str, Any], token: Any) -> dict[str, Any]:
        return first

    def next_token(self, body: Any) -> Any:
        return None


@dataclass(frozen=True)
class TokenPaginator:
    """The answer's ``response_path`` (dotted) holds a token sent back as the ``request_param`` query
    parameter: YouTube ``nextPageToken``→``pageToken``, X ``meta.next_token``, Reddit ``data.after``."""

    response_path: str
    request_param: str

    def request_params(self, first: dict[str, Any], token: Any) -> dict[str, Any]:
        return {**first, self.request_param: token} if token else first

    def next_token(self, body: Any) -> Any:
        return dig(body, self.response_path) or None


@dataclass(frozen=True)
class NextLinkPaginator:
    """The answer holds the next page's URL (Graph ``paging.next``); its query, without credentials,
    is the next request (on our base URL). The token is that query."""

    link_path: str = "paging.next"

    def request_params(self, first: dict[str, Any], token: Any) -> dict[str, Any]:
        return token if token else first

    def next_token(self, body: Any) -> Any:
        link = dig(body, self.link_path)
        return next_params(link if isinstance(link, str) else None)


# ---------------------------------------------------------------------------------------------
# declarative streams
# ---------------------------------------------------------------------------------------------
@dataclass
class Item:
    """One source record of a page: ``record`` is mapped with ``context`` (thread, parent...);
    ``original`` is what a dead letter keeps (the record itself unless told)."""

    record: Any
    context: dict[str, Any] = field(default_factory=dict)
    original: Any = None

    def __post_init__(self) -> None:
        if self.original is None:
            self.original = self.record


class Unreadable(Exception):
    """The resource answered something that is not a page (a broken feed): the run loop dead-letters
    ``original`` with ``reason``, keeps the checkpoint as it was and ends this stream's sweep."""

    def __init__(self, original: Any, reason: str):
        super().__init__(reason)
        self.original = original
        self.reason = reason


class Listing:
    """What a parent stream and a child listing both declare: the endpoint, its paginator, records, mapping."""

    path: str = ""
    paginator: Paginator = SinglePage()
    records_path: str = "data"  # where an answer keeps its records (dotted)
    newest_first: bool = False  # a SeenFilter decides what is new; repeated mapping failures are not re-sent

    def __init__(self, settings: Settings, config: HttpSourceSettings, client: ApiClient | None = None):
        self.settings = settings
        self.config = config
        self.client = client

    def get(self, path: str, params: dict[str, Any]) -> Any:
        if self.client is None:
            raise RuntimeError(f"{type(self).__name__} has no HTTP client (its Source builds one)")
        return self.client.get_json(path, params)

    def answers(self, path: str, first: dict[str, Any], paginator: Paginator) -> Iterator[Any]:
        """Every answer of a side endpoint (a thread's replies), page after page up to ``max_pages``."""
        token = None
        for _ in range(self.config.max_pages):
            body = self.get(path, paginator.request_params(first, token))
            yield body
            token = paginator.next_token(body)
            if token is None:
                return

    def items(self, body: Any, **context: Any) -> list[Item]:
        """The records at ``records_path`` (a list), each with ``context``."""
        records = dig(body, self.records_path)
        return [Item(record, dict(context)) for record in records or []]

    def map(self, record: Any, *args: Any, **context: Any) -> dict[str, Any]:
        """One record → one raw event (``build_raw_event``); raise MappingError for a bad record.
        Each listing names the context it needs (``items(body, **context)``)."""
        raise NotImplementedError

    def native_id(self, record: Any) -> Any:
        return record.get("id") if isinstance(record, dict) else None


@dataclass
class Sweep:
    """One stream's sweep as the run loop sees it: the checkpoint state being built, the clock, and
    the parents listed this sweep with their child counts."""

    state: dict[str, Any]
    now: int
    horizon: float  # now - lookback_days: older parents are no longer watched
    watches: str | None = None
    watch_fields: tuple[str, ...] = ()
    counts: dict[str, Any] = field(default_factory=dict)
    stop: bool = False  # a stream sets it when the listing went past what it reads (its horizon)

    def watch(self, parent_id: str, created: int, count: Any = None) -> bool:
        """Watch a parent for the child listing (kept across sweeps until older than the horizon), noting
        ``count``, its number of children now, so an unchanged parent is not re-read. True when new."""
        if self.watches is None:
            raise RuntimeError("this stream declares no `watches` (the state key of the parents it watches)")
        self.counts[parent_id] = count
        entries = self.state[self.watches]
        if parent_id in entries:
            return False
        entries[parent_id] = {"created": created, **dict.fromkeys(self.watch_fields)}
        return True


class PolledStream(Listing):
    """One checkpointed stream (``<source>.<key>``): a paginated listing, then, when ``children`` is
    set, a child listing for each parent it watches.

    Declare ``key``, ``path``, ``paginator``, ``params`` and ``map``. Override the hooks only when the
    default does not fit: ``start``/``advance`` (where the bookmark lives; default
    ``state["sweep"][sweep_token]`` while a sweep is under way), ``records`` (default ``items``),
    ``accept`` (which mapped records are sent; watching parents), ``fetch`` (default GET JSON).
    """

    key: str = ""
    sweep_token: str = "page_token"
    watches: str | None = None  # state key of the parents watched for ``children`` ("posts")
    watch_fields: tuple[str, ...] = ()  # a new parent's child bookmark fields (None until read)
    children: ChildListing | None = None

    def params(self) -> dict[str, Any]:
        return {}

    def start(self, sweep: Sweep) -> tuple[dict[str, Any], Any]:
        """(the first page's params, the saved page token or None)."""
        return self.params(), (sweep.state.get("sweep") or {}).get(self.sweep_token)

    def fetch(self, params: dict[str, Any], sweep: Sweep) -> Any:
        return self.get(self.path, params)

    def records(self, body: Any, sweep: Sweep) -> Iterable[Item]:
        return self.items(body)

    def accept(self, item: Item, event: dict[str, Any], sweep: Sweep) -> bool:
        """Whether a mapped record is sent (newest-first streams: if the SeenFilter finds it new too)."""
        return True

    def listed_at(self, item: Item, event: dict[str, Any] | None) -> Any:
        """The time the listing is ordered by, for newest-first streams (stop below the revisit horizon)."""
        return event["created_at"] if event is not None else None

    def advance(self, sweep: Sweep, body: Any, token: Any, done: bool) -> None:
        """Bookmark the page after ``body`` (``done``: the sweep is complete)."""
        sweep.state["sweep"] = None if done else {self.sweep_token: token}


class ChildListing(Listing):
    """The child edge of every watched parent (a post's comments), re-read each sweep.

    ``count_field``: re-read a parent only when its child count (noted by ``Sweep.watch``) changed;
    ``read_unlisted``: also re-read parents this sweep did not list. ``one_page``: all pages of one
    parent are one batch (its SeenFilter commits with it); else one page per answer, bookmarked by
    ``advance``. ``path`` may name ``{parent_id}``. A parent that is gone (SkipResource) is dropped.
    """

    count_field: str | None = None
    read_unlisted: bool = True
    one_page: bool = False

    def params(self, info: dict[str, Any]) -> dict[str, Any]:
        return {}

    def fetch(self, parent_id: str, params: dict[str, Any]) -> Any:
        return self.get(self.path.format(parent_id=parent_id), params)

    def records(self, body: Any, parent_id: str) -> Iterable[Item]:
        return self.items(body, parent_id=parent_id)

    def advance(self, info: dict[str, Any], body: Any, token: Any) -> None:
        """Bookmark a parent's page (default: nothing, the SeenFilter and the count do)."""

    def changed(self, info: dict[str, Any], count: Any) -> bool:
        if self.count_field is None:
            return True
        if count is None:
            return self.read_unlisted
        return count != info.get(self.count_field)
