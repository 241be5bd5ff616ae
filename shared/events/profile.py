"""Events published by profile. No clear NIK, KK, phone or address: NIK and KK travel as their keyed blind
index (HMAC-SHA256 with the programme's blind-index key), which selection uses to match exclusion lists and
to count recipients per family card."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from shared.events.envelope import EventPayload, catalogue


@catalogue
class ProfileCompleted(EventPayload):
    """Every profile step is done (NIK verified, personal data, KTP photo and selfie, phone, declaration).

    Published once per account. Region codes are the domicile's (Kemendagri codes, no dots).
    """

    event_type = "profile.completed"
    account_id: uuid.UUID
    completed_at: datetime
    nik_hash: str
    kk_hash: str | None
    birth_date: date
    sex: Literal["L", "P"]
    province_code: str | None
    regency_code: str | None
    district_code: str | None
    village_code: str | None
    education: str
    employment_status: str
    is_student: bool


@catalogue
class ProfileIdentityRevoked(EventPayload):
    """Ops decided a NIK claim against this account: its NIK verification no longer stands."""

    event_type = "profile.identity_revoked"
    account_id: uuid.UUID
    revoked_at: datetime
    nik_hash: str
    reason: Literal["nik_claim"] = "nik_claim"
