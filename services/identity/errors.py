"""identity's domain errors: each a stable code, a status and a message in both languages."""

from __future__ import annotations

from typing import Any

from shared.errors import DomainError
from shared.i18n import Text


class EmailTaken(DomainError):
    status = 409
    code = "email_taken"
    message = Text(
        "E-mail ini tidak dapat dipakai untuk mendaftar. Jika ini e-mail Anda, silakan masuk atau atur ulang sandi.",
        "This e-mail cannot be used to register. If it is yours, sign in or reset the password.",
    )


class TokenInvalid(DomainError):
    status = 400
    code = "link_token_invalid"
    message = Text(
        "Tautan tidak valid. Periksa kembali tautan di e-mail Anda.",
        "The link is not valid. Check the link in your e-mail.",
    )


class TokenUsed(DomainError):
    status = 410
    code = "link_token_used"
    message = Text("Tautan ini sudah pernah dipakai.", "This link has already been used.")


class TokenExpired(DomainError):
    status = 410
    code = "link_token_expired"
    message = Text(
        "Tautan sudah kedaluwarsa. Minta tautan baru.",
        "The link has expired. Ask for a new one.",
    )


class OAuthError(DomainError):
    """Token endpoint errors also carry the OAuth 2.0 `error` field (RFC 6749 section 5.2)."""

    oauth_error = "invalid_request"

    def __init__(self, message: Text | None = None, **kwargs: Any) -> None:
        extra = {"error": self.oauth_error, **kwargs.pop("extra", {})}
        super().__init__(message, extra=extra, **kwargs)


class InvalidCredentials(OAuthError):
    status = 401
    code = "invalid_credentials"
    oauth_error = "invalid_grant"
    message = Text("E-mail atau kata sandi salah.", "Wrong e-mail or password.")


class AccountNotConfirmed(OAuthError):
    status = 403
    code = "account_not_confirmed"
    oauth_error = "invalid_grant"
    message = Text(
        "E-mail belum dikonfirmasi. Buka tautan konfirmasi yang kami kirim ke e-mail Anda.",
        "The e-mail is not confirmed yet. Open the confirmation link we sent to your e-mail.",
    )


class AccountDisabled(OAuthError):
    status = 403
    code = "account_disabled"
    oauth_error = "invalid_grant"
    message = Text("Akun ini dinonaktifkan.", "This account is disabled.")


class AccountLocked(OAuthError):
    status = 423
    code = "account_locked"
    oauth_error = "invalid_grant"
    message = Text(
        "Terlalu banyak percobaan masuk yang gagal. Akun dikunci sementara; coba lagi dalam {retry_after} detik.",
        "Too many failed sign-in attempts. The account is locked; try again in {retry_after} seconds.",
    )

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            extra={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)}, retry_after=retry_after
        )


class RefreshTokenInvalid(OAuthError):
    status = 400
    code = "refresh_token_invalid"
    oauth_error = "invalid_grant"
    message = Text("Sesi tidak valid. Silakan masuk kembali.", "The session is not valid. Please sign in again.")


class RefreshTokenReused(OAuthError):
    status = 400
    code = "refresh_token_reused"
    oauth_error = "invalid_grant"
    message = Text(
        "Sesi ini sudah dipakai sebelumnya, jadi semua sesi terkait dihentikan demi keamanan. Silakan masuk kembali.",
        "This session was used before, so all related sessions were ended for safety. Please sign in again.",
    )


class InvalidClient(OAuthError):
    status = 401
    code = "invalid_client"
    oauth_error = "invalid_client"
    message = Text("Kredensial klien salah.", "Wrong client credentials.")


class UnsupportedGrant(OAuthError):
    status = 400
    code = "unsupported_grant_type"
    oauth_error = "unsupported_grant_type"
    message = Text(
        "grant_type harus password, refresh_token atau client_credentials.",
        "grant_type must be password, refresh_token or client_credentials.",
    )


class MissingParameter(OAuthError):
    status = 400
    code = "missing_parameter"
    oauth_error = "invalid_request"
    message = Text("Parameter {name} wajib diisi.", "The parameter {name} is required.")


class WeakPassword(DomainError):
    status = 422
    code = "weak_password"
    message = Text("Kata sandi terlalu lemah.", "The password is too weak.")
