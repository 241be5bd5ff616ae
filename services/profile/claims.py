"""NIK claims: the rightful owner of a NIK verified on someone else's account asks ops to decide.

Filing a claim needs the claimant's own KTP photo and selfie, and the NIK must pass the registry check
against the claimant's name and birth date. Ops see both sides' evidence and decide; the losing account's
NIK verification is revoked, both are told, and every step is in the audit log.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import errors, repository
from services.profile.crypto import mask_number
from services.profile.models import NikClaim, Profile
from services.profile.service import (
    ProfileContext,
    add_attempt,
    audit,
    check_nik,
    maybe_complete,
    record_attempt,
    set_identity,
)
from shared.auth import Principal
from shared.db import utcnow
from shared.events.notification import NotificationRequested
from shared.events.profile import ProfileIdentityRevoked
from shared.i18n import Locale


async def open_claim(
    ctx: ProfileContext, principal: Principal, *, nik: str, birth_date: date, locale: Locale
) -> NikClaim:
    account_id = principal.account_id
    async with ctx.db.sessionmaker() as session, session.begin():
        account = await repository.account_name(session, account_id)
        mine = await repository.profile(session, account_id)
        kinds = {d.kind for d in await repository.documents(session, account_id)}
    if account is None:
        raise errors.AccountNotReady()
    if mine is not None and mine.identity_verified_at is not None:
        raise errors.IdentityLocked()
    if not {"ktp", "selfie"} <= kinds:
        raise errors.ClaimNeedsDocuments()
    checked = await check_nik(
        ctx,
        account_id,
        nik=nik,
        kk=None,
        birth_date=birth_date,
        locale=locale,
        purpose="claim",
        full_name=account.full_name,
    )
    async with ctx.db.sessionmaker() as session, session.begin():
        holder = await repository.nik_holder(session, checked.nik_hash)
        if holder is None or holder.account_id == account_id:
            refusal: errors.DomainError = errors.ClaimNotNeeded()
        elif await repository.open_claim(session, account_id, checked.nik_hash) is not None:
            refusal = errors.ClaimAlreadyOpen()
        else:
            now = utcnow()
            claim = NikClaim(
                id=uuid.uuid4(),
                claimant_id=account_id,
                holder_id=holder.account_id,
                nik_cipher=ctx.crypto.cipher.encrypt(checked.parts.nik, column="nik"),
                nik_hash=checked.nik_hash,
                kk_cipher=ctx.crypto.cipher.encrypt(checked.kk, column="kk"),
                kk_hash=ctx.crypto.index(checked.kk),
                birth_date=birth_date,
                sex=checked.record.sex,
                status="open",
                opened_at=now,
            )
            await repository.add_claim(session, claim)
            await add_attempt(ctx, session, account_id, checked.nik_hash, "claim_opened", "claim")
            await audit(session, principal, "nik_claim.opened", account_id, target=str(claim.id))
            await _notify(ctx, session, account_id, "nik_claim_opened", claim, mask_number(checked.parts.nik) or "")
            await audit(session, principal, "nik_claim.opened", holder.account_id, target=str(claim.id))
            return claim
    await record_attempt(ctx, account_id, checked.nik_hash, refusal.code, "claim")
    raise refusal


def nik_masked(ctx: ProfileContext, claim: NikClaim) -> str:
    return mask_number(ctx.crypto.cipher.decrypt(claim.nik_cipher, column="nik")) or ""


async def decide(
    ctx: ProfileContext,
    session: AsyncSession,
    principal: Principal,
    claim_id: uuid.UUID,
    outcome: Literal["claimant", "holder"],
    note: str,
) -> NikClaim:
    claim = await repository.claim(session, claim_id, for_update=True)
    if claim is None:
        raise errors.ClaimNotFound()
    if claim.status != "open":
        raise errors.ClaimDecided()
    now = utcnow()
    if outcome == "claimant":
        claimant = await repository.ensure_profile(session, claim.claimant_id, now)
        if claimant.identity_verified_at is not None:
            raise errors.IdentityLocked()
        holder = await repository.profile(session, claim.holder_id, for_update=True)
        if holder is not None and holder.nik_hash == claim.nik_hash and holder.identity_verified_at is not None:
            _revoke(holder, f"nik_claim:{claim.id}")
            await ctx.outbox.add(
                session,
                ProfileIdentityRevoked(account_id=holder.account_id, revoked_at=now, nik_hash=claim.nik_hash),
                key=holder.account_id,
            )
            await session.flush()  # frees the NIK in the unique index before the claimant takes it
        nik = ctx.crypto.cipher.decrypt(claim.nik_cipher, column="nik")
        kk = ctx.crypto.cipher.decrypt(claim.kk_cipher, column="kk") if claim.kk_cipher else ""
        set_identity(ctx, claimant, nik, claim.nik_hash, kk, claim.birth_date, claim.sex)
        await session.flush()
        await maybe_complete(ctx, session, claimant)
    claim.status = outcome
    claim.decided_at = now
    claim.decided_by = principal.subject
    claim.decision_note = note
    masked = nik_masked(ctx, claim)
    for account_id, role in ((claim.claimant_id, "claimant"), (claim.holder_id, "holder")):
        won = role == outcome
        # From each reader's side: the claimant's claim approved or rejected; the holder's NIK kept or revoked.
        result = ("approved" if won else "rejected") if role == "claimant" else ("kept" if won else "revoked")
        await _notify(
            ctx,
            session,
            account_id,
            "nik_claim_decided",
            claim,
            masked,
            role=role,
            outcome=result,
            decided_at=now.isoformat(),
        )
        await audit(session, principal, "nik_claim.decided", account_id, target=str(claim.id), reason=note)
    await session.flush()
    return claim


async def _notify(
    ctx: ProfileContext,
    session: AsyncSession,
    account_id: uuid.UUID,
    template: str,
    claim: NikClaim,
    masked: str,
    **params: str,
) -> None:
    """Inbox and e-mail; notification resolves the e-mail address from its contact projection."""
    account = await repository.account_name(session, account_id)
    await ctx.outbox.add(
        session,
        NotificationRequested(
            account_id=account_id,
            template=template,
            channels=["inbox", "email"],
            locale="en" if account is not None and account.locale == "en" else "id",
            email=None,
            params={
                "full_name": account.full_name if account else "",
                "claim_id": str(claim.id),
                "nik_masked": masked,
                **params,
            },
        ),
        key=account_id,
    )


def _revoke(holder: Profile, reason: str) -> None:
    now = utcnow()
    holder.identity_verified_at = None
    holder.identity_revoked_at = now
    holder.identity_revoked_reason = reason
    holder.updated_at = now
