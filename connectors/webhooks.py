"""A small HTTP receiver for Facebook Page and Instagram webhooks → Kafka.

- ``GET /webhooks/meta``: the verification handshake. Meta sends ``hub.mode=subscribe``,
  ``hub.verify_token`` and ``hub.challenge``; we echo the challenge only when the token matches
  ``ECOUTE_WEBHOOK__VERIFY_TOKEN`` (constant-time compare), else 403.
- ``POST /webhooks/meta``: the body must be signed: ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of
  the raw body with the app secret>``; compared in constant time; a missing or wrong signature is
  logged (never the secret) and answered 401; a body over ``max_body_bytes`` is refused (413)
  without being read; no ``Content-Length`` is 411; ``Transfer-Encoding`` (chunked, alone or with a
  ``Content-Length``: request smuggling behind a proxy) or two ``Content-Length`` headers are 400.
- A signed body is mapped (page ``feed`` changes: posts, comments, replies; Instagram ``comments``)
  with the shared raw-event builder, ids ``facebook:<id>`` / ``instagram:<id>`` — the same ids as
  the polling connectors, so both paths upsert the same documents. Unmappable changes go to the
  DLQ. We answer 200 only after Kafka acknowledged (acks=all); on a Kafka failure we answer 503
  and Meta delivers again: the 200 *is* the checkpoint of this connector.
- Deletions (``verb=remove``/``hide``) and other fields are acknowledged and skipped (counted).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import signal
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from connectors.base import EventSink, RunStats
from connectors.config import ConnectorSettings, WebhookSettings, load_connector_settings
from connectors.errors import ConnectorError
from connectors.mapping import Mapped, build_raw_event, json_kind, map_record
from connectors.webhook_deliveries import DeliveryLog
from ecoute.settings import Settings

log = logging.getLogger(__name__)
PATH = "/webhooks/meta"
POST_ITEMS = {"status", "post", "photo", "video", "share", "album", "event"}


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def _time(value: Any) -> Any:
    if isinstance(value, int | float) and value > 10**12:  # milliseconds
        return value / 1000
    return value


class MetaWebhookMapper:
    def __init__(self, settings: Settings, config: WebhookSettings):
        self.settings = settings
        self.config = config

    def records(self, payload: Any, original: bytes) -> tuple[list[Mapped], int]:
        """(mapped records, changes skipped) of one delivery."""
        if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
            return [Mapped(original, reason="webhook: no entry list in the payload")], 0
        kind = payload.get("object")
        records: list[Mapped] = []
        skipped = 0
        for entry in payload["entry"]:
            if not isinstance(entry, dict):
                records.append(Mapped(entry, reason=f"webhook: an entry is {json_kind(entry)}, not an object"))
                continue
            changes = entry.get("changes") or []
            if not isinstance(changes, list):
                records.append(Mapped(entry, reason=f"webhook: entry.changes is {json_kind(changes)}, not a list"))
                continue
            for change in changes:
                if not isinstance(change, dict):
                    records.append(Mapped(change, reason=f"webhook: a change is {json_kind(change)}, not an object"))
                    continue
                value = change.get("value") or {}
                if not isinstance(value, dict):
                    records.append(Mapped(change, reason=f"webhook: change.value is {json_kind(value)}, not an object"))
                    continue
                field = change.get("field")
                if kind == "page" and field == "feed":
                    if value.get("verb") not in ("add", "edited", "edit") or (
                        value.get("item") != "comment" and value.get("item") not in POST_ITEMS
                    ):
                        skipped += 1
                        continue
                    records.append(
                        map_record(
                            change,
                            partial(self.map_page_feed, value, entry),
                            value.get("comment_id") or value.get("post_id"),
                        )
                    )
                elif kind == "instagram" and field in ("comments", "live_comments"):
                    records.append(
                        map_record(change, partial(self.map_instagram_comment, value, entry), value.get("id"))
                    )
                else:
                    skipped += 1
        return records, skipped

    def map_page_feed(self, value: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        page_id = str(entry.get("id") or self.config.page_id or "")
        author = value.get("from") or {}
        common = {
            "source": "facebook",
            "channel": self.config.channel or page_id,
            "author_native_id": author.get("id"),
            "author_name": author.get("name"),
            "author_is_brand": bool(author.get("id")) and author.get("id") in (page_id, self.config.page_id),
            "text": value.get("message") or "",
            "created_at": _time(value.get("created_time") or entry.get("time")),
            "raw": value,
        }
        if value.get("item") == "comment":
            post_id, parent = value.get("post_id"), value.get("parent_id")
            return build_raw_event(
                self.settings,
                native_id=value["comment_id"],
                kind="comment" if not parent or parent == post_id else "reply",
                parent_native_id=parent or post_id,
                thread_native_id=post_id,
                url=(value.get("post") or {}).get("permalink_url"),
                **common,
            )
        return build_raw_event(
            self.settings,
            native_id=value["post_id"],
            kind="post",
            url=(value.get("post") or {}).get("permalink_url") or value.get("link"),
            **common,
        )

    def map_instagram_comment(self, value: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        account = str(entry.get("id") or self.config.instagram_user_id or "")
        author = value.get("from") or {}
        media = (value.get("media") or {}).get("id")
        parent = value.get("parent_id")
        return build_raw_event(
            self.settings,
            source="instagram",
            native_id=value["id"],
            kind="reply" if parent else "comment",
            channel=self.config.channel or account,
            author_native_id=author.get("id") or author.get("username"),
            author_name=author.get("username"),
            author_is_brand=bool(author.get("id")) and author.get("id") in (account, self.config.instagram_user_id),
            parent_native_id=parent or media,
            thread_native_id=media,
            text=value.get("text") or "",
            created_at=_time(value.get("timestamp") or entry.get("time")),
            raw=value,
        )


def delivery_age_s(payload: Any, now: float | None = None) -> float | None:
    """Age of the newest entry of a delivery (entry.time, epoch seconds or ms), None when it has none."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return None
    times = [
        t / 1000 if t > 10**12 else t
        for entry in payload["entry"]
        if isinstance(entry, dict)
        for t in [entry.get("time")]
        if isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
    ]
    return (time.time() if now is None else now) - max(times) if times else None


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # listen backlog: bursts are accepted (then served or refused), not left in SYN retries

    def __init__(self, address: tuple[str, int], settings: Settings, config: WebhookSettings, sink: EventSink):
        if not config.app_secret:
            raise ConnectorError("webhook: no app secret to check signatures; set ECOUTE_WEBHOOK__APP_SECRET")
        self.settings = settings
        self.config = config
        self.sink = sink
        self.mapper = MetaWebhookMapper(settings, config)
        self.lock = threading.Lock()
        self.stats = RunStats(connector="webhook")
        self.rejected = 0
        self.replays = 0  # deliveries refused as stale or answered without producing again
        self.busy = 0  # connections refused because max_connections were being served
        self.timed_out = 0
        # Persisted in the state folder: after a restart a replayed delivery is still answered, not produced.
        self.deliveries = DeliveryLog(config.replay_window_s, path=settings.state_dir / "webhook" / "deliveries.log")
        self._slots = threading.BoundedSemaphore(config.max_connections)
        super().__init__(address, WebhookHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # A thread per connection, but never more than max_connections: stalled clients cannot
        # exhaust the process; the extra ones get a quick 503 (Meta retries later).
        if not self._slots.acquire(blocking=False):
            self.busy += 1
            log.warning(
                "webhook: %d connections already open; refusing %s", self.config.max_connections, client_address[0]
            )
            with contextlib.suppress(OSError):
                request.settimeout(1)
                request.sendall(BUSY_ANSWER)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


BUSY_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Retry-After: 5\r\nConnection: close\r\n\r\nbusy\n"
)


class BodyTimeout(Exception):
    """The declared body did not arrive within body_timeout_s."""


class WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        # every socket read and write (StreamRequestHandler.setup reads it from the instance; typeshed
        # declares it a ClassVar although the standard library's own docs set it per handler)
        self.timeout = self.server.config.timeout_s  # type: ignore[misc]
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _read_body(self, length: int) -> bytes:
        """Exactly ``length`` bytes, within body_timeout_s in all (a client trickling bytes is cut off)."""
        deadline = time.monotonic() + self.server.config.body_timeout_s
        parts: list[bytes] = []
        remaining = length
        while remaining > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BodyTimeout
            self.connection.settimeout(min(left, self.server.config.timeout_s))
            try:
                chunk = self.rfile.read1(min(remaining, 65536))
            except TimeoutError:
                raise BodyTimeout from None
            if not chunk:
                raise ConnectionResetError("client closed the connection mid-body")
            parts.append(chunk)
            remaining -= len(chunk)
        self.connection.settimeout(self.server.config.timeout_s)
        return b"".join(parts)

    def _answer(self, status: int, text: str = "", close: bool = False) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._answer(200, "ok")
            return
        if url.path != PATH:
            self._answer(404, "not found")
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        expected = self.server.config.verify_token
        token = query.get("hub.verify_token", "")
        if (
            query.get("hub.mode") == "subscribe"
            and expected is not None
            and hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
        ):
            self._answer(200, query.get("hub.challenge", ""))
            return
        log.warning("webhook: verification refused from %s (mode or token mismatch)", self.client_address[0])
        self._answer(403, "verification failed")

    def do_POST(self) -> None:
        try:
            self._post()
        except (BodyTimeout, ConnectionError):
            self.server.timed_out += 1
            log.warning("webhook: %s did not send its body in time; connection closed", self.client_address[0])
            with contextlib.suppress(OSError):
                self._answer(408, "request timeout", close=True)
            self.close_connection = True
        except Exception:  # a bug must still get an answer (Meta would redeliver forever otherwise)
            log.exception("webhook: unexpected error; answering 500")
            with contextlib.suppress(OSError):
                self._answer(500, "internal error", close=True)

    def _post(self) -> None:
        server = self.server
        if urlsplit(self.path).path != PATH:
            self._answer(404, "not found", close=True)
            return
        if self.headers.get("Transfer-Encoding") is not None:
            # Chunked (with or without a Content-Length) is refused: a proxy that honours the one
            # while we read the other would let a second request ride in this body (smuggling).
            server.rejected += 1
            log.warning("webhook: refused a request with Transfer-Encoding from %s", self.client_address[0])
            self._answer(400, "Transfer-Encoding is not accepted; send the body with a Content-Length", close=True)
            return
        if len(self.headers.get_all("Content-Length") or []) > 1:
            server.rejected += 1
            self._answer(400, "more than one Content-Length", close=True)
            return
        length_header = (self.headers.get("Content-Length") or "").strip()
        # ASCII digits only: str.isdigit() accepts '²', which int() refuses.
        if not length_header or not (length_header.isascii() and length_header.isdigit()):
            self._answer(411, "Content-Length required", close=True)
            return
        length = int(length_header)
        if length > server.config.max_body_bytes:
            server.rejected += 1
            log.warning(
                "webhook: refused a %d-byte body from %s (limit %d)",
                length,
                self.client_address[0],
                server.config.max_body_bytes,
            )
            self._answer(413, "body too large", close=True)
            return
        body = self._read_body(length)
        secret = server.config.app_secret.get_secret_value() if server.config.app_secret else ""
        signature = self.headers.get("X-Hub-Signature-256")
        if signature is None or not signature_ok(body, signature, secret):
            server.rejected += 1
            log.warning(
                "webhook: bad or missing X-Hub-Signature-256 from %s; %d bytes rejected", self.client_address[0], length
            )
            self._answer(401, "invalid signature")
            return
        signature = signature.strip()
        if server.deliveries.seen(signature):
            server.replays += 1
            log.warning(
                "webhook: delivery already acknowledged (replay from %s); not produced again", self.client_address[0]
            )
            self._answer(200, "EVENT_RECEIVED")
            return
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            records, skipped, status = [Mapped(body, reason=f"parse: webhook body is not JSON ({exc})")], 0, 400
        else:
            age = delivery_age_s(payload)
            window = server.config.replay_window_s
            if window is not None and age is not None and age > window:
                server.replays += 1
                log.warning(
                    "webhook: refused a delivery from %s whose newest entry is %.0f s old (window %.0f s)",
                    self.client_address[0],
                    age,
                    window,
                )
                self._answer(400, "stale delivery (replay window)")
                return
            try:
                (records, skipped), status = server.mapper.records(payload, body), 200
            except RecursionError:
                records, skipped, status = [Mapped(body, reason="webhook: payload nested too deeply")], 0, 200
        try:
            with server.lock:
                produced, dead = server.sink.emit(records)
                server.stats.produced += produced
                server.stats.dead_lettered += dead
                server.stats.skipped += skipped
        except Exception:
            log.exception("webhook: Kafka did not acknowledge; answering 503 so Meta delivers again")
            self._answer(503, "try again later")
            return
        if status == 200:
            server.deliveries.record(signature)
        self._answer(status, "EVENT_RECEIVED" if status == 200 else "bad request")


def make_server(
    settings: Settings,
    config: WebhookSettings | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    sink: EventSink | None = None,
) -> WebhookServer:
    """A ready (not yet serving) receiver; call ``serve_forever()`` and ``shutdown()``."""
    config = config or load_connector_settings("webhook").webhook
    if not config.app_secret:
        raise ConnectorError("webhook: no app secret to check signatures; set ECOUTE_WEBHOOK__APP_SECRET")
    sink = sink or EventSink(settings, "webhook")
    return WebhookServer((host or config.host, config.port if port is None else port), settings, config, sink)


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    connector_settings: ConnectorSettings | None = None,
) -> RunStats:
    """Serve until SIGINT/SIGTERM, then close the producer; returns what was received."""
    config = (connector_settings or load_connector_settings("webhook")).webhook
    server = make_server(settings, config, host=host, port=port)
    stopper = threading.Thread(target=server.shutdown, daemon=True)

    def stop(*_: Any) -> None:
        if not stopper.is_alive():
            stopper.start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("webhook receiver on http://%s:%d%s", *server.server_address[:2], PATH)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        server.sink.close()
    return server.stats
