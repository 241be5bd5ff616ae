"""Services ask for e-mail by account id alone; notification finds the address in its contact projection."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.notification.models import Contact
from shared.events.envelope import CloudEvent
from shared.events.identity import AccountContactUpdated
from shared.messaging.consumer import PoisonMessage
from tests.notification.conftest import deliveries, requested


def contact_event(account_id: uuid.UUID, email: str = "budi.santoso@example.com") -> CloudEvent:
    payload = AccountContactUpdated(account_id=account_id, email=email, full_name="Budi Santoso", locale="id")
    return CloudEvent.wrap(payload, source="prakerja/identity", subject=str(account_id))


async def test_contact_is_recorded_and_updated(parts):
    account = uuid.uuid4()
    assert await parts.consumer.handle(contact_event(account)) is True
    assert await parts.consumer.handle(contact_event(account, "budi.baru@example.com")) is True
    async with parts.db.sessionmaker() as session:
        contact = (await session.scalars(select(Contact))).one()
    assert (contact.account_id, contact.email, contact.full_name) == (account, "budi.baru@example.com", "Budi Santoso")


async def test_request_without_address_uses_the_contact_and_its_name(parts):
    account = uuid.uuid4()
    await parts.consumer.handle(contact_event(account))
    event = requested(
        account, template="assessment_completed", channels=["email", "inbox"], email=None, params={"full_name": ""}
    )
    assert await parts.consumer.handle(event) is True
    rows = {d.channel: d for d in await deliveries(parts.db)}
    assert rows["email"].recipient == "budi.santoso@example.com"
    assert "Budi Santoso" in (rows["email"].body_text or "")
    assert "inbox" in rows


async def test_unknown_contact_leaves_the_email_out_but_keeps_the_inbox(parts):
    event = requested(
        uuid.uuid4(),
        template="assessment_completed",
        channels=["email", "inbox"],
        email=None,
        params={"full_name": "Sri"},
    )
    assert await parts.consumer.handle(event) is True
    assert [d.channel for d in await deliveries(parts.db)] == ["inbox"]


async def test_no_reachable_channel_is_a_poison_message(parts):
    event = requested(
        uuid.uuid4(), template="assessment_completed", channels=["email"], email=None, params={"full_name": "Sri"}
    )
    with pytest.raises(PoisonMessage):
        await parts.consumer.handle(event)
    assert await deliveries(parts.db) == []
