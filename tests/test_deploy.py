"""The deployment manifests keep up with the services: every service is in the compose file, the Kubernetes
kustomization and the database init script, and the gateway routes every public path to its service."""

from __future__ import annotations

import importlib
import re

import pytest
import yaml

from shared.migrate import existing_services
from shared.settings import ROOT

DEPLOY = ROOT / "deploy"


def _nginx_routes() -> dict[str, str]:
    """location prefix -> upstream name, from the gateway's config."""
    text = (DEPLOY / "nginx" / "nginx.conf").read_text()
    routes: dict[str, str] = {}
    for match in re.finditer(r"location\s+(\S+)\s*\{([^}]*)\}", text):
        upstream = re.search(r"proxy_pass\s+http://(\w+)", match.group(2))
        if upstream:
            routes[match.group(1)] = upstream.group(1)
    return routes


def _public_paths(service: str) -> set[str]:
    app = importlib.import_module(f"services.{service}.main").create_app()
    hidden = {"/healthz", "/readyz", "/metrics"}
    return {path for path in app.openapi()["paths"] if path not in hidden}


@pytest.mark.parametrize("service", existing_services())
def test_every_service_is_deployed(service: str):
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert service in compose["services"], f"{service} missing from deploy/compose.yaml"
    assert f"services.{service}.main:app" in " ".join(compose["services"][service]["command"])
    assert f"{service.upper()}_DATABASE_URL" in compose["x-service"]["environment"]
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert f"{service}.yaml" in kustomization["resources"]
    kinds = {doc["kind"] for doc in yaml.safe_load_all((DEPLOY / "k8s" / f"{service}.yaml").read_text())}
    assert {"Deployment", "Service"} <= kinds
    assert f"CREATE DATABASE {service};" in (DEPLOY / "postgres-init.sql").read_text()


@pytest.mark.parametrize("service", existing_services())
def test_the_gateway_routes_every_public_path_to_its_service(service: str):
    routes = _nginx_routes()
    for path in _public_paths(service):
        prefixes = [p for p in routes if path.startswith(p)]  # nginx prefix locations: the longest wins
        assert prefixes, f"no gateway location for {path} ({service})"
        longest = max(prefixes, key=len)
        assert routes[longest] == service, f"{path} goes to {routes[longest]}, not {service}"
