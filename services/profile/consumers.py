"""Events profile consumes: identity's confirmed accounts, for the name the registry name must match."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import repository
from shared.events.envelope import CloudEvent, EventPayload
from shared.events.identity import AccountConfirmed


async def on_account_confirmed(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
    """Keep the account's full name (as on the KTP; identity never lets it change) and language."""
    assert isinstance(payload, AccountConfirmed)
    await repository.upsert_account_name(
        session, payload.account_id, payload.full_name, payload.locale, payload.confirmed_at
    )


HANDLERS = {AccountConfirmed.event_type: on_account_confirmed}
