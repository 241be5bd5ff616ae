"""notification's request and response models (what /docs shows)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DeliveryStatus = Literal["pending", "sending", "sent", "failed", "expired"]
Channel = Literal["email", "sms", "inbox"]


class InboxItem(BaseModel):
    """A message in the applicant's inbox on the dashboard.

    In the language of `Accept-Language` (Bahasa Indonesia, or English with `en`); without that header, in the
    language chosen for the account.
    """

    id: uuid.UUID
    template: str = Field(description="What kind of message this is, e.g. `welcome`, `assessment_completed`")
    locale: Literal["id", "en"] = Field(description="Language of `title` and `body`")
    title: str = Field(examples=["Selamat datang di Kartu Prakerja"])
    body: str = Field(description="Plain text; line breaks are meaningful")
    created_at: datetime
    read_at: datetime | None = Field(description="When the applicant marked it read; null while unread")


class InboxPage(BaseModel):
    """One page of the inbox, newest first."""

    items: list[InboxItem]
    unread_count: int = Field(description="Unread messages in the whole inbox (not only this page)")
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next (older) page; null on the last page")


class ReadAllResult(BaseModel):
    """Outcome of marking every message read."""

    marked: int = Field(description="How many messages were unread and are now read")
    unread_count: int = Field(description="Always 0 after this call")


class DeliveryView(BaseModel):
    """A delivery as ops see it. The recipient is masked; message content is never shown."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    event_id: str = Field(description="CloudEvent id of the request that caused it")
    template: str
    channel: Channel
    locale: str
    recipient: str | None = Field(
        validation_alias="recipient_masked", description="Masked address (e-mail or phone); null for the inbox"
    )
    status: DeliveryStatus = Field(
        description="`pending` (waiting for its next attempt), `sending`, `sent`, `failed` (gave up), "
        "`expired` (too late to be of use, never sent)"
    )
    attempts: int
    last_error: str | None = Field(description="The last failure, personal data masked")
    next_attempt_at: datetime | None = Field(description="Next attempt (pending) or end of the claim (sending)")
    created_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None = Field(description="Not sent after this time (one-time codes)")


class DeliveryPage(BaseModel):
    """One page of deliveries, newest first."""

    items: list[DeliveryView]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page")
