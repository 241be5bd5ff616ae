"""A test token issuer: an RSA key of its own, its JWKS, and signed access tokens for any subject and roles.

Install it on an app with `issuer.install(app)`; the app then trusts exactly this issuer's tokens.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from jose import jwt

from shared.auth import JWKSCache, TokenVerifier

ISSUER = "http://identity.test"
AUDIENCE = "prakerja"


class TestIssuer:
    __test__ = False  # not a test class

    def __init__(self, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        # Imported here: identity's key helper is the one production uses.
        from services.identity.security import Signer, generate_key_pair

        self.issuer = issuer
        self.audience = audience
        self.kid, pem, self.jwk_json = generate_key_pair()
        self.signer = Signer(self.kid, pem)
        self.pem = pem

    async def jwks(self) -> dict[str, Any]:
        import json

        return {"keys": [json.loads(self.jwk_json)]}

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(JWKSCache(self.jwks), issuer=self.issuer, audience=self.audience)

    def install(self, app: Any) -> None:
        app.state.verifier = self.verifier()

    def token(
        self,
        subject: str | uuid.UUID,
        roles: list[str] | tuple[str, ...] = ("applicant",),
        *,
        ttl: int = 900,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(subject),
            "roles": list(roles),
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            **extra,
        }
        return self.signer.sign(claims)

    def headers(
        self, subject: str | uuid.UUID, roles: list[str] | tuple[str, ...] = ("applicant",), **extra: Any
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, roles, **extra)}"}

    def raw(self, claims: dict[str, Any], *, algorithm: str = "RS256", headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(claims, self.pem, algorithm=algorithm, headers={"kid": self.kid, **(headers or {})})
