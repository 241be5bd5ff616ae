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


def sample_photos(directory: Path) -> list[Path]:
    """Synthetic stand-ins for a KTP photo and a selfie with the KTP, for trying the upload by hand."""
    import random

    from PIL import Image, ImageDraw

    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    ktp = Image.new("RGB", (1200, 760), (120, 170, 215))
    draw = ImageDraw.Draw(ktp)
    draw.rectangle((40, 40, 1160, 120), fill=(70, 110, 170))
    draw.text((60, 65), "PROVINSI JAWA BARAT - KOTA DEPOK", fill=(255, 255, 255))
    for row, label in enumerate(["NIK", "Nama", "Tempat/Tgl Lahir", "Alamat", "RT/RW", "Kel/Desa", "Kecamatan"]):
        draw.text((70, 160 + row * 60), f"{label:<18}: " + "X" * rng.randint(8, 24), fill=(20, 20, 40))
    draw.rectangle((880, 170, 1120, 480), fill=(200, 200, 210), outline=(40, 40, 60), width=4)
    selfie = Image.new("RGB", (900, 1200), (150, 140, 130))
    draw = ImageDraw.Draw(selfie)
    for y in range(0, 1200, 8):
        shade = 110 + (y * 90) // 1200
        draw.rectangle((0, y, 900, y + 8), fill=(shade, shade - 10, shade - 20))
    draw.ellipse((270, 150, 630, 600), fill=(205, 160, 120))
    draw.rectangle((250, 700, 650, 950), fill=(120, 170, 215), outline=(30, 30, 30), width=5)
    paths = [directory / "ktp.jpg", directory / "selfie.jpg"]
    for image, path in zip((ktp, selfie), paths, strict=True):
        image.save(path, "JPEG", quality=90)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.profile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    dev = sub.add_parser("dev-data", help="load the synthetic civil registry CSV into the embedded registry")
    dev.add_argument("--csv", type=Path, default=None, help="default: PROFILE_REGISTRY_CSV")
    photos = sub.add_parser("sample-photos", help="write a synthetic KTP photo and selfie to try the uploads")
    photos.add_argument("--dir", type=Path, default=Path("var/samples"))
    args = parser.parse_args(argv)
    if args.cmd == "sample-photos":
        for path in sample_photos(args.dir):
            print(path)
        return 0
    settings = get_settings()
    path = args.csv or settings.registry_csv
    started = time.perf_counter()
    total = asyncio.run(load_registry(settings.resolved_database_url(), path))
    print(f"civil registry: {total} records from {path} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
