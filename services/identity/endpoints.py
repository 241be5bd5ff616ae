"""identity's HTTP routes: parse, authorise, call the service, shape the response."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status

from services.identity import errors, service
from services.identity.models import Account as AccountRow
from services.identity.schemas import (
    JWKS,
    Accepted,
    Account,
    AccountCreate,
    ConfirmRequest,
    EmailRequest,
    LogoutRequest,
    PasswordResetConfirm,
    TokenResponse,
)
from services.identity.service import Identity
from shared.auth import BEARER_SCHEME, PrincipalDep, TokenExpired, TokenInvalid, TokenMissing, get_principal
from shared.db import SessionDep
from shared.errors import TooManyRequests, locale_of, problem_responses
from shared.i18n import Text
from shared.ratelimit import RateLimiter

router = APIRouter()

ACCEPTED = Text(
    "Jika e-mail tersebut terdaftar, kami telah mengirimkan tautannya. Periksa kotak masuk dan folder spam.",
    "If that e-mail is registered, we have sent the link. Check your inbox and spam folder.",
)
RESEND_TOO_SOON = Text(
    "E-mail untuk alamat ini baru saja dikirim. Tunggu {retry_after} detik sebelum meminta lagi.",
    "An e-mail to this address was sent just now. Wait {retry_after} seconds before asking again.",
)


async def _identity(request: Request) -> Identity:
    ctx: Identity = request.app.state.identity
    return ctx


IdentityDep = Annotated[Identity, Depends(_identity)]


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


LimiterDep = Annotated[RateLimiter, Depends(_limiter)]


def client_ip(request: Request) -> str:
    if request.app.state.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else "unknown"


def _account(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        full_name=row.full_name,
        email=row.email,
        status=row.status,
        roles=row.role_list,
        locale=row.locale,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
    )


async def _throttle_email(limiter: LimiterDep, ctx: Identity, email: str, purpose: str) -> None:
    """At most one e-mail per address per minute and a few per hour, whether or not the address exists."""
    settings = ctx.settings
    await limiter.hit(
        f"{purpose}:gap:{email}",
        limit=1,
        window_s=settings.resend_min_interval_s,
        message=RESEND_TOO_SOON,
        code="resend_too_soon",
    )
    await limiter.hit(
        f"{purpose}:hour:{email}",
        limit=settings.resend_per_hour,
        window_s=3600,
        message=RESEND_TOO_SOON,
        code="resend_too_soon",
    )


# Declared first: routes are matched in order, and this is the hottest of all.
@router.get(
    "/v1/accounts/me",
    response_model=Account,
    tags=["accounts"],
    summary="The signed-in account",
    responses=problem_responses(TokenMissing, TokenInvalid, TokenExpired),
    openapi_extra={"security": [{BEARER_SCHEME: []}]},
)
async def me(request: Request) -> Response:
    """The account of the bearer token's owner."""
    # The hottest read of all (every dashboard screen): its JSON comes from a short-lived cache, and the
    # bearer token is read by a direct call rather than through dependency injection (a quarter of the
    # request's cost), with the security requirement declared in the schema by hand.
    principal = await get_principal(request)
    ctx: Identity = request.app.state.identity
    body = await service.me(ctx, principal, lambda row: _account(row).model_dump_json().encode())
    return Response(body, media_type="application/json")


@router.post(
    "/v1/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=Account,
    tags=["accounts"],
    summary="Register an applicant account",
    responses=problem_responses(errors.EmailTaken, TooManyRequests),
)
async def register(body: AccountCreate, request: Request, ctx: IdentityDep, limiter: LimiterDep) -> Account:
    """Creates an account pending e-mail confirmation and sends the confirmation e-mail (link valid 24 hours).

    The full name must be exactly as on the KTP: it cannot be changed afterwards.
    """
    await limiter.hit(f"register:ip:{client_ip(request)}", limit=ctx.settings.rate_register_per_ip, window_s=60)
    password_hash = await ctx.hashing.hash(body.password)  # before any query: no lock held while hashing
    row = await service.register(
        ctx, full_name=body.full_name, email=body.email, password_hash=password_hash, locale=body.locale
    )
    return _account(row)


@router.post(
    "/v1/accounts/confirm",
    response_model=Account,
    tags=["accounts"],
    summary="Confirm the e-mail address with the token from the link",
    responses=problem_responses(errors.TokenInvalid, errors.TokenUsed, errors.TokenExpired),
)
async def confirm(body: ConfirmRequest, session: SessionDep, ctx: IdentityDep) -> Account:
    """Activates the account. Each link works once and expires after 24 hours."""
    return _account(await service.confirm(ctx, session, body.token))


@router.post(
    "/v1/accounts/confirm/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    tags=["accounts"],
    summary="Send the confirmation e-mail again",
    responses=problem_responses(TooManyRequests),
)
async def resend(
    body: EmailRequest, request: Request, session: SessionDep, ctx: IdentityDep, limiter: LimiterDep
) -> Accepted:
    """Sends a new link (the old one stops working). The answer is the same whether or not the e-mail exists."""
    await limiter.hit(f"resend:ip:{client_ip(request)}", limit=ctx.settings.rate_resend_per_ip, window_s=60)
    await _throttle_email(limiter, ctx, body.email, "confirm")
    await service.resend_confirmation(ctx, session, body.email)
    return Accepted(detail=ACCEPTED.get(locale_of(request)))


@router.post(
    "/v1/accounts/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    tags=["accounts"],
    summary="Ask for a password reset link",
    responses=problem_responses(TooManyRequests),
)
async def password_reset(
    body: EmailRequest, request: Request, session: SessionDep, ctx: IdentityDep, limiter: LimiterDep
) -> Accepted:
    """E-mails a reset link valid for one hour. The answer is the same whether or not the e-mail exists."""
    await limiter.hit(f"resend:ip:{client_ip(request)}", limit=ctx.settings.rate_resend_per_ip, window_s=60)
    await _throttle_email(limiter, ctx, body.email, "reset")
    await service.request_password_reset(ctx, session, body.email)
    return Accepted(detail=ACCEPTED.get(locale_of(request)))


@router.post(
    "/v1/accounts/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["accounts"],
    summary="Set a new password with the token from the reset link",
    responses=problem_responses(errors.TokenInvalid, errors.TokenUsed, errors.TokenExpired),
)
async def password_reset_confirm(body: PasswordResetConfirm, session: SessionDep, ctx: IdentityDep) -> Response:
    """Sets the new password and ends every existing session of the account."""
    await service.reset_password(ctx, session, body.token, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise errors.InvalidClient() from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise errors.InvalidClient()
    return client_id, secret


@router.post(
    "/v1/auth/token",
    response_model=TokenResponse,
    tags=["auth"],
    summary="OAuth 2.0 token endpoint",
    responses=problem_responses(
        errors.InvalidCredentials,
        errors.AccountNotConfirmed,
        errors.AccountLocked,
        errors.RefreshTokenReused,
        errors.InvalidClient,
        errors.UnsupportedGrant,
        TooManyRequests,
    ),
)
async def token(
    request: Request,
    ctx: IdentityDep,
    limiter: LimiterDep,
    response: Response,
    grant_type: Annotated[str, Form(max_length=50, description="password, refresh_token or client_credentials")],
    username: Annotated[str | None, Form(max_length=254, description="E-mail (password grant)")] = None,
    password: Annotated[str | None, Form(max_length=1000)] = None,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str | None, Form(max_length=500)] = None,
) -> TokenResponse:
    """Form-encoded (`application/x-www-form-urlencoded`) as OAuth 2.0 requires.

    - `password`: `username` (the e-mail) and `password`; refused with `account_not_confirmed` until the e-mail
      is confirmed; five failures lock the account with growing back-off.
    - `refresh_token`: rotating; presenting a spent refresh token ends every session descended from it.
    - `client_credentials`: partner platforms and internal services (`client_id`/`client_secret` in the form or
      HTTP Basic).
    """
    response.headers["Cache-Control"] = "no-store"
    await limiter.hit(f"token:ip:{client_ip(request)}", limit=ctx.settings.rate_login_per_ip, window_s=60)
    if grant_type == "password":
        if not username:
            raise errors.MissingParameter(name="username")
        if not password:
            raise errors.MissingParameter(name="password")
        issued = await service.password_grant(ctx, username.strip().lower(), password)
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise errors.MissingParameter(name="refresh_token")
        issued = await service.refresh_grant(ctx, refresh_token)
    elif grant_type == "client_credentials":
        basic = _basic_auth(request)
        cid, secret = basic if basic else (client_id, client_secret)
        if not cid or not secret:
            raise errors.InvalidClient()
        issued = await service.client_credentials_grant(ctx, cid, secret)
    else:
        raise errors.UnsupportedGrant()
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        scope=" ".join(issued.roles),
    )


@router.post(
    "/v1/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["auth"],
    summary="End this session (or every session)",
    responses=problem_responses(TokenMissing, TokenInvalid, TokenExpired),
)
async def logout(
    principal: PrincipalDep, session: SessionDep, ctx: IdentityDep, body: LogoutRequest | None = None
) -> Response:
    """Revokes the given refresh token's session; with `all_sessions`, every session of the account."""
    body = body or LogoutRequest()
    await service.logout(ctx, session, principal, body.refresh_token, body.all_sessions)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/.well-known/jwks.json", response_model=JWKS, tags=["auth"], summary="Public keys that sign tokens")
async def jwks(ctx: IdentityDep, response: Response) -> dict[str, object]:
    """RS256 public keys (JWK Set). Cache them; look again when a token names an unknown `kid`."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return await ctx.keys.jwks()
