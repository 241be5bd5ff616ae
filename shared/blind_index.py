"""The keyed blind index of NIK and KK, shared by profile (uniqueness, one NIK one account) and selection
(exclusion lists, earlier recipients, recipients per family card): HMAC-SHA256 under one programme-wide
key, so equal numbers match across services and no number can be read back.

Production sets the key in each service's settings (PROFILE_BLIND_INDEX_KEY, SELECTION_BLIND_INDEX_KEY:
the same value). The embedded default generates a key file under var/ on first use, which every service
of that machine reads: never a key in the source.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

DEV_KEY_FILE = "profile-keys.json"


class KeyConfigError(RuntimeError):
    """The configured keys are missing or malformed; the service must not start."""


def blind_index(key: bytes, value: str) -> str:
    """Keyed hash (HMAC-SHA256, hex) of a NIK or KK: equal inputs match, the digits cannot be read back."""
    return hmac.new(key, value.encode("ascii"), hashlib.sha256).hexdigest()


def dev_keys(var_dir: Path) -> dict[str, str]:
    """The embedded default's keys (var/profile-keys.json: profile's field encryption keys and the blind
    index key), created with mode 0600 by whichever process needs them first."""
    path = var_dir / DEV_KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        content = json.dumps(
            {
                "encryption_keys": f"dev{secrets.token_hex(3)}:{base64.b64encode(secrets.token_bytes(32)).decode()}",
                "blind_index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
            }
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; read its keys
        else:
            with os.fdopen(fd, "w") as f:
                f.write(content)
    data: dict[str, str] = json.loads(path.read_text())
    return data


def index_key(configured: str, *, setting: str, require: bool, var_dir: Path) -> bytes:
    """The blind-index key from its setting (base64, at least 32 bytes), or the embedded default's."""
    if not configured:
        if require:
            raise KeyConfigError(f"{setting} is required (the same key in profile and selection)")
        configured = dev_keys(var_dir)["blind_index_key"]
    try:
        key = base64.b64decode(configured, validate=True)
    except binascii.Error as exc:
        raise KeyConfigError(f"{setting} is not base64") from exc
    if len(key) < 32:
        raise KeyConfigError(f"{setting} must be at least 32 bytes")
    return key
