"""Meta Graph API rules shared by the Facebook and Instagram connectors.

Errors come as ``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``:
- 4, 17, 32, 613, 80001–80014 (application, user, page, custom and business-use-case rate limits):
  retry after the time the ``X-Business-Use-Case-Usage`` header estimates
  (``estimated_time_to_regain_access``, minutes), else exponential back-off;
- 190 (access token expired or invalidated): stop with a message saying which token to renew;
- 1, 2 and ``is_transient``: retry with back-off; 5xx too;
- 100 with subcode 33 (object gone) and 404: skip that object; anything else: stop with the message.
Usage headers (``X-App-Usage``, ``X-Page-Usage``, ``X-Business-Use-Case-Usage``) above
``usage_slowdown_pct`` make the client pause between calls before Meta throttles it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from connectors.errors import ConnectorError
from connectors.http import ApiClient, Decision, default_classify
from connectors.mapping import build_raw_event
from connectors.source import HttpSource, Item, Listing, NextLinkPaginator, PolledStream

if TYPE_CHECKING:
    from collections.abc import Callable

    from connectors.config import ConnectorSettings
    from ecoute.settings import Settings

THROTTLE_CODES = {4, 17, 32, 613, *range(80001, 80015)}
TRANSIENT_CODES = {1, 2}


def _header_json(response: httpx.Response, name: str) -> Any:
    value = response.headers.get(name)
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def usage_pct(response: httpx.Response) -> float:
    """The highest usage percentage any Graph usage header reports (0 when none)."""
    highest = 0.0
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        usage = _header_json(response, name)
        if isinstance(usage, dict):
            highest = max([highest, *(float(v) for v in usage.values() if isinstance(v, int | float))])
    buc = _header_json(response, "x-business-use-case-usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                for key in ("call_count", "total_cputime", "total_time"):
                    if isinstance(entry.get(key), int | float):
                        highest = max(highest, float(entry[key]))
    return highest


def regain_access_s(response: httpx.Response) -> float | None:
    """Seconds until access is regained, from X-Business-Use-Case-Usage (minutes in the header)."""
    buc = _header_json(response, "x-business-use-case-usage")
    minutes = []
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                value = entry.get("estimated_time_to_regain_access")
                if isinstance(value, int | float) and value > 0:
                    minutes.append(float(value))
    return max(minutes) * 60 if minutes else None


def make_classifier(token_setting: str) -> Callable[[httpx.Response], Decision]:
    def classify(response: httpx.Response) -> Decision:
        if response.status_code < 400:
            return Decision("ok")
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        if not isinstance(error, dict) or "code" not in error:
            return default_classify(response)
        code, subcode = error.get("code"), error.get("error_subcode")
        message = f"Graph error {code}{f'/{subcode}' if subcode else ''}: {error.get('message', '')[:300]}"
        if code == 190:
            return Decision(
                "fatal",
                f"the access token is expired or invalid ({message}). Generate a new long-lived token and set "
                f"{token_setting} (or the Airflow connection's password).",
            )
        if code in THROTTLE_CODES:
            return Decision("retry", f"throttled ({message})", regain_access_s(response))
        if code in TRANSIENT_CODES or error.get("is_transient") or response.status_code >= 500:
            return Decision("retry", f"transient ({message})")
        if (code == 100 and subcode == 33) or response.status_code == 404:
            return Decision("skip", message)
        if code in (10, 200) or 200 <= int(code or 0) < 300:
            return Decision("fatal", f"permission missing ({message}); check the token's permissions")
        return Decision("fatal", message)

    return classify


def make_graph_client(name: str, config: Any, token: str | None, token_setting: str) -> ApiClient:
    if not token:
        raise ConnectorError(f"{name}: no access token; set {token_setting}")

    def pace(response: httpx.Response) -> float:
        used = usage_pct(response)
        if used < config.usage_slowdown_pct:
            return 0.0
        # The closer to 100 %, the longer the pause: spread the remaining calls over the hour window.
        return min(config.backoff_max_s, config.backoff_base_s * (1 + (used - config.usage_slowdown_pct)))

    return ApiClient(name, config, make_classifier(token_setting), params={"access_token": token}, after_response=pace)


class GraphListing(Listing):
    """A Graph edge: records in ``data`` (an answer without that list stops the run), next pages by link."""

    paginator = NextLinkPaginator()

    def items(self, body: Any, **context: Any) -> list[Item]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            name = self.client.name if self.client is not None else "graph"
            raise ConnectorError(f"{name}: {self.path.format(**context)} answered without a data list")
        return [Item(record, dict(context)) for record in data]


def map_graph_comment(
    record: dict[str, Any],
    settings: Settings,
    *,
    source: str,
    thread_id: str,
    parent: str | None,
    **fields: Any,
) -> dict[str, Any]:
    """A Facebook or Instagram comment: a reply when it has a parent comment, else a comment on the
    post (media) ``thread_id``, which is the thread either way. ``fields`` are the source's own
    (author, text, time, counts, url, raw), as ``build_raw_event`` takes them."""
    return build_raw_event(
        settings,
        source=source,
        native_id=record["id"],
        kind="reply" if parent else "comment",
        parent_native_id=parent or thread_id,
        thread_native_id=thread_id,
        **fields,
    )


class GraphSource(HttpSource):
    """A Graph API source: one account (page or business account) read by one stream class with a
    token; a source declares which settings hold them and the words of its errors."""

    account_field: ClassVar[str]  # the settings field of the account id (page_id, user_id)
    missing_account: ClassVar[str]  # what to set when it is missing
    token_field: ClassVar[str]  # the settings field of the access token
    token_setting: ClassVar[str]  # its environment variable, named in error messages
    stream_class: ClassVar[type[PolledStream]]

    def streams(self, settings: Settings, connector_settings: ConnectorSettings) -> list[PolledStream]:
        config = getattr(connector_settings, self.name)
        if not getattr(config, self.account_field):
            raise ConnectorError(f"{self.name}: {self.missing_account}")
        secret = getattr(config, self.token_field)
        token = secret.get_secret_value() if secret else None
        client = self.client(make_graph_client(self.name, config, token, self.token_setting))
        return [self.stream_class(settings, config, client)]
