"""The consumer turns events into deliveries exactly once; poison requests leave nothing behind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.notification.models import Notification
from shared.events.envelope import CloudEvent
from shared.events.identity import AccountConfirmed
from shared.messaging.consumer import PoisonMessage
from tests.notification.conftest import deliveries, outbox_events, requested


async def test_a_request_creates_a_pending_delivery_with_rendered_content(parts):
    account = uuid.uuid4()
    event = requested(account)
    assert await parts.consumer.handle(event) is True
    [d] = await deliveries(parts.db)
    assert (d.account_id, d.event_id, d.template, d.channel) == (account, event.id, "account_confirmation", "email")
    assert d.status == "pending" and d.attempts == 0
    assert d.recipient == "siti.nurhaliza@example.com"
    assert d.recipient_masked == "s***@example.com"
    assert d.subject == "Konfirmasi alamat e-mail akun Kartu Prakerja Anda"
    assert "tok-123" in (d.body_text or "") and "tok-123" in (d.body_html or "")
    assert d.next_attempt_at is not None and d.expires_at is None
    assert await outbox_events(parts.db) == []


async def test_the_same_event_twice_creates_nothing_new(parts):
    event = requested(channels=["email", "inbox"], template="assessment_completed", params={"full_name": "Budi"})
    assert await parts.consumer.handle(event) is True
    assert await parts.consumer.handle(event) is False
    again = CloudEvent.model_validate(event.model_dump())
    assert await parts.consumer.handle(again) is False
    rows = await deliveries(parts.db)
    assert sorted(d.channel for d in rows) == ["email", "inbox"]
    async with parts.db.sessionmaker() as session:
        assert len((await session.scalars(select(Notification))).all()) == 1


async def test_inbox_delivery_is_sent_at_once_and_reported(parts):
    account = uuid.uuid4()
    event = requested(account, template="assessment_completed", channels=["inbox"], params={"full_name": "Budi"})
    await parts.consumer.handle(event)
    [d] = await deliveries(parts.db)
    assert d.status == "sent" and d.sent_at is not None and d.recipient is None
    assert d.body_text is None  # content lives in the inbox row, not in the delivery
    async with parts.db.sessionmaker() as session:
        [n] = (await session.scalars(select(Notification))).all()
    assert n.account_id == account and n.read_at is None and n.locale == "id"
    assert n.title_id == "Tes Kartu Prakerja Anda sudah selesai"
    assert n.title_en == "Your Kartu Prakerja test is complete"
    [sent] = await outbox_events(parts.db)
    assert sent["type"] == "notification.sent" and sent["subject"] == str(account)
    assert sent["data"] == {
        "account_id": str(account),
        "delivery_id": str(d.id),
        "template": "assessment_completed",
        "channel": "inbox",
        "status": "sent",
    }


async def test_account_confirmed_puts_a_welcome_in_the_inbox_in_the_account_language(parts):
    account = uuid.uuid4()
    payload = AccountConfirmed(
        account_id=account, confirmed_at=datetime.now(UTC), full_name="Siti Nurhaliza", locale="en"
    )
    await parts.consumer.handle(CloudEvent.wrap(payload, source="prakerja/identity", subject=str(account)))
    async with parts.db.sessionmaker() as session:
        [n] = (await session.scalars(select(Notification))).all()
    assert n.template == "welcome" and n.locale == "en"
    assert n.text_in("en")[0] == "Welcome to Kartu Prakerja"
    assert n.text_in("en")[1].startswith("Hello Siti Nurhaliza, your account is active.")
    assert n.text_in("id")[1].startswith("Halo Siti Nurhaliza, akun Anda sudah aktif.")


@pytest.mark.parametrize(
    "fields",
    [
        {"template": "no_such_template"},
        {"template": "phone_otp", "channels": ["email"]},  # an SMS-only template on e-mail
        {"template": "phone_otp", "channels": ["sms"], "phone": None, "params": {"code": "1", "valid_minutes": 5}},
        {"template": "phone_otp", "channels": ["sms"], "phone": "12", "params": {"code": "1", "valid_minutes": 5}},
        {"email": None},
        {"params": {"full_name": "Siti"}},  # link, token, valid_hours missing
        {"channels": []},
    ],
    ids=["unknown-template", "wrong-channel", "no-phone", "bad-phone", "no-email", "missing-params", "no-channels"],
)
async def test_undeliverable_requests_are_poison_and_leave_no_trace(parts, fields):
    event = requested(**fields)
    with pytest.raises(PoisonMessage):
        await parts.consumer.handle(event)
    assert await deliveries(parts.db) == []
    assert await outbox_events(parts.db) == []


async def test_a_request_already_expired_is_recorded_as_expired_and_never_queued(parts, clock):
    event = requested(
        template="phone_otp",
        channels=["sms"],
        phone="081234567890",
        params={"code": "482913", "valid_minutes": 5},
        expires_at=clock.now - timedelta(seconds=1),
    )
    await parts.consumer.handle(event)
    [d] = await deliveries(parts.db)
    assert d.status == "expired" and d.recipient == "+6281234567890" and d.body_text is None
    assert d.recipient_masked == "+6281*******90"
    [ev] = await outbox_events(parts.db)
    assert ev["data"]["status"] == "expired"


async def test_a_new_delivery_wakes_the_dispatcher_after_commit(parts):
    woken: list[bool] = []
    parts.notifier.wake_dispatcher = lambda: woken.append(True)
    await parts.consumer.handle(requested())
    assert woken == [True]
    with pytest.raises(PoisonMessage):
        await parts.consumer.handle(requested(template="no_such_template"))
    assert woken == [True]  # a rolled-back request wakes nobody
