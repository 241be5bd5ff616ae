"""`python -m services.profile dev-data`: the synthetic registry, loaded in bulk and idempotently."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select

from services.profile.__main__ import load_registry
from services.profile.models import RegistryRecord
from shared.db import Database
from tests.profile.conftest import REGISTRY_CSV, ROOT


async def test_loading_twice_changes_nothing(profile_url):
    assert await load_registry(profile_url, REGISTRY_CSV) == 10_000
    assert await load_registry(profile_url, REGISTRY_CSV) == 10_000
    db = Database(profile_url)
    try:
        async with db.sessionmaker() as session:
            budi = await session.get(RegistryRecord, "3276011705910001")
            not_linked = await session.get(RegistryRecord, "3174011403940001")
            dead = (await session.execute(select(func.count()).where(RegistryRecord.status == "deceased"))).scalar_one()
    finally:
        await db.dispose()
    assert (budi.full_name, str(budi.birth_date), budi.kk, budi.region_code) == (
        "BUDI SANTOSO",
        "1991-05-17",
        "3276012503060001",
        "3276011006",
    )
    assert not_linked.kk is None and not not_linked.kk_linked
    assert dead == 99


async def test_the_command_line(profile_url):
    env = {**os.environ, "PROFILE_DATABASE_URL": profile_url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "services.profile", "dev-data"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "civil registry: 10000 records" in done.stdout
