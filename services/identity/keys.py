"""Signing keys: created on first start, persisted, rotated by the CLI, published as a JWKS."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.identity import repository
from services.identity.config import IdentitySettings
from services.identity.models import SigningKey
from services.identity.security import Signer, generate_key_pair
from shared.db import Database, utcnow


class KeyStore:
    """The active signer (re-read every minute, so a rotation by the CLI reaches running processes)."""

    def __init__(self, db: Database, settings: IdentitySettings, reload_s: float = 60.0) -> None:
        self.db = db
        self.settings = settings
        self.reload_s = reload_s
        self._signer: Signer | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def ensure_key(self) -> None:
        """Create the first key if there is none (safe when several instances start at once)."""
        async with self.db.sessionmaker() as session:
            async with session.begin():
                if await repository.active_signing_key(session) is not None:
                    return
            kid, pem, jwk = generate_key_pair(self.settings.signing_key_passphrase)
            try:
                async with session.begin():
                    session.add(SigningKey(kid=kid, private_pem=pem, public_jwk=jwk, active=True))
            except IntegrityError:
                return

    async def rotate(self) -> str:
        kid, pem, jwk = generate_key_pair(self.settings.signing_key_passphrase)
        async with self.db.sessionmaker() as session, session.begin():
            await repository.deactivate_keys(session, utcnow())
            session.add(SigningKey(kid=kid, private_pem=pem, public_jwk=jwk, active=True))
        self._signer = None
        return kid

    async def signer(self) -> Signer:
        if self._signer is not None and time.monotonic() - self._loaded_at < self.reload_s:
            return self._signer
        async with self._lock:
            if self._signer is None or time.monotonic() - self._loaded_at >= self.reload_s:
                async with self.db.sessionmaker() as session, session.begin():
                    key = await repository.active_signing_key(session)
                if key is None:
                    raise RuntimeError("no active signing key; run migrations and start identity once")
                if self._signer is None or self._signer.kid != key.kid:
                    self._signer = Signer(key.kid, key.private_pem, self.settings.signing_key_passphrase)
                self._loaded_at = time.monotonic()
        assert self._signer is not None
        return self._signer

    async def jwks(self) -> dict[str, Any]:
        cutoff = utcnow() - timedelta(seconds=self.settings.key_retire_after_s)
        async with self.db.sessionmaker() as session, session.begin():
            return {"keys": await repository.published_keys(session, cutoff)}
