"""The applicant's routes: parse, authorise, call the rules, shape the response."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, File, Request, Response, UploadFile
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import declaration, errors, phone, repository, service
from services.profile.config import ProfileSettings
from services.profile.images import ImageRejected, ImageRules, process_image
from services.profile.schemas import (
    DeclarationAccept,
    DeclarationInfo,
    DeclarationStatement,
    DeclarationText,
    DocumentInfo,
    Identity,
    IdentityUpdate,
    OtpSent,
    OtpVerify,
    Personal,
    PersonalUpdate,
    Phone,
    PhoneRequest,
    ProfileOut,
    ProfileStatus,
)
from services.profile.service import ProfileContext
from services.profile.storage import ObjectMissing
from services.profile.views import document_info, profile_out, status_out
from shared.auth import ApplicantDep
from shared.db import ReadSessionDep, SessionDep
from shared.errors import TooManyRequests, locale_of, problem_responses
from shared.ratelimit import RateLimiter

router = APIRouter(tags=["profile"])

Kind = Literal["ktp", "selfie"]


async def _ctx(request: Request) -> ProfileContext:
    ctx: ProfileContext = request.app.state.profile
    return ctx


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


CtxDep = Annotated[ProfileContext, Depends(_ctx)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]


def image_rules(s: ProfileSettings) -> ImageRules:
    return ImageRules(
        max_bytes=s.image_max_bytes,
        max_pixels=s.image_max_pixels,
        max_side=s.image_max_side,
        jpeg_quality=s.image_jpeg_quality,
        min_long_side=s.image_min_width,
        min_short_side=s.image_min_height,
        min_luminance=s.image_min_luminance,
        min_stddev=s.image_min_stddev,
    )


@router.get("/v1/profiles/declaration", response_model=DeclarationText, summary="The applicant's declaration text")
async def declaration_text(request: Request) -> DeclarationText:
    """The statements an applicant affirms (Bahasa Indonesia and English) and the text's version. No sign-in."""
    locale = locale_of(request)

    def items(lang: str) -> list[DeclarationStatement]:
        return [DeclarationStatement(id=s.id, text=s.text.get(lang)) for s in declaration.STATEMENTS]  # type: ignore[arg-type]

    return DeclarationText(
        version=declaration.VERSION,
        locale=locale,
        statements=items(locale),
        statements_id=items("id"),
        statements_en=items("en"),
    )


@router.get("/v1/profiles/me", response_model=ProfileOut, summary="My profile (NIK, KK and phone masked)")
async def my_profile(principal: ApplicantDep, session: ReadSessionDep, ctx: CtxDep) -> ProfileOut:
    """Everything entered so far; an empty profile when nothing is."""
    return await profile_out(ctx, session, principal.account_id)


@router.get("/v1/profiles/me/status", response_model=ProfileStatus, summary="Which profile steps are done")
async def my_status(principal: ApplicantDep, session: ReadSessionDep) -> ProfileStatus:
    """For the dashboard: identity, personal data, KTP photo, selfie, phone, declaration; each done or pending."""
    return await status_out(session, principal.account_id)


@router.put(
    "/v1/profiles/me/identity",
    response_model=Identity,
    summary="Enter and verify the NIK and birth date",
    responses=problem_responses(
        errors.NikInvalid,
        errors.NikNotFound,
        errors.BirthDateMismatch,
        errors.NameMismatch,
        errors.NikDeceased,
        errors.NikNotLinkedToKk,
        errors.KkMismatch,
        errors.NikAlreadyRegistered,
        errors.IdentityLocked,
        errors.RegistryUnavailable,
        errors.AccountNotReady,
        TooManyRequests,
    ),
)
async def put_identity(
    body: IdentityUpdate, request: Request, principal: ApplicantDep, ctx: CtxDep, limiter: LimiterDep
) -> Identity:
    """The NIK's structure is checked at once, field by field (`errors` lists each failing rule); then the civil
    registry (Dukcapil): the NIK exists, the holder is alive, the birth date and the account's name match, and
    the NIK is linked to a family card (KK). A NIK verified on another account is refused (409) with the way to
    claim it. When the registry is down the answer is 503 with Retry-After: nothing is rejected.
    """
    account_id = principal.account_id
    await limiter.hit(f"identity:{account_id}", limit=ctx.settings.rate_identity_per_hour, window_s=3600)
    await service.verify_identity(
        ctx, account_id, nik=body.nik, kk=body.kk, birth_date=body.birth_date, locale=locale_of(request)
    )
    async with ctx.db.sessionmaker() as session, session.begin():
        return (await profile_out(ctx, session, account_id)).identity


@router.put(
    "/v1/profiles/me/personal",
    response_model=Personal,
    summary="Addresses, education, employment status",
    responses=problem_responses(errors.AddressInvalid),
)
async def put_personal(
    body: PersonalUpdate, request: Request, principal: ApplicantDep, session: SessionDep, ctx: CtxDep
) -> Personal:
    """Residential address as on the KTP and the domicile (or `domicile_same_as_ktp`), each with Kemendagri
    region codes that must exist and nest (the village inside the district, ...) and the village's postal code.
    """
    await service.update_personal(ctx, session, principal.account_id, body, locale_of(request))
    return (await profile_out(ctx, session, principal.account_id)).personal


@router.put(
    "/v1/profiles/me/documents/{kind}",
    response_model=DocumentInfo,
    summary="Upload the KTP photo (ktp) or the selfie holding the KTP (selfie)",
    responses=problem_responses(errors.ImageInvalid, TooManyRequests),
)
async def put_document(
    kind: Kind,
    principal: ApplicantDep,
    session: SessionDep,
    ctx: CtxDep,
    limiter: LimiterDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="JPEG or PNG, at most 10 MB")],
) -> DocumentInfo:
    """`multipart/form-data` with a `file` part. The image is decoded to decide its type (JPEG or PNG only),
    refused when too small, too dark, blank, damaged or of absurd resolution, then downscaled and re-encoded as
    JPEG without metadata (EXIF and GPS removed, orientation applied).
    """
    account_id = principal.account_id
    s = ctx.settings
    await limiter.hit(f"upload:{account_id}", limit=s.rate_uploads_per_hour, window_s=3600)
    raw = await file.read(s.image_max_bytes + 1)
    try:
        # CPU work in a thread and before the first query: no database lock is held meanwhile.
        image = await asyncio.to_thread(process_image, raw, image_rules(s))
    except ImageRejected as exc:
        raise errors.ImageInvalid(exc.code, exc.text, exc.status) from None
    key = f"profiles/{account_id}/{kind}-{uuid.uuid4().hex}.jpg"
    await ctx.storage.put(key, image.data, image.content_type)
    doc, old_key = await service.save_document(
        ctx,
        session,
        account_id,
        kind,
        key=key,
        width=image.width,
        height=image.height,
        size=len(image.data),
        sha256=image.sha256,
    )
    if old_key and old_key != key:
        background.add_task(ctx.storage.delete, old_key)  # runs after the commit
    return document_info(doc)


@router.get(
    "/v1/profiles/me/documents/{kind}",
    summary="My KTP photo or selfie (JPEG)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **problem_responses(errors.DocumentMissing)},
)
async def get_my_document(kind: Kind, principal: ApplicantDep, session: ReadSessionDep, ctx: CtxDep) -> Response:
    """Only the owner (here) and ops (`GET /v1/profiles/{account_id}/documents/{kind}`, audit-logged)."""
    return await document_response(ctx, session, principal.account_id, kind)


async def document_response(ctx: ProfileContext, session: AsyncSession, account_id: uuid.UUID, kind: str) -> Response:
    doc = await repository.document(session, account_id, kind)
    if doc is None:
        raise errors.DocumentMissing()
    try:
        data = await ctx.storage.get(doc.object_key)
    except ObjectMissing:
        raise errors.DocumentMissing() from None
    return Response(data, media_type=doc.content_type, headers={"Cache-Control": "private, no-store"})


@router.post(
    "/v1/profiles/me/phone",
    response_model=OtpSent,
    status_code=202,
    summary="Send a code by SMS to my mobile number",
    responses=problem_responses(
        errors.PhoneInvalid, errors.PhoneNotIndonesian, errors.PhoneNotMobile, errors.PhoneTaken, TooManyRequests
    ),
)
async def post_phone(body: PhoneRequest, principal: ApplicantDep, session: SessionDep, ctx: CtxDep) -> OtpSent:
    """Indonesian mobile numbers only (any usual way of writing them: 0812..., +62 812..., 62812...). A 6-digit
    code valid 5 minutes goes out by SMS; a new code at most every 60 seconds and 5 an hour (429 Retry-After).
    """
    sent = await phone.send_code(ctx, session, principal.account_id, body.phone)
    return OtpSent(
        phone_masked=phone.mask_phone(sent.phone) or "",
        expires_at=sent.expires_at,
        resend_after_s=ctx.settings.otp_resend_gap_s,
    )


@router.post(
    "/v1/profiles/me/phone/verify",
    response_model=Phone,
    summary="Confirm the number with the SMS code",
    responses=problem_responses(
        errors.OtpNotRequested, errors.OtpExpired, errors.OtpWrong, errors.OtpLocked, errors.PhoneTaken
    ),
)
async def verify_phone(body: OtpVerify, principal: ApplicantDep, ctx: CtxDep) -> Phone:
    """Five wrong codes kill the code (ask for a new one); an expired code must be asked for again."""
    account_id = principal.account_id
    try:
        async with ctx.db.sessionmaker() as session, session.begin():
            refusal = await phone.verify_code(ctx, session, account_id, body.code)
    except IntegrityError:
        raise errors.PhoneTaken() from None
    if refusal is not None:
        raise refusal  # after the commit: the wrong try counts
    async with ctx.db.sessionmaker() as session, session.begin():
        return (await profile_out(ctx, session, account_id)).phone


@router.post(
    "/v1/profiles/me/declaration",
    response_model=DeclarationInfo,
    summary="Affirm the applicant's declaration",
    responses=problem_responses(errors.DeclarationOutdated, errors.DeclarationContradictsProfile),
)
async def post_declaration(
    body: DeclarationAccept, principal: ApplicantDep, session: SessionDep, ctx: CtxDep
) -> DeclarationInfo:
    """Each statement of `GET /v1/profiles/declaration` must be `true`; the version read is recorded."""
    row = await declaration.accept(ctx, session, principal.account_id, body.version)
    return DeclarationInfo(version=row.declaration_version, accepted_at=row.declaration_accepted_at)
