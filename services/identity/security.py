"""Password hashing off the event loop, opaque link/refresh tokens, and RS256 signing keys."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from services.identity.config import IdentitySettings


class PasswordHashing:
    """argon2id with configurable cost, run in a bounded thread pool so sign-up bursts never stall requests."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self.pool = ThreadPoolExecutor(max_workers=max(1, settings.hash_workers), thread_name_prefix="argon2")
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Verify in the pool; with no hash, verify against a dummy so timing does not tell the e-mail exists."""
        target = password_hash or self._dummy_hash

        def check() -> bool:
            try:
                return self.hasher.verify(target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        ok = await asyncio.get_running_loop().run_in_executor(self.pool, check)
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def new_opaque_token() -> tuple[str, str]:
    """A random URL-safe token and the SHA-256 hex digest that is stored instead of it."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64u(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def generate_key_pair(passphrase: str = "") -> tuple[str, str, str]:
    """A new RSA-2048 key: (kid, private PEM (encrypted when a passphrase is set), public JWK JSON)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "n": _b64u(numbers.n), "e": _b64u(numbers.e)}
    # RFC 7638 thumbprint as the key id.
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    jwk["kid"] = kid
    return kid, pem, json.dumps(jwk)


class Signer:
    """Signs access tokens with the active key (the private key is loaded once)."""

    def __init__(self, kid: str, private_pem: str, passphrase: str = "") -> None:
        self.kid = kid
        key = serialization.load_pem_private_key(private_pem.encode(), password=passphrase.encode() or None)
        self._pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def sign(self, claims: dict[str, Any]) -> str:
        claims = {**claims, "jti": claims.get("jti") or uuid.uuid4().hex}
        return jwt.encode(claims, self._pem, algorithm="RS256", headers={"kid": self.kid})
