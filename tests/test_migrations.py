"""Every service's Alembic history builds exactly the schema its models declare, on both databases, and
can be walked back down to nothing."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from shared.migrate import alembic_config, existing_services, include_name
from shared.testing.plugin import ServiceDatabases


def _metadata(service: str):
    return importlib.import_module(f"services.{service}.models").Base.metadata


def _differences(connection, metadata) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
    return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("service", existing_services())
async def test_migrations_match_the_models(service: str, service_databases: ServiceDatabases, db_backend: str):
    url = await service_databases.get(service, db_backend)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences, _metadata(service))
    finally:
        await engine.dispose()
    assert differences == [], f"{service}: models and migrations differ: {differences}"


@pytest.mark.parametrize("service", existing_services())
async def test_migrations_go_down_and_up_again(service: str, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
    config = alembic_config(service, url)
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "head")
