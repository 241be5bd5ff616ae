"""The request any service publishes to have notification deliver a message, and what notification reports.

A request names a template (notification owns the wording, in Bahasa Indonesia and English) and carries
only the contact data the delivery truly needs (the e-mail address for an e-mail, the phone for an SMS).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.events.envelope import EventPayload, catalogue

Channel = Literal["email", "sms", "inbox"]


@catalogue
class NotificationRequested(EventPayload):
    event_type = "notification.requested"
    account_id: uuid.UUID
    template: str = Field(description="Template name, e.g. `account_confirmation`")
    channels: list[Channel]
    locale: Literal["id", "en"] = "id"
    email: str | None = None
    phone: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    expires_at: datetime | None = Field(
        default=None, description="Drop instead of sending after this time (one-time codes)"
    )


@catalogue
class NotificationSent(EventPayload):
    event_type = "notification.sent"
    account_id: uuid.UUID
    delivery_id: uuid.UUID
    template: str
    channel: Channel
    status: Literal["sent", "failed", "expired"]
