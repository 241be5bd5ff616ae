"""profile's rules: NIK verification against the civil registry, personal data, documents, status and the
one-time `profile.completed`.

Functions that take a session never commit (the request's session dependency does). NIK verification takes
the Database instead: it asks the registry with no transaction open (a slow registry must not hold a lock)
and must record every attempt even when the answer is a refusal, so it runs its own short transactions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import errors, repository
from services.profile.config import ProfileSettings
from services.profile.crypto import Crypto
from services.profile.models import Address, AuditEntry, Document, Profile, VerificationAttempt
from services.profile.regions import check_address, plain_code
from services.profile.registry import CivilRegistry, RegistryDown, RegistryRecord
from services.profile.schemas import AddressIn, PersonalUpdate
from services.profile.storage import ObjectStorage
from shared.auth import Principal
from shared.db import Database, utcnow
from shared.errors import DomainError
from shared.events.profile import ProfileCompleted
from shared.i18n import Locale
from shared.logging import request_id_var
from shared.messaging import Outbox
from shared.nik import NikParts, check_identity, digits_only, names_match

STEPS = ("identity", "personal", "ktp_photo", "selfie", "phone", "declaration")


@dataclass
class ProfileContext:
    """What profile's rules need, built once per app."""

    db: Database
    settings: ProfileSettings
    crypto: Crypto
    registry: CivilRegistry
    storage: ObjectStorage
    outbox: Outbox


def today_wib() -> date:
    """The calendar date in Western Indonesia (UTC+7), where a birth date 'in the future' is judged."""
    return (utcnow() + timedelta(hours=7)).date()


async def record_attempt(
    ctx: ProfileContext, account_id: uuid.UUID, nik_hash: str | None, outcome: str, purpose: str = "identity"
) -> None:
    async with ctx.db.sessionmaker() as session, session.begin():
        await add_attempt(ctx, session, account_id, nik_hash, outcome, purpose)


async def add_attempt(
    ctx: ProfileContext, session: AsyncSession, account_id: uuid.UUID, nik_hash: str | None, outcome: str, purpose: str
) -> None:
    await repository.add_attempt(
        session,
        VerificationAttempt(
            account_id=account_id,
            nik_hash=nik_hash,
            purpose=purpose,
            outcome=outcome,
            registry_mode=ctx.registry.name,
            created_at=utcnow(),
        ),
    )


def registry_verdict(
    ctx: ProfileContext, record: RegistryRecord | None, birth_date: date, full_name: str, kk: str | None
) -> DomainError | None:
    """The registry's answer judged against what the applicant gave; None when it all matches."""
    centre = ctx.settings.dukcapil_call_centre
    if record is None:
        return errors.NikNotFound(call_centre=centre)
    # Birth date and name first: only someone who knows both learns anything more about the NIK's holder.
    if record.birth_date != birth_date:
        return errors.BirthDateMismatch()
    if not names_match(record.full_name, full_name):
        return errors.NameMismatch()
    if not record.alive:
        return errors.NikDeceased(call_centre=centre)
    if not record.kk_linked or not record.kk:
        return errors.NikNotLinkedToKk(call_centre=centre)
    if kk is not None and kk != record.kk:
        return errors.KkMismatch()
    return None


@dataclass(frozen=True)
class CheckedNik:
    parts: NikParts
    nik_hash: str
    record: RegistryRecord
    kk: str


async def check_nik(
    ctx: ProfileContext,
    account_id: uuid.UUID,
    *,
    nik: str,
    kk: str | None,
    birth_date: date,
    locale: Locale,
    purpose: str,
    full_name: str,
) -> CheckedNik:
    """Structure, then the registry. Every refusal is recorded as an attempt and raised."""
    digits = digits_only(nik)
    nik_hash = ctx.crypto.index(digits) if len(digits) == 16 and digits.isdigit() else None
    parts, issues = check_identity(nik, kk, birth_date, today_wib())
    if issues or parts is None or nik_hash is None:
        await record_attempt(ctx, account_id, nik_hash, issues[0].code, purpose)
        raise errors.NikInvalid(issues, locale)
    kk_digits = digits_only(kk) if kk else None
    try:
        record = await ctx.registry.lookup(parts.nik)
    except RegistryDown as exc:
        await record_attempt(ctx, account_id, nik_hash, "registry_unavailable", purpose)
        raise errors.RegistryUnavailable(exc.retry_after) from exc
    verdict = registry_verdict(ctx, record, birth_date, full_name, kk_digits)
    if verdict is not None:
        await record_attempt(ctx, account_id, nik_hash, verdict.code, purpose)
        raise verdict
    assert record is not None and record.kk is not None
    return CheckedNik(parts=parts, nik_hash=nik_hash, record=record, kk=record.kk)


async def verify_identity(
    ctx: ProfileContext, account_id: uuid.UUID, *, nik: str, kk: str | None, birth_date: date, locale: Locale
) -> Profile:
    """PUT /identity: structure at once, then the registry, then one NIK per account."""
    async with ctx.db.sessionmaker() as session, session.begin():
        account = await repository.account_name(session, account_id)
        current = await repository.profile(session, account_id)
    if account is None:
        raise errors.AccountNotReady()
    if current is not None and current.identity_verified_at is not None:
        digits = digits_only(nik)
        if current.nik_hash == ctx.crypto.index(digits) and current.birth_date == birth_date:
            return current  # the same NIK again: nothing to do
        await record_attempt(ctx, account_id, None, errors.IdentityLocked.code)
        raise errors.IdentityLocked()
    checked = await check_nik(
        ctx,
        account_id,
        nik=nik,
        kk=kk,
        birth_date=birth_date,
        locale=locale,
        purpose="identity",
        full_name=account.full_name,
    )
    try:
        async with ctx.db.sessionmaker() as session, session.begin():
            holder = await repository.nik_holder(session, checked.nik_hash)
            if holder is not None and holder.account_id != account_id:
                await add_attempt(
                    ctx, session, account_id, checked.nik_hash, errors.NikAlreadyRegistered.code, "identity"
                )
                refused: DomainError | None = errors.NikAlreadyRegistered()
            else:
                refused = None
                await add_attempt(ctx, session, account_id, checked.nik_hash, "verified", "identity")
                row = await repository.ensure_profile(session, account_id, utcnow())
                set_identity(ctx, row, checked.parts.nik, checked.nik_hash, checked.kk, birth_date, checked.record.sex)
                await session.flush()
                await maybe_complete(ctx, session, row)
    except IntegrityError:
        # Another account verified the same NIK a moment ago (the unique index decided).
        await record_attempt(ctx, account_id, checked.nik_hash, errors.NikAlreadyRegistered.code)
        raise errors.NikAlreadyRegistered() from None
    if refused is not None:
        raise refused
    return row


def set_identity(
    ctx: ProfileContext, row: Profile, nik: str, nik_hash: str, kk: str, birth_date: date, sex: str
) -> None:
    now = utcnow()
    row.nik_cipher = ctx.crypto.cipher.encrypt(nik, column="nik")
    row.nik_hash = nik_hash
    row.kk_cipher = ctx.crypto.cipher.encrypt(kk, column="kk")
    row.kk_hash = ctx.crypto.index(kk)
    row.birth_date = birth_date
    row.sex = sex
    row.identity_verified_at = now
    row.identity_revoked_at = None
    row.identity_revoked_reason = None
    row.updated_at = now


def _address_row(account_id: uuid.UUID, kind: str, a: AddressIn) -> Address:
    return Address(
        account_id=account_id,
        kind=kind,
        province_code=plain_code(a.province_code),
        regency_code=plain_code(a.regency_code),
        district_code=plain_code(a.district_code),
        village_code=plain_code(a.village_code),
        street=a.street,
        rt=a.rt,
        rw=a.rw,
        postal_code=a.postal_code,
    )


async def update_personal(
    ctx: ProfileContext, session: AsyncSession, account_id: uuid.UUID, body: PersonalUpdate, locale: Locale
) -> Profile:
    """PUT /personal: both addresses checked against Kemendagri's regions, then stored."""
    given = [("body.residential_address", body.residential_address)]
    if body.domicile_address is not None:
        given.append(("body.domicile_address", body.domicile_address))
    issues = [
        issue
        for prefix, address in given
        for issue in check_address(prefix, address.model_dump(include=_CODES), address.postal_code)
    ]
    if issues:
        raise errors.AddressInvalid(issues, locale)
    now = utcnow()
    row = await repository.ensure_profile(session, account_id, now)
    rows = [_address_row(account_id, "ktp", body.residential_address)]
    if body.domicile_address is not None:
        rows.append(_address_row(account_id, "domicile", body.domicile_address))
    await repository.replace_addresses(session, account_id, rows)
    row.domicile_same_as_ktp = body.domicile_same_as_ktp
    row.education = body.education
    row.employment_status = body.employment_status
    row.is_student = body.is_student
    row.personal_updated_at = now
    row.updated_at = now
    await session.flush()
    await maybe_complete(ctx, session, row)
    return row


_CODES = {"province_code", "regency_code", "district_code", "village_code"}


async def save_document(
    ctx: ProfileContext,
    session: AsyncSession,
    account_id: uuid.UUID,
    kind: str,
    *,
    key: str,
    width: int,
    height: int,
    size: int,
    sha256: str,
) -> tuple[Document, str | None]:
    """Point the profile at a stored image; returns the row and the replaced object's key (to delete later)."""
    now = utcnow()
    row = await repository.ensure_profile(session, account_id, now)
    existing = await repository.document(session, account_id, kind)
    old_key = existing.object_key if existing is not None else None
    doc = existing or Document(account_id=account_id, kind=kind)
    doc.object_key = key
    doc.content_type = "image/jpeg"
    doc.width, doc.height, doc.size_bytes, doc.sha256 = width, height, size, sha256
    doc.uploaded_at = now
    session.add(doc)
    row.updated_at = now
    await session.flush()
    await maybe_complete(ctx, session, row)
    return doc, old_key


def step_times(row: Profile | None, docs: list[Document]) -> dict[str, datetime | None]:
    """When each step was done (None = pending)."""
    by_kind = {d.kind: d.uploaded_at for d in docs}
    if row is None:
        return dict.fromkeys(STEPS)
    return {
        "identity": row.identity_verified_at,
        "personal": row.personal_updated_at,
        "ktp_photo": by_kind.get("ktp"),
        "selfie": by_kind.get("selfie"),
        "phone": row.phone_verified_at,
        "declaration": row.declaration_accepted_at,
    }


async def maybe_complete(ctx: ProfileContext, session: AsyncSession, row: Profile) -> bool:
    """Queue profile.completed when every step is done, exactly once per account (conditional update)."""
    if row.completed_at is not None:
        return False
    docs = await repository.documents(session, row.account_id)
    if not all(step_times(row, docs).values()):
        return False
    now = utcnow()
    if not await repository.mark_completed(session, row.account_id, now):
        return False
    row.completed_at = now
    addresses = await repository.addresses(session, row.account_id)
    home = addresses.get("ktp") if row.domicile_same_as_ktp else addresses.get("domicile")
    assert row.nik_hash and row.birth_date and row.sex in ("L", "P") and row.education and row.employment_status
    await ctx.outbox.add(
        session,
        ProfileCompleted(
            account_id=row.account_id,
            completed_at=now,
            nik_hash=row.nik_hash,
            kk_hash=row.kk_hash,
            birth_date=row.birth_date,
            sex=row.sex,
            province_code=home.province_code if home else None,
            regency_code=home.regency_code if home else None,
            district_code=home.district_code if home else None,
            village_code=home.village_code if home else None,
            education=row.education,
            employment_status=row.employment_status,
            is_student=bool(row.is_student),
        ),
        key=row.account_id,
    )
    return True


async def audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    subject: uuid.UUID | None,
    *,
    target: str | None = None,
    reason: str | None = None,
) -> None:
    """One line in the audit log: who did what to whose data, when and why."""
    await repository.audit(
        session,
        AuditEntry(
            at=utcnow(),
            actor=principal.subject,
            actor_roles=",".join(sorted(principal.roles)),
            action=action,
            subject_account_id=subject,
            target=target,
            reason=reason,
            request_id=request_id_var.get(),
        ),
    )
