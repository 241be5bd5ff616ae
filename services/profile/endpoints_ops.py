"""NIK claims (filed by applicants, decided by ops) and ops' reads of profiles; every ops read is audit-logged."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import claims, errors, repository
from services.profile.endpoints import CtxDep, Kind, LimiterDep, document_response
from services.profile.models import NikClaim
from services.profile.schemas import (
    Claim,
    ClaimCreate,
    ClaimDecision,
    ClaimDetail,
    ClaimPage,
    ClaimSide,
    ProfileOut,
    VerificationAttemptOut,
    VerificationAttempts,
)
from services.profile.service import ProfileContext, audit
from services.profile.views import document_info, profile_out
from shared.auth import ApplicantDep, OpsDep
from shared.db import ReadSessionDep, SessionDep
from shared.errors import locale_of, problem_responses

router = APIRouter()

Reason = Annotated[str, Query(min_length=3, max_length=500, description="Why ops opens this personal data (audited)")]


def _claim(ctx: ProfileContext, row: NikClaim, *, with_decision: bool = False) -> Claim:
    return Claim(
        id=row.id,
        status=row.status,
        nik_masked=claims.nik_masked(ctx, row),
        opened_at=row.opened_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by if with_decision else None,
        decision_note=row.decision_note if with_decision else None,
    )


@router.post(
    "/v1/profiles/me/nik-claims",
    response_model=Claim,
    status_code=status.HTTP_201_CREATED,
    tags=["nik-claims"],
    summary="Claim my NIK, which another account holds",
    responses=problem_responses(
        errors.ClaimNeedsDocuments,
        errors.ClaimNotNeeded,
        errors.ClaimAlreadyOpen,
        errors.IdentityLocked,
        errors.NikInvalid,
        errors.NikNotFound,
        errors.NameMismatch,
        errors.BirthDateMismatch,
        errors.RegistryUnavailable,
    ),
)
async def open_claim(
    body: ClaimCreate, request: Request, principal: ApplicantDep, ctx: CtxDep, limiter: LimiterDep
) -> Claim:
    """Upload your KTP photo and a selfie holding it first. The NIK is checked against the civil registry with
    your account's name and your birth date; staff then compare both accounts' evidence and decide.
    """
    # The same budget as NIK verification: both ask the registry.
    await limiter.hit(f"identity:{principal.account_id}", limit=ctx.settings.rate_identity_per_hour, window_s=3600)
    row = await claims.open_claim(ctx, principal, nik=body.nik, birth_date=body.birth_date, locale=locale_of(request))
    return _claim(ctx, row)


@router.get(
    "/v1/profiles/me/nik-claims",
    response_model=list[Claim],
    tags=["nik-claims"],
    summary="My NIK claims and their outcome",
)
async def my_claims(principal: ApplicantDep, session: ReadSessionDep, ctx: CtxDep) -> list[Claim]:
    """Newest first: open, or decided for the claimant (you keep the NIK) or for the holder."""
    return [_claim(ctx, row) for row in await repository.claims_of(session, principal.account_id)]


@router.get("/v1/nik-claims", response_model=ClaimPage, tags=["nik-claims"], summary="NIK claims (ops)")
async def list_claims(
    principal: OpsDep,
    session: ReadSessionDep,
    ctx: CtxDep,
    status_: Annotated[Literal["open", "claimant", "holder"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ClaimPage:
    """Oldest first; filter by `status` (open, or decided for the claimant or the holder)."""
    rows, total = await repository.claims_page(session, status_, limit, offset)
    return ClaimPage(items=[_claim(ctx, r, with_decision=True) for r in rows], total=total)


async def _side(session: AsyncSession, account_id: uuid.UUID, claim_id: uuid.UUID) -> ClaimSide:
    account = await repository.account_name(session, account_id)
    row = await repository.profile(session, account_id)
    docs = await repository.documents(session, account_id)
    reason = f"nik_claim:{claim_id}"
    return ClaimSide(
        account_id=account_id,
        full_name=account.full_name if account else None,
        identity_verified_at=row.identity_verified_at if row else None,
        documents=[document_info(d) for d in docs],
        document_urls={d.kind: f"/v1/profiles/{account_id}/documents/{d.kind}?reason={reason}" for d in docs},
        verification_attempts=await repository.count_attempts(session, account_id),
    )


@router.get(
    "/v1/nik-claims/{claim_id}",
    response_model=ClaimDetail,
    tags=["nik-claims"],
    summary="A claim with both sides' evidence (ops, audit-logged)",
    responses=problem_responses(errors.ClaimNotFound),
)
async def get_claim(claim_id: uuid.UUID, principal: OpsDep, session: SessionDep, ctx: CtxDep) -> ClaimDetail:
    """Names, verification dates, photos and attempt counts of the claimant and of the account holding the NIK."""
    row = await repository.claim(session, claim_id)
    if row is None:
        raise errors.ClaimNotFound()
    for subject in (row.claimant_id, row.holder_id):
        await audit(session, principal, "nik_claim.viewed", subject, target=str(claim_id))
    return ClaimDetail(
        **_claim(ctx, row, with_decision=True).model_dump(),
        claimant=await _side(session, row.claimant_id, claim_id),
        holder=await _side(session, row.holder_id, claim_id),
    )


@router.post(
    "/v1/nik-claims/{claim_id}/decision",
    response_model=Claim,
    tags=["nik-claims"],
    summary="Decide who keeps the NIK (ops)",
    responses=problem_responses(errors.ClaimNotFound, errors.ClaimDecided, errors.IdentityLocked),
)
async def decide_claim(
    claim_id: uuid.UUID, body: ClaimDecision, principal: OpsDep, session: SessionDep, ctx: CtxDep
) -> Claim:
    """`claimant`: the holder's NIK verification is revoked (their identity step goes back to pending) and the
    claimant's identity is verified with the NIK. `holder`: the claim is rejected. Both are told (inbox, e-mail).
    """
    row = await claims.decide(ctx, session, principal, claim_id, body.outcome, body.note)
    return _claim(ctx, row, with_decision=True)


@router.get(
    "/v1/profiles/{account_id}",
    response_model=ProfileOut,
    tags=["ops"],
    summary="An applicant's profile (ops, audit-logged)",
    responses=problem_responses(errors.ProfileNotFound),
)
async def ops_profile(
    account_id: uuid.UUID, reason: Reason, principal: OpsDep, session: SessionDep, ctx: CtxDep
) -> ProfileOut:
    """Masked like the applicant's own view. The read is logged with who, when and the `reason` given."""
    if await repository.profile(session, account_id) is None:
        raise errors.ProfileNotFound()
    await audit(session, principal, "profile.read", account_id, reason=reason)
    return await profile_out(ctx, session, account_id)


@router.get(
    "/v1/profiles/{account_id}/verification-attempts",
    response_model=VerificationAttempts,
    tags=["ops"],
    summary="An applicant's NIK verification attempts (ops, audit-logged)",
)
async def ops_attempts(
    account_id: uuid.UUID,
    reason: Reason,
    principal: OpsDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> VerificationAttempts:
    """Newest first: purpose (identity or claim), outcome code, which registry answered, when."""
    await audit(session, principal, "profile.attempts_read", account_id, reason=reason)
    rows = await repository.attempts(session, account_id, limit)
    return VerificationAttempts(
        items=[
            VerificationAttemptOut(
                id=r.id, purpose=r.purpose, outcome=r.outcome, registry=r.registry_mode, created_at=r.created_at
            )
            for r in rows
        ]
    )


@router.get(
    "/v1/profiles/{account_id}/documents/{kind}",
    tags=["ops"],
    summary="An applicant's KTP photo or selfie (ops, audit-logged)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **problem_responses(errors.DocumentMissing)},
)
async def ops_document(
    account_id: uuid.UUID, kind: Kind, reason: Reason, principal: OpsDep, session: SessionDep, ctx: CtxDep
) -> Response:
    """The stored (re-encoded) JPEG; the read is audit-logged."""
    response = await document_response(ctx, session, account_id, kind)
    await audit(session, principal, "document.read", account_id, target=kind, reason=reason)
    return response
