"""Fixtures: a migrated database per service and backend (SQLite always, PostgreSQL when reachable or in CI),
emptied after each test; the real broker (Tansu) and a real SMTP server; an ASGI client helper.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from shared.dev.broker import Broker, start_broker
from shared.dev.smtp import MaildirSMTP

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
_pg_state: dict[str, Any] = {}


def _postgres_reachable() -> tuple[bool, str]:
    if "ok" not in _pg_state:

        async def probe() -> None:
            engine = create_async_engine(PG_URL)
            try:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            finally:
                await engine.dispose()

        try:
            asyncio.run(asyncio.wait_for(probe(), 5))
            _pg_state.update(ok=True, why="")
        except Exception as exc:  # noqa: BLE001 - any failure means unreachable
            _pg_state.update(ok=False, why=f"{type(exc).__name__}: {exc}")
    return _pg_state["ok"], _pg_state["why"]


def backends() -> list[str]:
    wanted = os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",")
    return [b.strip() for b in wanted if b.strip()]


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"database backends: {', '.join(backends())}"]
    if "postgresql" in backends():
        ok, why = _postgres_reachable()
        safe = make_url(PG_URL).render_as_string(hide_password=True)
        if ok:
            lines.append(f"PostgreSQL: {safe} reachable, tests run on it too")
        elif os.environ.get("CI") == "true":
            lines.append(f"PostgreSQL: {safe} NOT reachable ({why}); required under CI, tests will fail")
        else:
            lines.append(f"PostgreSQL: {safe} NOT reachable ({why}); SKIPPING the PostgreSQL run")
    return lines


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if "postgresql" in backends() and not _postgres_reachable()[0] and os.environ.get("CI") != "true":
        terminalreporter.write_line(
            "NOTE: PostgreSQL was not reachable, so the PostgreSQL run was skipped (SQLite ran).", yellow=True
        )


def require_postgresql() -> None:
    """Skip the test when PostgreSQL is not reachable; under CI (CI=true) fail it instead."""
    ok, why = _postgres_reachable()
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {why}")
        pytest.skip(f"PostgreSQL not reachable ({why}); set TEST_POSTGRES_URL to run on it")


@pytest.fixture(scope="session", params=backends())
def db_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    if backend == "postgresql":
        require_postgresql()
    return backend


class ServiceDatabases:
    """Creates one migrated database per (service, backend) for the session, and empties it between tests."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.urls: dict[tuple[str, str], str] = {}
        self.created_pg: list[str] = []

    async def get(self, service: str, backend: str) -> str:
        key = (service, backend)
        if key not in self.urls:
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{self.tmp / f'{service}.db'}"
            else:
                name = f"test_{service}_{uuid.uuid4().hex[:8]}"
                await _pg_admin(f'CREATE DATABASE "{name}"')
                self.created_pg.append(name)
                url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            from shared.migrate import upgrade

            await asyncio.to_thread(upgrade, service, url)
            self.urls[key] = url
        return self.urls[key]

    async def drop_all(self) -> None:
        for name in self.created_pg:
            with contextlib.suppress(Exception):
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _pg_admin(sql: str) -> None:
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def service_databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServiceDatabases]:
    dbs = ServiceDatabases(tmp_path_factory.mktemp("db"))
    yield dbs
    await dbs.drop_all()


async def empty_tables(url: str, metadata: MetaData, keep: tuple[str, ...] = ()) -> None:
    """Delete every row of the service's tables (children first), keeping tables named in `keep`."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            names = [t.name for t in reversed(metadata.sorted_tables) if t.name not in keep]
            if engine.dialect.name == "postgresql" and names:
                await conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
            else:
                for name in names:
                    await conn.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 - names from our metadata
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """The real development broker on a free port, for the whole session."""
    instance = start_broker()
    yield instance
    instance.stop()


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[MaildirSMTP]:
    server = MaildirSMTP(tmp_path / "mail").start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def running_app(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the app's lifespan and yields an HTTP client over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Polls `check` until it returns a truthy value (or raises AssertionError at `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
