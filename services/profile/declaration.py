"""The applicant's declaration (pernyataan pendaftar): the statements, their text and version.

The excluded groups are those of Permenko 11/2020 as the programme lists them. Changing any wording means a
new VERSION: an acceptance always records the version the applicant read.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import errors, repository
from services.profile.models import Declaration, Profile
from services.profile.service import ProfileContext, maybe_complete
from shared.db import utcnow
from shared.i18n import Text

VERSION = "2026-11-26"


@dataclass(frozen=True)
class Statement:
    id: str
    text: Text


EXCLUDED_GROUPS = (
    Text("Pejabat Negara", "State officials"),
    Text("Pimpinan dan Anggota DPR/DPRD", "Leaders and members of the DPR/DPRD"),
    Text("Aparatur Sipil Negara (ASN)", "Civil servants (ASN)"),
    Text("Prajurit Tentara Nasional Indonesia (TNI)", "Soldiers of the Indonesian National Armed Forces (TNI)"),
    Text("Anggota Kepolisian Negara Republik Indonesia (Polri)", "Members of the Indonesian National Police (Polri)"),
    Text("Kepala Desa dan perangkat desa", "Village heads and village officials"),
    Text(
        "Direksi, Komisaris, dan Dewan Pengawas pada BUMN atau BUMD",
        "Directors, commissioners and supervisory board members of BUMN or BUMD (state- or region-owned companies)",
    ),
)


def _groups(locale: str) -> str:
    return "; ".join(f"{i}. {g.en if locale == 'en' else g.id}" for i, g in enumerate(EXCLUDED_GROUPS, 1))


STATEMENTS: tuple[Statement, ...] = (
    Statement(
        "data_true_and_own",
        Text(
            "Data yang saya isi adalah benar dan milik saya sendiri, sesuai KTP dan Kartu Keluarga. Saya tidak "
            "memberikan data palsu atau memanipulasi data.",
            "The data I entered is true and my own, as on my KTP and family card. I have not given false or "
            "manipulated data.",
        ),
    ),
    Statement(
        "not_in_excluded_group",
        Text(
            f"Saya tidak termasuk kelompok yang dilarang menerima Kartu Prakerja: {_groups('id')}.",
            f"I do not belong to a group barred from the Prakerja card: {_groups('en')}.",
        ),
    ),
    Statement(
        "not_receiving_other_aid",
        Text(
            "Saya tidak sedang menerima bantuan lain dari pemerintah: bansos Kemensos (DTKS), Bantuan Subsidi Upah "
            "(BSU), atau Banpres Produktif Usaha Mikro (BPUM), dan bukan penerima Kartu Prakerja sebelumnya.",
            "I am not receiving other government aid: Ministry of Social Affairs social aid (DTKS), the wage "
            "subsidy (BSU) or the micro-business grant (BPUM), and I have not received a Prakerja card before.",
        ),
    ),
    Statement(
        "not_in_school",
        Text(
            "Saya tidak sedang sekolah atau kuliah.",
            "I am not currently in school or university.",
        ),
    ),
    Statement(
        "accept_terms",
        Text(
            "Saya telah membaca dan menyetujui Syarat dan Ketentuan serta Kebijakan Privasi Program Kartu Prakerja, "
            "termasuk pemeriksaan data saya ke Dukcapil dan kementerian/lembaga terkait.",
            "I have read and accept the Terms and Conditions and the Privacy Policy of the Prakerja programme, "
            "including the checking of my data with Dukcapil and the ministries and agencies concerned.",
        ),
    ),
)

STATEMENT_IDS = tuple(s.id for s in STATEMENTS)


async def accept(ctx: ProfileContext, session: AsyncSession, account_id: uuid.UUID, version: str) -> Profile:
    """Record the affirmed statements with the version read; refused if it contradicts the personal data."""
    if version != VERSION:
        raise errors.DeclarationOutdated(current=VERSION)
    now = utcnow()
    row = await repository.ensure_profile(session, account_id, now)
    if row.is_student:
        raise errors.DeclarationContradictsProfile()
    await repository.add_declaration(
        session,
        Declaration(account_id=account_id, version=version, statements=json.dumps(STATEMENT_IDS), accepted_at=now),
    )
    row.declaration_version = version
    row.declaration_accepted_at = now
    row.updated_at = now
    await session.flush()
    await maybe_complete(ctx, session, row)
    return row
