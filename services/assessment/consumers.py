"""Event handlers, each run inside the consumer's transaction with its inbox row (idempotent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment import repository
from shared.db import utcnow
from shared.events.envelope import CloudEvent, EventPayload
from shared.events.identity import AccountConfirmed
from shared.events.profile import ProfileCompleted


async def on_profile_completed(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
    """The applicant may now take the test."""
    assert isinstance(payload, ProfileCompleted)
    await repository.record_profile_completed(session, payload.account_id, payload.completed_at, utcnow())


async def on_account_confirmed(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
    """Keep the name and language the "test done" message uses (nothing else of the account)."""
    assert isinstance(payload, AccountConfirmed)
    await repository.upsert_applicant(
        session, payload.account_id, payload.full_name, payload.locale, payload.confirmed_at
    )


HANDLERS = {
    ProfileCompleted.event_type: on_profile_completed,
    AccountConfirmed.event_type: on_account_confirmed,
}
