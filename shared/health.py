"""`/healthz` (the process is alive), `/readyz` (database and broker reachable) and Prometheus `/metrics`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from shared.db import Database
from shared.messaging.kafka import broker_reachable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database and the broker are reachable",
    responses={503: {"description": "A dependency is down; the body says which"}},
)
async def readyz(request: Request) -> JSONResponse:
    db: Database = request.app.state.db
    checks: dict[str, str] = {}
    try:
        async with db.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 2)
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = "unreachable"
    servers = request.app.state.settings.kafka_bootstrap_servers
    checks["broker"] = "ok" if await broker_reachable(servers) else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
