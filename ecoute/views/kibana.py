"""Kibana saved objects of Écoute (data views, the report's dashboard, the two queues) and their import.

``saved_objects(settings)`` builds the objects for the configured index names (so a deployment with
other names gets matching data views); ``infra/kibana/ecoute-saved-objects.ndjson`` is the same for
the default names (``ecoute kibana export`` rewrites it). ``import_saved_objects`` posts the NDJSON
to Kibana's ``POST /api/saved_objects/_import?overwrite=true`` (multipart, header ``kbn-xsrf``).

Kibana's address and credentials come from the environment, never from code:
``ECOUTE_KIBANA__URL`` (default: ``settings.alerts.kibana_url``), then ``ECOUTE_KIBANA__API_KEY`` or
``ECOUTE_KIBANA__USERNAME``/``ECOUTE_KIBANA__PASSWORD``; without them, the Elasticsearch credentials
of the settings are used (Kibana authenticates against the same cluster).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ecoute.settings import PROJECT_ROOT, KibanaSettings, Settings
from ecoute.views.common import KQL_COMMUNITY, SEVERITY_COLOURS

DEFAULT_FILE = PROJECT_ROOT / "infra" / "kibana" / "ecoute-saved-objects.ndjson"
MIGRATION = {"coreMigrationVersion": "8.8.0"}


class KibanaImportError(RuntimeError):
    pass


# ------------------------------------------------------------------------------------------------
# building the objects
# ------------------------------------------------------------------------------------------------
def _data_view(object_id: str, title: str, name: str, time_field: str) -> dict[str, Any]:
    return {
        "type": "index-pattern",
        "id": object_id,
        "attributes": {"title": title, "name": name, "timeFieldName": time_field},
        "references": [],
        **MIGRATION,
    }


def _search_source(query: str, *, index_ref: bool = True) -> str:
    source: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if index_ref:
        source["indexRefName"] = "kibanaSavedObjectMeta.searchSourceJSON.index"
    return json.dumps(source, ensure_ascii=False)


def _index_ref(data_view: str) -> list[dict[str, str]]:
    return [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": data_view}]


def _saved_search(
    object_id: str, title: str, data_view: str, query: str, columns: list[str], sort: list[list[str]]
) -> dict[str, Any]:
    return {
        "type": "search",
        "id": object_id,
        "attributes": {
            "title": title,
            "description": "",
            "columns": columns,
            "sort": sort,
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query)},
        },
        "references": _index_ref(data_view),
        **MIGRATION,
    }


def _agg(agg_id: str, agg_type: str, schema: str, **params: Any) -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": agg_type, "schema": schema, "params": params}


def _date_histogram(agg_id: str, field: str) -> dict[str, Any]:
    return _agg(agg_id, "date_histogram", "segment", field=field, interval="auto", min_doc_count=1, extended_bounds={})


def _xy_params(chart: str, mode: str, metric_ids: list[str]) -> dict[str, Any]:
    return {
        "type": chart,
        "addLegend": True,
        "legendPosition": "right",
        "addTooltip": True,
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "bottom",
                "show": True,
                "labels": {"show": True, "truncate": 100},
                "title": {},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "left",
                "show": True,
                "mode": "normal",
                "labels": {"show": True, "truncate": 100},
                "title": {},
            }
        ],
        "seriesParams": [
            {"show": True, "type": chart, "mode": mode, "data": {"id": i}, "valueAxis": "ValueAxis-1"}
            for i in metric_ids
        ],
    }


def _visualization(
    object_id: str,
    title: str,
    vis_type: str,
    aggs: list[dict[str, Any]],
    params: dict[str, Any],
    data_view: str | None,
    query: str = "",
) -> dict[str, Any]:
    vis_state = {"title": title, "type": vis_type, "aggs": aggs, "params": params}
    return {
        "type": "visualization",
        "id": object_id,
        "attributes": {
            "title": title,
            "description": "",
            "version": 1,
            "uiStateJSON": "{}",
            "visState": json.dumps(vis_state, ensure_ascii=False),
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query, index_ref=data_view is not None)},
        },
        "references": _index_ref(data_view) if data_view else [],
        **MIGRATION,
    }


def _vega_mood(settings: Settings) -> str:
    """Vega-Lite: the mood index per day from the daily rollups ((positive − negative) / volume), with
    the alert episodes (overall scope) shaded behind it, like the report's first chart."""
    mood_layer = {
        "data": {
            "url": {
                "index": settings.indices.rollups_daily,
                "%context%": True,
                "%timefield%": "day",
                # Kibana adds the dashboard's time range and filters (%context%), which excludes a
                # "query" here: the rollups' topic="_all" rows are selected by a filter aggregation.
                "body": {
                    "size": 0,
                    "aggs": {
                        "all_topics": {
                            "filter": {"term": {"topic": "_all"}},
                            "aggs": {
                                "days": {
                                    "date_histogram": {"field": "day", "calendar_interval": "1d"},
                                    "aggs": {
                                        "positive": {"sum": {"field": "positive"}},
                                        "negative": {"sum": {"field": "negative"}},
                                        "volume": {"sum": {"field": "volume"}},
                                    },
                                }
                            },
                        }
                    },
                },
            },
            "format": {"property": "aggregations.all_topics.days.buckets"},
        },
        "transform": [
            {"filter": "datum.volume.value > 0"},
            {"calculate": "(datum.positive.value - datum.negative.value) / datum.volume.value", "as": "mood"},
        ],
        "mark": {"type": "line", "point": True, "color": "#2166ac"},
        "encoding": {
            "x": {"field": "key", "type": "temporal", "title": None},
            "y": {"field": "mood", "type": "quantitative", "scale": {"domain": [-1, 1]}, "title": "mood index"},
        },
    }
    alerts_layer = {
        "data": {
            "url": {
                "index": settings.indices.alerts,
                "%context%": True,
                "%timefield%": "episode_start",
                "body": {"size": 500, "_source": ["episode_start", "bucket_start", "ended_at", "severity", "scope"]},
            },
            "format": {"property": "hits.hits"},
        },
        "transform": [
            {"filter": "datum._source.scope == 'overall'"},
            {"calculate": "datum._source.ended_at || datum._source.bucket_start", "as": "episode_end"},
        ],
        "mark": {"type": "rect", "opacity": 0.35},
        "encoding": {
            "x": {"field": "_source.episode_start", "type": "temporal"},
            "x2": {"field": "episode_end"},
            "color": {
                "field": "_source.severity",
                "type": "nominal",
                "title": "alert",
                "scale": {"domain": list(SEVERITY_COLOURS), "range": list(SEVERITY_COLOURS.values())},
            },
        },
    }
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "Mood index / indice d'humeur",
        "layer": [alerts_layer, mood_layer],
    }
    return json.dumps(spec, ensure_ascii=False, indent=1)


def saved_objects(settings: Settings) -> list[dict[str, Any]]:
    """Every saved object of Écoute, dependencies first (data views, searches, visualizations, dashboard)."""
    indices = settings.indices
    mentions, rollups, alerts = "ecoute-dv-mentions", "ecoute-dv-rollups-daily", "ecoute-dv-alerts"
    objects: list[dict[str, Any]] = [
        _data_view(mentions, indices.mentions, "Écoute mentions", "created_at"),
        _data_view(rollups, indices.rollups_daily, "Écoute daily rollups", "day"),
        _data_view(alerts, indices.alerts, "Écoute alerts", "episode_start"),
        _saved_search(
            "ecoute-queue-moderate",
            "Écoute queue: moderate (toxic, not handled)",
            mentions,
            f"toxic:true and not handled:true and {KQL_COMMUNITY}",
            ["text", "author.id", "channel", "toxic_score", "url"],
            [["created_at", "desc"]],
        ),
        _saved_search(
            "ecoute-queue-answer",
            "Écoute queue: answer (criticism without a brand reply)",
            mentions,
            f"criticism:true and not answered_by_brand:true and not handled:true and {KQL_COMMUNITY}",
            ["constructive", "text", "author.id", "channel", "thread_id", "topics", "url"],
            [["constructive", "desc"], ["created_at", "asc"]],
        ),
        _saved_search(
            "ecoute-alert-episodes",
            "Écoute alert episodes",
            alerts,
            "",
            ["scope", "severity", "status", "observed", "expected", "summary"],
            [["episode_start", "desc"]],
        ),
    ]
    count = _agg("1", "count", "metric")
    objects += [
        _visualization(
            "ecoute-vis-mood", "Écoute: mood index over time", "vega", [], {"spec": _vega_mood(settings)}, None
        ),
        _visualization(
            "ecoute-vis-criticism",
            "Écoute: criticism volume (constructive vs other)",
            "histogram",
            [
                count,
                _date_histogram("2", "created_at"),
                _agg("3", "terms", "group", field="constructive", size=2, order="desc", orderBy="1"),
            ],
            _xy_params("histogram", "stacked", ["1"]),
            mentions,
            f"criticism:true and {KQL_COMMUNITY}",
        ),
        _visualization(
            "ecoute-vis-topics",
            "Écoute: topics over time",
            "area",
            [
                count,
                _date_histogram("2", "created_at"),
                _agg("3", "terms", "group", field="topics", size=8, order="desc", orderBy="1"),
            ],
            _xy_params("area", "stacked", ["1"]),
            mentions,
            KQL_COMMUNITY,
        ),
        _visualization(
            "ecoute-vis-sources",
            "Écoute: sources",
            "pie",
            [count, _agg("2", "terms", "segment", field="source", size=10, order="desc", orderBy="1")],
            {"type": "pie", "addLegend": True, "legendPosition": "right", "isDonut": True},
            mentions,
            KQL_COMMUNITY,
        ),
        _visualization(
            "ecoute-vis-languages",
            "Écoute: languages",
            "pie",
            [count, _agg("2", "terms", "segment", field="lang", size=10, order="desc", orderBy="1")],
            {"type": "pie", "addLegend": True, "legendPosition": "right", "isDonut": True},
            mentions,
            KQL_COMMUNITY,
        ),
        _visualization(
            "ecoute-vis-response",
            "Écoute: brand response rate and median response time (daily rollups)",
            "line",
            [
                _agg("1", "avg", "metric", field="brand_response_rate"),
                _agg("2", "avg", "metric", field="median_response_minutes"),
                _date_histogram("3", "day"),
            ],
            _xy_params("line", "normal", ["1", "2"]),
            rollups,
            "topic:_all",
        ),
        _visualization(
            "ecoute-vis-top-critical",
            "Écoute: most criticised threads",
            "table",
            [count, _agg("2", "terms", "bucket", field="thread_id", size=10, order="desc", orderBy="1")],
            {"perPage": 10, "showPartialRows": False, "showMetricsAtAllLevels": False},
            mentions,
            f"criticism:true and {KQL_COMMUNITY}",
        ),
        _visualization(
            "ecoute-vis-top-positive",
            "Écoute: most liked threads (positive items)",
            "table",
            [count, _agg("2", "terms", "bucket", field="thread_id", size=10, order="desc", orderBy="1")],
            {"perPage": 10, "showPartialRows": False, "showMetricsAtAllLevels": False},
            mentions,
            f"sentiment:positive and {KQL_COMMUNITY}",
        ),
        _visualization(
            "ecoute-vis-unanswered",
            "Écoute: unanswered criticism (queue size)",
            "metric",
            [count],
            {"type": "metric", "metric": {"style": {"fontSize": 48}}},
            mentions,
            f"criticism:true and not answered_by_brand:true and not handled:true and {KQL_COMMUNITY}",
        ),
    ]
    panels = [
        ("ecoute-vis-mood", "visualization", 0, 0, 48, 12),
        ("ecoute-vis-criticism", "visualization", 0, 12, 24, 12),
        ("ecoute-vis-topics", "visualization", 24, 12, 24, 12),
        ("ecoute-vis-sources", "visualization", 0, 24, 12, 10),
        ("ecoute-vis-languages", "visualization", 12, 24, 12, 10),
        ("ecoute-vis-response", "visualization", 24, 24, 24, 10),
        ("ecoute-vis-top-critical", "visualization", 0, 34, 20, 12),
        ("ecoute-vis-top-positive", "visualization", 20, 34, 20, 12),
        ("ecoute-vis-unanswered", "visualization", 40, 34, 8, 12),
        ("ecoute-alert-episodes", "search", 0, 46, 48, 12),
        ("ecoute-queue-answer", "search", 0, 58, 48, 15),
    ]
    panels_json = []
    references = []
    for number, (object_id, object_type, x, y, w, h) in enumerate(panels):
        ref = f"panel_{number}"
        panels_json.append(
            {
                "version": "8.8.0",
                "type": object_type,
                "panelIndex": str(number + 1),
                "panelRefName": ref,
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": str(number + 1)},
                "embeddableConfig": {},
            }
        )
        references.append({"name": ref, "type": object_type, "id": object_id})
    objects.append(
        {
            "type": "dashboard",
            "id": "ecoute-dashboard",
            "attributes": {
                "title": "Écoute — community overview",
                "description": "The panels of `ecoute report`: mood with alert episodes, criticism, topics, "
                "sources and languages, brand responses, top threads, the unanswered queue.",
                "panelsJSON": json.dumps(panels_json),
                "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
                "timeRestore": True,
                "timeFrom": "now-30d",
                "timeTo": "now",
                "refreshInterval": {"pause": True, "value": 0},
                "kibanaSavedObjectMeta": {
                    "searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}, "filter": []})
                },
            },
            "references": references,
            **MIGRATION,
        }
    )
    return objects


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n" for obj in objects)


def export_saved_objects(settings: Settings, out: Path = DEFAULT_FILE) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_ndjson(saved_objects(settings)), encoding="utf-8")
    return out


# ------------------------------------------------------------------------------------------------
# importing
# ------------------------------------------------------------------------------------------------
def _auth(settings: Settings, env: KibanaSettings) -> tuple[dict[str, str], Any]:
    """(headers, httpx auth) from settings.kibana (ECOUTE_KIBANA__*) or else the Elasticsearch credentials."""
    if env.api_key:
        return {"Authorization": f"ApiKey {env.api_key.get_secret_value()}"}, None
    if env.username and env.password:
        return {}, (env.username, env.password.get_secret_value())
    if settings.es.api_key:
        return {"Authorization": f"ApiKey {settings.es.api_key.get_secret_value()}"}, None
    if settings.es.username and settings.es.password:
        return {}, (settings.es.username, settings.es.password.get_secret_value())
    return {}, None


def import_saved_objects(
    settings: Settings,
    *,
    ndjson: str | None = None,
    url: str | None = None,
    space: str | None = None,
    timeout_s: float = 60.0,
    verify: bool | str = True,
) -> dict[str, Any]:
    """POST the saved objects to Kibana (overwrite=true); return Kibana's answer or raise KibanaImportError."""
    import httpx

    env = settings.kibana
    base = (url or env.url or settings.alerts.kibana_url).rstrip("/")
    space = space or env.space
    endpoint = (
        f"{base}/s/{space}/api/saved_objects/_import"
        if space and space != "default"
        else f"{base}/api/saved_objects/_import"
    )
    headers, auth = _auth(settings, env)
    headers["kbn-xsrf"] = "true"
    payload = ndjson if ndjson is not None else to_ndjson(saved_objects(settings))
    files = {"file": ("ecoute-saved-objects.ndjson", payload.encode("utf-8"), "application/ndjson")}
    try:
        response = httpx.post(
            endpoint,
            params={"overwrite": "true"},
            files=files,
            headers=headers,
            auth=auth,
            timeout=timeout_s,
            verify=verify,
        )
    except httpx.HTTPError as exc:
        raise KibanaImportError(f"cannot reach Kibana at {base}: {exc}") from exc
    if response.status_code >= 400:
        raise KibanaImportError(f"Kibana answered {response.status_code} to {endpoint}: {response.text[:500]}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise KibanaImportError(f"Kibana's answer is not JSON: {response.text[:200]}") from exc
    if not answer.get("success", False):
        errors = "; ".join(
            f"{e.get('type')}/{e.get('id')}: {(e.get('error') or {}).get('type')}" for e in answer.get("errors", [])
        )
        raise KibanaImportError(f"Kibana imported {answer.get('successCount', 0)} objects and refused some: {errors}")
    return answer
