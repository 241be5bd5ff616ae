"""profile's command line.

  python -m services.profile dev-data [--csv PATH]   # load the synthetic civil registry (make run)

The load is idempotent (an upsert by NIK, in batches): run it as often as you like.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from services.profile import repository
from services.profile.config import get_settings
from shared.db import Database

BATCH = 2000


def read_registry_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            {
                "nik": r["nik"],
                "kk": r["kk"] or None,
                "full_name": r["full_name"],
                "birth_date": date.fromisoformat(r["birth_date"]),
                "birth_place": r["birth_place"],
                "gender": r["gender"],
                "address": r["address"],
                "region_code": r["region_code"],
                "status": r["status"],
                "kk_linked": r["kk_linked"] == "true",
            }
            for r in csv.DictReader(f)
        ]


async def load_registry(database_url: str, path: Path) -> int:
    """Upsert every row of the CSV into the embedded registry; returns the table's row count."""
    rows = read_registry_csv(path)
    db = Database(database_url)
    try:
        async with db.sessionmaker() as session, session.begin():
            for start in range(0, len(rows), BATCH):
                await repository.upsert_registry(session, rows[start : start + BATCH])
            return await repository.count_registry(session)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.profile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    dev = sub.add_parser("dev-data", help="load the synthetic civil registry CSV into the embedded registry")
    dev.add_argument("--csv", type=Path, default=None, help="default: PROFILE_REGISTRY_CSV")
    args = parser.parse_args(argv)
    settings = get_settings()
    path = args.csv or settings.registry_csv
    started = time.perf_counter()
    total = asyncio.run(load_registry(settings.resolved_database_url(), path))
    print(f"civil registry: {total} records from {path} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
