"""Encryption at rest (AES-GCM with key ids) and the blind index; dev key files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat

import pytest

from services.profile.config import ProfileSettings
from services.profile.crypto import (
    FieldCipher,
    KeyConfigError,
    blind_index,
    crypto_from_settings,
    mask_number,
    parse_keys,
)


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_round_trip_rotation_and_column_binding():
    old = FieldCipher(parse_keys(f"k1:{key()}"))
    token = old.encrypt("3276011705910001", column="nik")
    assert token.startswith("k1:") and "3276011705910001" not in token
    assert old.encrypt("3276011705910001", column="nik") != token  # a fresh nonce each time
    k1 = base64.b64encode(dict(old.keys)["k1"]).decode()
    rotated = FieldCipher(parse_keys(f"k2:{key()},k1:{k1}"))
    assert rotated.active_kid == "k2"
    assert rotated.decrypt(token, column="nik") == "3276011705910001"
    assert rotated.encrypt("x", column="nik").startswith("k2:")
    with pytest.raises(KeyConfigError):
        old.decrypt(token, column="kk")  # a NIK ciphertext is not a KK
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(KeyConfigError):
        old.decrypt(tampered, column="nik")
    with pytest.raises(KeyConfigError):
        FieldCipher(parse_keys(f"k9:{key()}")).decrypt(token, column="nik")


@pytest.mark.parametrize(
    "spec", ["", "nokey", "k1:notbase64!", f"k1:{base64.b64encode(b'short').decode()}", f"k1:{key()},k1:{key()}"]
)
def test_bad_key_specs(spec):
    with pytest.raises(KeyConfigError):
        parse_keys(spec)


def test_blind_index_is_hmac_sha256():
    k = os.urandom(32)
    assert blind_index(k, "3276011705910001") == hmac.new(k, b"3276011705910001", hashlib.sha256).hexdigest()
    assert blind_index(k, "3276011705910001") != blind_index(os.urandom(32), "3276011705910001")


def test_masking():
    assert mask_number("3276011705910001") == "3276********0001"
    assert mask_number(None) is None


def test_dev_keys_are_generated_once_with_private_permissions(tmp_path):
    settings = ProfileSettings(var_dir=tmp_path)
    first = crypto_from_settings(settings)
    path = tmp_path / "profile-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = crypto_from_settings(settings)
    assert again.index_key == first.index_key and again.cipher.keys == first.cipher.keys
    assert again.cipher.decrypt(first.cipher.encrypt("1", column="nik"), column="nik") == "1"
    other = crypto_from_settings(ProfileSettings(var_dir=tmp_path / "elsewhere"))
    assert other.index_key != first.index_key


def test_configured_keys_win_and_production_requires_them(tmp_path):
    k, idx = key(), key()
    crypto = crypto_from_settings(ProfileSettings(var_dir=tmp_path, encryption_keys=f"prod1:{k}", blind_index_key=idx))
    assert crypto.cipher.active_kid == "prod1" and crypto.index_key == base64.b64decode(idx)
    assert not (tmp_path / "profile-keys.json").exists()
    with pytest.raises(KeyConfigError):
        crypto_from_settings(ProfileSettings(var_dir=tmp_path, require_keys=True))
    with pytest.raises(KeyConfigError):
        crypto_from_settings(ProfileSettings(var_dir=tmp_path, encryption_keys=f"a:{k}", blind_index_key="c2hvcnQ="))
