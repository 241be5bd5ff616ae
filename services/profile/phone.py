"""Phone verification by SMS code: Indonesian mobile numbers only, codes hashed, short-lived, few tries.

A code is 6 digits, valid `otp_ttl_s` (5 minutes), stored as SHA-256 over a per-code salt, the account
and the code. Five wrong tries kill it. Codes go out through the outbox as a `phone_otp` SMS request;
sending is throttled per account and per number (60 s apart, 5 an hour).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import errors, repository
from services.profile.models import PhoneOtp
from services.profile.service import ProfileContext, maybe_complete
from shared.db import utcnow
from shared.errors import DomainError, TooManyRequests
from shared.events.notification import NotificationRequested
from shared.i18n import Text

RESEND_TOO_SOON = Text(
    "Kode baru saja dikirim. Tunggu {retry_after} detik sebelum meminta kode lagi.",
    "A code was sent just now. Wait {retry_after} seconds before asking again.",
)
MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_phone(raw: str) -> str:
    """Any common way of writing an Indonesian mobile number -> E.164 (+628...)."""
    try:
        number = phonenumbers.parse(raw, "ID")
    except NumberParseException as exc:
        raise errors.PhoneInvalid() from exc
    if number.country_code != 62:
        raise errors.PhoneNotIndonesian()
    if not phonenumbers.is_valid_number(number):
        raise errors.PhoneInvalid()
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise errors.PhoneNotMobile()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str | None) -> str | None:
    """+6281234567890 -> +62812******90."""
    if not phone:
        return None
    return phone[:6] + "*" * (len(phone) - 8) + phone[-2:]


def _hash(salt: str, account_id: uuid.UUID, code: str) -> str:
    return hashlib.sha256(f"{salt}:{account_id}:{code}".encode()).hexdigest()


@dataclass(frozen=True)
class SentCode:
    phone: str
    expires_at: datetime


def _retry_after(times: list[datetime], limit: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until one more send fits, or None when it fits now."""
    if len(times) < limit:
        return None
    wait = math.ceil((times[-limit] + window - now).total_seconds())
    return wait if wait > 0 else None


async def send_code(ctx: ProfileContext, session: AsyncSession, account_id: uuid.UUID, raw_phone: str) -> SentCode:
    """POST /phone: normalise, refuse a number verified elsewhere, throttle, queue the SMS."""
    phone = normalize_phone(raw_phone)
    s = ctx.settings
    holder = await repository.phone_holder(session, phone)
    if holder is not None and holder.account_id != account_id:
        raise errors.PhoneTaken()
    now = utcnow()
    hour_ago = now - timedelta(hours=1)
    for times in (
        await repository.otps_since(session, hour_ago, account_id=account_id),
        await repository.otps_since(session, hour_ago, phone=phone),
    ):
        wait = _retry_after(times, 1, timedelta(seconds=s.otp_resend_gap_s), now)
        wait = wait or _retry_after(times, s.otp_per_hour, timedelta(hours=1), now)
        if wait:
            raise TooManyRequests(wait, message=RESEND_TOO_SOON, code="otp_resend_too_soon")
    await repository.ensure_profile(session, account_id, now)
    await repository.kill_live_otps(session, account_id, now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    salt = secrets.token_hex(16)
    expires_at = now + timedelta(seconds=s.otp_ttl_s)
    session.add(
        PhoneOtp(
            account_id=account_id,
            phone_e164=phone,
            code_hash=_hash(salt, account_id, code),
            salt=salt,
            created_at=now,
            expires_at=expires_at,
            attempts=0,
        )
    )
    account = await repository.account_name(session, account_id)
    await ctx.outbox.add(
        session,
        NotificationRequested(
            account_id=account_id,
            template="phone_otp",
            channels=["sms"],
            locale="en" if account is not None and account.locale == "en" else "id",
            phone=phone,
            params={"code": code, "valid_minutes": max(1, s.otp_ttl_s // 60)},
            expires_at=expires_at,
        ),
        key=account_id,
    )
    return SentCode(phone=phone, expires_at=expires_at)


async def verify_code(
    ctx: ProfileContext, session: AsyncSession, account_id: uuid.UUID, code: str
) -> DomainError | None:
    """POST /phone/verify. Returns the refusal instead of raising it: a wrong try must be committed."""
    s = ctx.settings
    now = utcnow()
    otp = await repository.latest_otp(session, account_id)
    if otp is None or otp.verified_at is not None:
        return errors.OtpNotRequested()
    if otp.dead_at is not None and otp.attempts >= s.otp_max_attempts:
        return errors.OtpLocked()
    if otp.dead_at is not None:
        return errors.OtpNotRequested()
    if now >= otp.expires_at:
        return errors.OtpExpired(minutes=max(1, s.otp_ttl_s // 60))
    if not hmac.compare_digest(otp.code_hash, _hash(otp.salt, account_id, code)):
        otp.attempts += 1
        if otp.attempts >= s.otp_max_attempts:
            otp.dead_at = now
            return errors.OtpLocked()
        return errors.OtpWrong(remaining=s.otp_max_attempts - otp.attempts)
    holder = await repository.phone_holder(session, otp.phone_e164)
    if holder is not None and holder.account_id != account_id:
        otp.dead_at = now
        return errors.PhoneTaken()
    otp.verified_at = now
    row = await repository.ensure_profile(session, account_id, now)
    row.phone_e164 = otp.phone_e164
    row.phone_verified_at = now
    row.updated_at = now
    await session.flush()
    await maybe_complete(ctx, session, row)
    return None
