"""Encryption at rest for NIK and KK (AES-256-GCM with a key id for rotation) and the keyed blind index.

A ciphertext reads `kid:base64(nonce || ciphertext+tag)`; the first configured key encrypts, every key
decrypts, so keys rotate by putting a new one first and re-encrypting at leisure. The column name is bound
as associated data, so a KK ciphertext pasted into the NIK column does not decrypt.

The blind index (HMAC-SHA256 over the digits) is shared.blind_index: selection computes the same index to
match exclusion lists. Without configured keys (the embedded default) a key file is generated under var/
on first start (shared.blind_index.dev_keys): never a key in the source.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.profile.config import ProfileSettings
from shared.blind_index import KeyConfigError, blind_index, dev_keys, index_key

__all__ = [
    "Crypto",
    "FieldCipher",
    "KeyConfigError",
    "blind_index",
    "crypto_from_settings",
    "mask_number",
    "parse_keys",
]


def mask_number(value: str | None) -> str | None:
    """3276011705910001 -> 3276********0001 (never show a NIK or KK in full)."""
    if not value:
        return None
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """'kid:base64key,...' -> [(kid, key)], first = active. Each key must be 32 bytes (AES-256)."""
    keys: list[tuple[str, bytes]] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        kid, sep, b64 = part.partition(":")
        if not sep or not kid or not kid.isalnum():
            raise KeyConfigError("PROFILE_ENCRYPTION_KEYS must read kid:base64key[,kid:base64key...]")
        try:
            key = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise KeyConfigError(f"encryption key {kid} is not base64") from exc
        if len(key) != 32:
            raise KeyConfigError(f"encryption key {kid} must be 32 bytes, got {len(key)}")
        if any(k == kid for k, _ in keys):
            raise KeyConfigError(f"encryption key id {kid} given twice")
        keys.append((kid, key))
    if not keys:
        raise KeyConfigError("no encryption key configured")
    return keys


@dataclass
class FieldCipher:
    keys: list[tuple[str, bytes]]

    @property
    def active_kid(self) -> str:
        return self.keys[0][0]

    def encrypt(self, plaintext: str, *, column: str) -> str:
        kid, key = self.keys[0]
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), column.encode())
        return f"{kid}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, column: str) -> str:
        kid, _, b64 = token.partition(":")
        key = dict(self.keys).get(kid)
        if key is None:
            raise KeyConfigError(f"no key {kid!r} to decrypt with (was it removed before re-encryption?)")
        raw = base64.b64decode(b64)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], column.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise KeyConfigError(f"ciphertext under key {kid} does not authenticate") from exc


@dataclass
class Crypto:
    """What the service needs: the field cipher and the blind-index key."""

    cipher: FieldCipher
    index_key: bytes

    def index(self, value: str) -> str:
        return blind_index(self.index_key, value)


def crypto_from_settings(settings: ProfileSettings) -> Crypto:
    enc = settings.encryption_keys.get_secret_value()
    idx = settings.blind_index_key.get_secret_value()
    if (not enc or not idx) and settings.require_keys:
        raise KeyConfigError("PROFILE_ENCRYPTION_KEYS and PROFILE_BLIND_INDEX_KEY are required")
    if not enc:
        enc = dev_keys(settings.var_dir)["encryption_keys"]
    key = index_key(idx, setting="PROFILE_BLIND_INDEX_KEY", require=settings.require_keys, var_dir=settings.var_dir)
    return Crypto(cipher=FieldCipher(parse_keys(enc)), index_key=key)
