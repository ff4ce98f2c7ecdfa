"""infra/production: the compose file is valid Compose, wired to real settings, and holds no secret."""

from __future__ import annotations

import json
import re
from pathlib import Path

import compose_spec
import pytest
import yaml

from ecoute.settings import PROJECT_ROOT, Settings

PROD = PROJECT_ROOT / "infra" / "production"
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:[-?])([^}]*))?\}")


def _interpolate(value, env: dict[str, str]):
    """Compose's own interpolation: on string values after YAML parsing (merge keys already applied)."""
    if isinstance(value, str):
        whole = VARIABLE.fullmatch(value)

        def substitute(match: re.Match) -> str:
            name, op, arg = match.groups()
            if env.get(name):
                return env[name]
            if op == ":-":
                return arg
            if op == ":?":
                raise KeyError(name)
            return ""

        result = VARIABLE.sub(substitute, value).replace("$$", "$")
        return int(result) if whole and result.isdigit() else result
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items() if not str(k).startswith("x-")}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    return value


def _example_env() -> dict[str, str]:
    env = {}
    for line in (PROD / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value or f"test-{name.lower()}"
    return env


@pytest.fixture(scope="module")
def compose() -> dict:
    return _interpolate(yaml.safe_load((PROD / "compose.yaml").read_text()), _example_env())


def test_compose_file_is_valid_compose_spec(compose):
    parsed = compose_spec.PyCompose.from_json(json.dumps(compose))
    services = set(parsed.service_names())
    for needed in (
        "kafka",
        "elasticsearch",
        "kibana",
        "postgres",
        "spark-master",
        "spark-worker",
        "airflow-scheduler",
        "airflow-api-server",
        "airflow-dag-processor",
        "airflow-triggerer",
    ):
        assert needed in services
    for name, service in compose["services"].items():
        for dependency in service.get("depends_on", {}) or {}:
            assert dependency in services, f"{name} depends on unknown service {dependency}"


def test_every_required_variable_is_documented_in_env_example():
    text = (PROD / "compose.yaml").read_text()
    required = {m.group(1) for m in VARIABLE.finditer(text) if m.group(2) == ":?"}
    assert required <= set(_example_env()), required - set(_example_env())
    with pytest.raises(KeyError):
        _interpolate(yaml.safe_load(text), {})


def test_ecoute_environment_is_understood_by_the_settings(compose, monkeypatch):
    env = compose["services"]["ecoute-enrich"]["environment"]
    ecoute_vars = {k: str(v) for k, v in env.items() if k.startswith("ECOUTE_")}
    assert ecoute_vars
    for key, value in ecoute_vars.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ECOUTE_ES__CA_CERTS", str(PROD / "compose.yaml"))  # any existing file
    settings = Settings()
    assert settings.kafka.bootstrap_servers == "kafka:9092"
    assert settings.es.url.startswith("https://") and settings.es.password is not None
    assert settings.spark_master == "spark://spark-master:7077"
    assert settings.alerts.recipients == ["community@example.com", "manager@example.com"]


def test_the_inbox_runs_behind_the_tls_proxy_with_its_secrets_from_the_environment(compose, monkeypatch):
    services = compose["services"]
    inbox = services["ecoute-inbox"]
    assert inbox["command"][:3] == ["ecoute", "inbox", "serve"] and "ports" not in inbox  # reached through the proxy
    env = {k: str(v) for k, v in inbox["environment"].items()}
    raw = yaml.safe_load((PROD / "compose.yaml").read_text())["services"]["ecoute-inbox"]["environment"]
    for name in ("ECOUTE_INBOX__SESSION_SECRET", "ECOUTE_FACEBOOK__PAGE_TOKEN", "ECOUTE_INBOX__YOUTUBE_OAUTH_TOKEN"):
        assert str(raw[name]).startswith("${"), name  # from the environment, never written here
    assert env["ECOUTE_INBOX__SECURE_COOKIES"] == "true" and env["ECOUTE_INBOX__URL"].startswith("https://")
    # Forwarded addresses are believed from the proxy only: its fixed address on the edge network.
    proxy = services["proxy"]
    assert env["ECOUTE_INBOX__TRUSTED_PROXIES"] == proxy["networks"]["edge"]["ipv4_address"]
    assert {"443:443"} <= set(proxy["ports"]) and (PROD / "Caddyfile").is_file()
    caddy = (PROD / "Caddyfile").read_text()
    assert "reverse_proxy ecoute-inbox:8765" in caddy and "reverse_proxy ecoute-webhooks:8000" in caddy
    # The health check asks the inbox's own /healthz (no session needed, shows nothing).
    assert any("/healthz" in part for part in inbox["healthcheck"]["test"])
    assert proxy["depends_on"]["ecoute-inbox"]["condition"] == "service_healthy"
    for key, value in env.items():
        if key.startswith("ECOUTE_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("ECOUTE_ES__CA_CERTS", str(PROD / "compose.yaml"))
    settings = Settings()
    assert settings.inbox.secure_cookies and settings.inbox.session_secret is not None
    assert "inbox" in (PROD / "Dockerfile").read_text()  # the image carries the inbox package


def test_the_inbox_health_check_answers_without_a_session(settings):
    from elasticsearch import Elasticsearch
    from fastapi.testclient import TestClient

    from inbox.app import create_app
    from tests.conftest import free_port

    app = create_app(settings)
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    # Elasticsearch gone (nothing listens there): unhealthy, so the proxy waits and compose restarts it.
    app.state.services.store.client = Elasticsearch(f"http://127.0.0.1:{free_port()}", request_timeout=2, max_retries=0)
    assert client.get("/healthz").status_code == 503


def test_no_secret_is_written_in_the_deployment_files():
    secret_key = re.compile(r"(?i)^\s*[\w.]*(password|secret|token|api_key|fernet)[\w.]*\s*[:=]\s*(\S.*)$")
    for path in (PROD / "compose.yaml", PROD / "Dockerfile"):
        for line in path.read_text().splitlines():
            match = secret_key.match(line)
            assert match is None or match.group(2).startswith(("${", "$${")), line


def test_dockerfile_copies_folders_that_exist():
    for line in (PROD / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[2:-1]:
                assert (PROJECT_ROOT / source).exists(), source
    assert Path(PROJECT_ROOT / "uv.lock").is_file()
