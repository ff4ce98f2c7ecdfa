"""Kibana saved objects: well-formed, consistent, and imported through the saved-objects API."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import default as email_policy

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from ecoute.cli import app
from ecoute.settings import IndexNames, Settings
from ecoute.views.kibana import DEFAULT_FILE, KibanaImportError, import_saved_objects, saved_objects, to_ndjson


def default_settings(**extra) -> Settings:
    return Settings(indices=IndexNames(), **extra)


def test_committed_ndjson_is_what_the_builder_makes() -> None:
    assert DEFAULT_FILE.read_text(encoding="utf-8") == to_ndjson(saved_objects(default_settings())), (
        "run: ecoute kibana export"
    )


def test_objects_are_consistent() -> None:
    objects = saved_objects(default_settings())
    by_key = {(o["type"], o["id"]): o for o in objects}
    assert len(by_key) == len(objects)
    titles = {o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"}
    assert titles == {"ecoute-mentions", "ecoute-rollups-daily", "ecoute-alerts"}
    for obj in objects:
        for ref in obj["references"]:  # every reference resolves inside the file
            assert (ref["type"], ref["id"]) in by_key, (obj["id"], ref)
        meta = obj["attributes"].get("kibanaSavedObjectMeta")
        if meta:
            source = json.loads(meta["searchSourceJSON"])
            if "indexRefName" in source:
                assert source["indexRefName"] in {r["name"] for r in obj["references"]}
        if obj["type"] == "visualization":
            state = json.loads(obj["attributes"]["visState"])
            assert state["type"] in {"vega", "histogram", "area", "pie", "line", "table", "metric"}
            if state["type"] == "vega":
                spec = json.loads(state["params"]["spec"])
                assert [layer["data"]["url"]["index"] for layer in spec["layer"]] == [
                    "ecoute-alerts",
                    "ecoute-rollups-daily",
                ]
    dashboard = by_key[("dashboard", "ecoute-dashboard")]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"]: r for r in dashboard["references"]}
    assert len(panels) == 11 and all(p["panelRefName"] in refs for p in panels)
    answer = by_key[("search", "ecoute-queue-answer")]["attributes"]
    assert "not answered_by_brand:true" in answer["kibanaSavedObjectMeta"]["searchSourceJSON"]
    assert answer["sort"][0] == ["constructive", "desc"]
    # Custom index names give matching data views.
    custom = saved_objects(Settings(indices=IndexNames(mentions="brand-x-mentions")))
    assert any(o["attributes"].get("title") == "brand-x-mentions" for o in custom)


def _multipart_file(request: Request) -> tuple[str, bytes]:
    raw = b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n" + request.get_data()
    message = BytesParser(policy=email_policy).parsebytes(raw)
    part = next(iter(message.iter_parts()))
    return part.get_filename(), part.get_payload(decode=True)


def test_import_posts_multipart_with_xsrf_and_api_key(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOUTE_KIBANA__API_KEY", "k3y")
    seen: dict = {}

    def handler(request: Request) -> Response:
        seen["filename"], seen["body"] = _multipart_file(request)
        ids = [json.loads(line)["id"] for line in seen["body"].decode().splitlines()]
        return Response(json.dumps({"success": True, "successCount": len(ids)}), content_type="application/json")

    httpserver.expect_oneshot_request(
        "/api/saved_objects/_import",
        method="POST",
        query_string="overwrite=true",
        headers={"kbn-xsrf": "true", "Authorization": "ApiKey k3y"},
    ).respond_with_handler(handler)
    answer = import_saved_objects(default_settings(), url=httpserver.url_for("/"))
    httpserver.check_assertions()
    assert answer["successCount"] == len(saved_objects(default_settings()))
    assert seen["filename"].endswith(".ndjson")
    assert seen["body"].decode() == to_ndjson(saved_objects(default_settings()))


def test_import_uses_the_elasticsearch_credentials_and_a_space(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("API_KEY", "USERNAME", "PASSWORD", "URL", "SPACE"):
        monkeypatch.delenv(f"ECOUTE_KIBANA__{name}", raising=False)
    settings = default_settings(
        es={"username": "elastic", "password": "s3cret"}, alerts={"kibana_url": httpserver.url_for("/")}
    )
    httpserver.expect_oneshot_request(
        "/s/marketing/api/saved_objects/_import",
        method="POST",
        headers={"kbn-xsrf": "true", "Authorization": "Basic ZWxhc3RpYzpzM2NyZXQ="},
    ).respond_with_json({"success": True, "successCount": 16})
    assert import_saved_objects(settings, space="marketing")["successCount"] == 16
    httpserver.check_assertions()


def test_import_errors_are_clear(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOUTE_KIBANA__API_KEY", raising=False)
    httpserver.expect_oneshot_request("/api/saved_objects/_import", method="POST").respond_with_json(
        {
            "success": False,
            "successCount": 15,
            "errors": [{"type": "dashboard", "id": "ecoute-dashboard", "error": {"type": "conflict"}}],
        }
    )
    with pytest.raises(KibanaImportError, match="dashboard/ecoute-dashboard: conflict"):
        import_saved_objects(default_settings(), url=httpserver.url_for("/"))
    httpserver.expect_oneshot_request("/api/saved_objects/_import", method="POST").respond_with_json(
        {"statusCode": 401, "error": "Unauthorized"}, status=401
    )
    with pytest.raises(KibanaImportError, match="401"):
        import_saved_objects(default_settings(), url=httpserver.url_for("/"))
    with pytest.raises(KibanaImportError, match="cannot reach Kibana"):
        import_saved_objects(default_settings(), url="http://127.0.0.1:9", timeout_s=2)


def test_cli_kibana_import(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ecoute.cli_support.views_settings", default_settings)
    httpserver.expect_oneshot_request("/api/saved_objects/_import", method="POST").respond_with_json(
        {"success": True, "successCount": 16}
    )
    result = CliRunner().invoke(app, ["kibana", "import", "--url", httpserver.url_for("/")])
    assert result.exit_code == 0, result.output
    assert "imported 16 saved objects" in result.output
    httpserver.check_assertions()
    failed = CliRunner().invoke(app, ["kibana", "import", "--url", "http://127.0.0.1:9"])
    assert failed.exit_code == 1 and "cannot reach Kibana" in failed.output
