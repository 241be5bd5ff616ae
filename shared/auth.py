"""Bearer-token authentication against identity's JWKS, the Principal, and role/ownership dependencies.

Tokens are RS256 only (the algorithm list is explicit, so `alg=none` and HMAC-with-public-key tricks fail),
with audience, issuer and expiry checked. Keys are cached and re-fetched when a token names an unknown `kid`
(at most once per `min_refresh_s`, so garbage tokens cannot make us hammer identity).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from jose import ExpiredSignatureError, JWTError, jwt

from shared.errors import Forbidden, NotFound, ServiceUnavailable, Unauthorized
from shared.i18n import Text
from shared.settings import ServiceSettings

ALGORITHMS = ["RS256"]

ROLE_APPLICANT = "applicant"
ROLE_OPS = "ops"
ROLE_AGENCY = "agency"
ROLE_PARTNER = "partner"
ROLE_SERVICE = "service"
ROLES = (ROLE_APPLICANT, ROLE_OPS, ROLE_AGENCY, ROLE_PARTNER, ROLE_SERVICE)


class TokenMissing(Unauthorized):
    code = "token_missing"
    message = Text("Silakan masuk terlebih dahulu.", "Please sign in first.")


class TokenInvalid(Unauthorized):
    code = "token_invalid"
    message = Text("Sesi tidak valid. Silakan masuk kembali.", "The session is not valid. Please sign in again.")


class TokenExpired(Unauthorized):
    code = "token_expired"
    message = Text("Sesi telah berakhir. Silakan masuk kembali.", "The session has expired. Please sign in again.")


class RoleRequired(Forbidden):
    code = "role_required"
    message = Text("Anda tidak berhak melakukan ini.", "You are not allowed to do this.")


class KeysUnavailable(ServiceUnavailable):
    code = "auth_keys_unavailable"
    message = Text(
        "Layanan masuk sedang tidak tersedia. Coba lagi beberapa saat lagi.",
        "The sign-in service is unavailable. Please try again shortly.",
    )


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account (applicant, ops, agency) or a client (partner, service)."""

    subject: str
    roles: frozenset[str]
    token_id: str
    issued_at: int
    client_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def account_id(self) -> uuid.UUID:
        try:
            return uuid.UUID(self.subject)
        except ValueError as exc:
            raise RoleRequired() from exc

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


JWKSFetcher = Callable[[], Awaitable[dict[str, Any]]]


def http_jwks_fetcher(url: str, *, timeout: float = 3.0, retries: int = 2) -> JWKSFetcher:
    async def fetch() -> dict[str, Any]:
        last: Exception | None = None
        for attempt in range(retries + 1):
            try:
                async with httpx.AsyncClient(timeout=timeout) as client:
                    response = await client.get(url)
                    response.raise_for_status()
                    data: dict[str, Any] = response.json()
                    return data
            except (httpx.HTTPError, ValueError) as exc:
                last = exc
                await asyncio.sleep(0.1 * (attempt + 1))
        raise KeysUnavailable() from last

    return fetch


class JWKSCache:
    def __init__(self, fetch: JWKSFetcher, *, ttl_s: float = 600.0, min_refresh_s: float = 10.0) -> None:
        self._fetch = fetch
        self._ttl = ttl_s
        self._min_refresh = min_refresh_s
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        jwks = await self._fetch()
        self._keys = {k["kid"]: k for k in jwks.get("keys", []) if "kid" in k}
        self._fetched_at = time.monotonic()

    async def key_for(self, kid: str) -> dict[str, Any] | None:
        now = time.monotonic()
        stale = now - self._fetched_at > self._ttl
        if kid in self._keys and not stale:
            return self._keys[kid]
        async with self._lock:
            now = time.monotonic()
            fresh_enough = now - self._fetched_at < self._min_refresh
            if (kid not in self._keys or stale) and not (fresh_enough and self._fetched_at):
                await self._refresh()
        return self._keys.get(kid)


class TokenVerifier:
    """Verifies bearer tokens; a verified token is remembered until it expires (clients reuse one token for
    many requests, and its signature and claims cannot change)."""

    def __init__(
        self, jwks: JWKSCache, *, issuer: str, audience: str, leeway_s: int = 10, cache_size: int = 10_000
    ) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_s
        self.cache_size = cache_size
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            if time.time() < hit[0]:
                self._verified.move_to_end(token)
                return hit[1]
            del self._verified[token]
        principal = await self._verify(token)
        self._verified[token] = (float(principal.claims["exp"]), principal)
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise TokenInvalid() from exc
        if header.get("alg") not in ALGORITHMS or not isinstance(header.get("kid"), str):
            raise TokenInvalid()
        key = await self.jwks.key_for(header["kid"])
        if key is None:
            raise TokenInvalid()
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "require_jti": True,
                    "leeway": self.leeway,
                },
            )
        except ExpiredSignatureError as exc:
            raise TokenExpired() from exc
        except JWTError as exc:
            raise TokenInvalid() from exc
        roles = claims.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise TokenInvalid()
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(roles),
            token_id=str(claims["jti"]),
            issued_at=int(claims["iat"]),
            client_id=claims.get("client_id"),
            claims=claims,
        )


def verifier_from_settings(settings: ServiceSettings, fetch: JWKSFetcher | None = None) -> TokenVerifier:
    cache = JWKSCache(fetch or http_jwks_fetcher(settings.jwks_url))
    return TokenVerifier(cache, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


class BearerPrincipal(OAuth2PasswordBearer):
    """The bearer token's Principal, in one dependency that is also the OpenAPI security scheme (so Swagger
    UI's "Authorize" uses identity's token endpoint, OAuth2 password flow)."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        authorization = request.headers.get("authorization")
        scheme, _, token = (authorization or "").partition(" ")
        if not token or scheme.lower() != "bearer":
            raise TokenMissing()
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(token.strip())
        request.state.principal = principal
        return principal


BEARER_SCHEME = "prakerja"  # the OpenAPI security scheme's name
get_principal = BearerPrincipal(tokenUrl=ServiceSettings().token_url, auto_error=False, scheme_name=BEARER_SCHEME)

PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold at least one of `roles`."""

    async def dependency(principal: PrincipalDep) -> Principal:
        if not principal.has_any(*roles):
            raise RoleRequired()
        return principal

    dependency.__name__ = f"require_{'_or_'.join(roles)}"
    return dependency


ApplicantDep = Annotated[Principal, Depends(require_roles(ROLE_APPLICANT))]
OpsDep = Annotated[Principal, Depends(require_roles(ROLE_OPS))]


def ensure_owner(principal: Principal, owner_id: uuid.UUID | str, *, staff_roles: Sequence[str] = (ROLE_OPS,)) -> None:
    """The caller owns the resource, or holds a staff role. Others get 404, so ids reveal nothing."""
    if principal.subject == str(owner_id) or principal.has_any(*staff_roles):
        return
    raise NotFound()
