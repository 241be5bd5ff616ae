"""Events published by identity."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from shared.events.envelope import EventPayload, catalogue


@catalogue
class AccountRegistered(EventPayload):
    """An applicant created an account; the e-mail is not confirmed yet. No personal data."""

    event_type = "account.registered"
    account_id: uuid.UUID
    registered_at: datetime
    locale: Literal["id", "en"] = "id"


@catalogue
class AccountConfirmed(EventPayload):
    """The applicant confirmed the e-mail address; the account can sign in."""

    event_type = "account.confirmed"
    account_id: uuid.UUID
    confirmed_at: datetime
    full_name: str
    locale: Literal["id", "en"] = "id"


@catalogue
class PasswordChanged(EventPayload):
    """The password was reset; every session of the account was revoked."""

    event_type = "account.password_changed"
    account_id: uuid.UUID
    changed_at: datetime


@catalogue
class AccountContactUpdated(EventPayload):
    """The confirmed contact of an account, for notification alone (it needs the address to send e-mail)."""

    event_type = "account.contact_updated"
    account_id: uuid.UUID
    email: str
    full_name: str
    locale: Literal["id", "en"] = "id"
