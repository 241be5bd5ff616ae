"""Rules for what a person types: full name as on the KTP, e-mail, password."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from shared.errors import FieldMessage
from shared.i18n import Text

_NAME_ALLOWED = re.compile(r"^[^\W\d_]+(?:[ .'\-]+[^\W\d_]*)*\.?$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128


def normalize_full_name(value: str) -> str:
    name = unicodedata.normalize("NFC", value)
    name = " ".join(name.split())
    # Curly apostrophes from phone keyboards are the same mark as on the KTP.
    name = name.replace("\u2019", "'").replace("\u2018", "'")
    if not 2 <= len(name) <= 100:
        raise FieldMessage(
            "full_name_length",
            Text("Nama lengkap harus 2 sampai 100 karakter.", "The full name must be 2 to 100 characters."),
        )
    if not _NAME_ALLOWED.match(name) or sum(ch.isalpha() for ch in name) < 2:
        raise FieldMessage(
            "full_name_characters",
            Text(
                "Nama lengkap hanya boleh berisi huruf, spasi, titik, apostrof dan tanda hubung, sesuai KTP.",
                "The full name may contain only letters, spaces, dots, apostrophes and hyphens, as on the KTP.",
            ),
        )
    return name


def normalize_email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldMessage(
            "email_invalid",
            Text("Alamat e-mail tidak valid.", "The e-mail address is not valid."),
        ) from exc
    return result.normalized.lower()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords plus a list of common Indonesian ones (bundled)."""
    local = Path(__file__).parent / "data" / "common_passwords_id.txt"
    extra = [line.strip().lower() for line in local.read_text().splitlines() if line.strip()]
    return frozenset([*FREQUENCY_LISTS["passwords"], *extra])


def _squash(value: str) -> str:
    return re.sub(r"[\W_]+", "", value.lower())


def check_password(password: str, *, email: str, full_name: str) -> None:
    """Raise FieldMessage when the password breaks a rule."""
    if len(password) < PASSWORD_MIN:
        raise FieldMessage(
            "password_too_short",
            Text("Kata sandi minimal 8 karakter.", "The password must be at least 8 characters."),
        )
    if len(password) > PASSWORD_MAX:
        raise FieldMessage(
            "password_too_long",
            Text("Kata sandi maksimal 128 karakter.", "The password must be at most 128 characters."),
        )
    lowered = password.lower()
    local_part = email.split("@", 1)[0]
    if lowered in {email.lower(), local_part.lower()} or _squash(password) in {_squash(email), _squash(local_part)}:
        raise FieldMessage(
            "password_is_email",
            Text("Kata sandi tidak boleh sama dengan e-mail.", "The password must not be your e-mail."),
        )
    if full_name and _squash(password) == _squash(full_name):
        raise FieldMessage(
            "password_is_name",
            Text("Kata sandi tidak boleh sama dengan nama.", "The password must not be your name."),
        )
    if lowered in common_passwords() or len(set(password)) < 3:
        raise FieldMessage(
            "password_common",
            Text(
                "Kata sandi ini terlalu umum dan mudah ditebak. Pilih yang lain.",
                "This password is too common and easy to guess. Choose another.",
            ),
        )
