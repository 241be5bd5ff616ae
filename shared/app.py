"""The pieces every service's `create_app()` puts together: middleware, error handlers, health, metrics."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import health
from shared.errors import NUL_IN_INPUT, install_error_handlers
from shared.i18n import Text, negotiate
from shared.logging import request_id_var

log = logging.getLogger("shared.http")

REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"])

_TOO_LARGE = Text("Isi permintaan terlalu besar.", "The request body is too large.")


class RequestContextMiddleware:
    """Request id (from `X-Request-ID` or new), access log line, metrics, and the body size limit."""

    def __init__(self, app: ASGIApp, *, service: str, max_body_bytes: int) -> None:
        self.app = app
        self.service = service
        self.max_body = max_body_bytes
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = declared = language = None
        is_json = False
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                request_id = value[:100].decode("latin-1")
            elif key == b"content-length":
                declared = value
            elif key == b"accept-language":
                language = value.decode("latin-1")
            elif key == b"content-type":
                is_json = b"json" in value
        request_id = request_id or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = [500]
        limit = self.max_body
        if _LARGE_BODY_PATHS:
            limit = next((n for prefix, n in _LARGE_BODY_PATHS.items() if scope["path"].startswith(prefix)), limit)
        request_id_header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"].append(request_id_header)
            await send(message)

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        try:
            if b"%00" in scope["query_string"] or "\x00" in scope["path"]:
                # No text column takes a NUL character (PostgreSQL refuses it): refused here, for every route.
                await _send_problem(send_wrapper, 422, "nul_character", "NUL character", _NUL, language)
            elif declared is not None and declared.isdigit() and int(declared) > limit:
                await _send_too_large(send_wrapper, language)
            elif is_json and scope["method"] not in ("GET", "HEAD"):
                # A JSON body is read whole by the app anyway: read it here (within the limit), refuse a NUL
                # escaped in it (no text column takes one: PostgreSQL refuses it), then hand it on.
                body = await _read_body(receive_wrapper)
                if body is None:
                    await _send_too_large(send_wrapper, language)
                elif b"\\u0000" in body:
                    await _send_problem(send_wrapper, 422, "nul_character", "NUL character", NUL_IN_INPUT, language)
                else:
                    await self.app(scope, _replay(body, receive), send_wrapper)
            elif declared is not None and declared.isdigit():
                # The declared length is within the limit, and the server enforces it: no need to count.
                await self.app(scope, receive, send_wrapper)
            elif scope["method"] in ("GET", "HEAD") and declared is None:
                await self.app(scope, receive, send_wrapper)
            else:
                try:
                    await self.app(scope, receive_wrapper, send_wrapper)
                except _BodyTooLarge:
                    await _send_too_large(send_wrapper, language)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            status = status_holder[0]
            key = (scope["method"], route, status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (
                    REQUESTS.labels(self.service, scope["method"], route, str(status)),
                    LATENCY.labels(self.service, scope["method"], route),
                )
            series[0].inc()
            series[1].observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %s",
                    scope["method"],
                    route,
                    status,
                    extra={
                        "service": self.service,
                        "method": scope["method"],
                        "path": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
            request_id_var.reset(token)


# Path prefixes that accept a larger body than the service default (uploads).
_LARGE_BODY_PATHS: dict[str, int] = {}


def allow_large_body(path_prefix: str, max_bytes: int) -> None:
    """Let requests under `path_prefix` carry up to `max_bytes` (image uploads, CSV imports)."""
    _LARGE_BODY_PATHS[path_prefix] = max_bytes


_NUL = Text(
    "Alamat permintaan memuat karakter NUL (%00), yang tidak diterima.",
    "The request address contains a NUL character (%00), which is not accepted.",
)


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when it passes the size limit (`receive` raises _BodyTooLarge)."""
    chunks: list[bytes] = []
    try:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
    except _BodyTooLarge:
        return None
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that gives `body` once, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_too_large(send: Send, accept_language: str | None) -> None:
    await _send_problem(send, 413, "payload_too_large", "Payload too large", _TOO_LARGE, accept_language, close=True)


async def _send_problem(
    send: Send, status: int, code: str, title: str, detail: Text, accept_language: str | None, *, close: bool = False
) -> None:
    """A problem+json answer given before the request reaches the app (so nothing is read or stored)."""
    body = json.dumps(
        {
            "type": f"https://prakerja.example/problems/{code}",
            "title": title,
            "status": status,
            "code": code,
            "detail": detail.get(negotiate(accept_language)),
        }
    ).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_app(
    *, title: str, description: str, version: str, settings: Any, lifespan: Any, routers: Sequence[APIRouter]
) -> FastAPI:
    """The service's app: its routers first (requests are matched against routes in order, and the
    service's own endpoints are the hot ones), then /healthz, /readyz and /metrics, then the docs."""
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        swagger_ui_init_oauth={"clientId": "swagger-ui", "usePkceWithAuthorizationCodeGrant": False},
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    app.include_router(health.router)
    app.openapi_url, app.docs_url, app.redoc_url = "/openapi.json", "/docs", "/redoc"
    app.setup()  # adds the routes of the three URLs just set
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "Retry-After", "Location"],
        max_age=600,
    )
    app.add_middleware(RequestContextMiddleware, service=settings.service_name, max_body_bytes=settings.max_body_bytes)
    return app
