"""Fuzzes a service's OpenAPI schema (schemathesis + hypothesis) over ASGI and collects any 5xx.

Valid and invalid inputs are generated from the schema itself, so every route, parameter and body shape is
exercised; a 5xx is always a bug.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings


def generate_cases(app: Any, *, max_examples: int) -> list[dict[str, Any]]:
    """Request kwargs for every operation of the app's schema (positive and negative examples)."""
    schema = schemathesis.openapi.from_dict(app.openapi())
    requests: list[dict[str, Any]] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # a schema FastAPI made is valid

        @given(operation.as_strategy())
        @settings(max_examples=max_examples, suppress_health_check=list(HealthCheck), database=None, deadline=None)
        def collect(case: Any) -> None:
            requests.append(case.as_transport_kwargs(base_url="http://testserver"))

        collect()
    return requests


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"method": kwargs["method"], "url": kwargs["url"], "params": kwargs.get("params") or None}
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in {"connection"}}
    if "json" in kwargs:
        out["content"] = json.dumps(kwargs["json"]).encode()
    elif "data" in kwargs:
        data = kwargs["data"]
        if isinstance(data, dict):
            flat = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
            out["content"] = httpx.QueryParams(flat).__str__().encode()
        elif data is not None:
            out["content"] = data if isinstance(data, bytes) else str(data).encode()
    if "files" in kwargs:
        out["files"] = kwargs["files"]
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    out["headers"] = headers
    return out


async def fuzz(
    client: httpx.AsyncClient, app: Any, *, max_examples: int = 30, headers: dict[str, str] | None = None
) -> list[str]:
    """Sends the generated requests; returns a line per 5xx (empty when none)."""
    failures: list[str] = []
    for kwargs in generate_cases(app, max_examples=max_examples):
        request = _httpx_kwargs(kwargs)
        request["headers"] = {**request["headers"], **(headers or {})}
        try:
            response = await client.request(**request)
        except Exception as exc:  # noqa: BLE001 - an exception escaping the app is a server error too
            failures.append(f"{request['method']} {request['url']}: {type(exc).__name__}: {exc}")
            continue
        if response.status_code == 503 and request["url"].endswith("/readyz"):
            continue  # readiness says "not ready" by design when the broker is not there
        if response.status_code >= 500:
            failures.append(f"{request['method']} {request['url']} -> {response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json"), (
                f"{request['method']} {request['url']} -> {response.status_code} without problem+json"
            )
    return failures
