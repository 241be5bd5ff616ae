"""Event handlers: each turns an event into deliveries, inside the consumer's transaction with its inbox row.

`notification.requested` is generic: any service names a template and its params, so a new message needs
only template files here. Domain events notification reacts to on its own map to a template the same way.
A request that can never be delivered (unknown template, missing param, no address) is a poison message:
it goes to the dead-letter topic instead of being retried.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.notification import repository, service
from services.notification.rendering import TemplateRenderError, UnknownTemplate
from services.notification.service import DeliveryRequest, InvalidRequest, Notifier
from shared.events.envelope import CloudEvent, EventPayload
from shared.events.identity import AccountConfirmed, AccountContactUpdated
from shared.events.notification import Channel, NotificationRequested
from shared.messaging.consumer import Handler, PoisonMessage

log = logging.getLogger("notification.consumers")


async def _accept(ctx: Notifier, session: AsyncSession, event: CloudEvent, request: DeliveryRequest) -> None:
    try:
        await service.accept(ctx, session, event.id, request)
    except (UnknownTemplate, TemplateRenderError, InvalidRequest) as exc:
        raise PoisonMessage(f"{request.template}: {exc}") from exc


async def _with_contact(session: AsyncSession, payload: NotificationRequested) -> DeliveryRequest:
    """Fill the address a request leaves out from the contact projection; a channel with no address known is
    left out (the others still go), and a request left with no channel at all is undeliverable."""
    email, phone, params = payload.email, payload.phone, dict(payload.params)
    channels: list[Channel] = list(payload.channels)
    if (email is None and "email" in channels) or (phone is None and "sms" in channels) or not params.get("full_name"):
        contact = await repository.contact_of(session, payload.account_id)
        if contact is not None:
            email = email or contact.email
            phone = phone or contact.phone
            if not params.get("full_name") and contact.full_name:
                params["full_name"] = contact.full_name
        for channel, address in (("email", email), ("sms", phone)):
            if channel in channels and address is None:
                log.warning(
                    "no %s address known for account %s; %s left out", channel, payload.account_id, payload.template
                )
                channels.remove(channel)
    if not channels:
        raise PoisonMessage(f"{payload.template}: no channel can reach account {payload.account_id}")
    return DeliveryRequest(
        account_id=payload.account_id,
        template=payload.template,
        channels=channels,
        locale=payload.locale,
        email=email,
        phone=phone,
        params=params,
        expires_at=payload.expires_at,
    )


def handlers(ctx: Notifier) -> dict[str, Handler]:
    async def on_requested(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
        assert isinstance(payload, NotificationRequested)
        await _accept(ctx, session, event, await _with_contact(session, payload))

    async def on_contact_updated(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
        assert isinstance(payload, AccountContactUpdated)
        await repository.save_contact(
            session, payload.account_id, email=payload.email, full_name=payload.full_name, locale=payload.locale
        )

    async def on_account_confirmed(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
        assert isinstance(payload, AccountConfirmed)
        request = DeliveryRequest(
            account_id=payload.account_id,
            template="welcome",
            channels=["inbox"],
            locale=payload.locale,
            params={"full_name": payload.full_name},
        )
        await _accept(ctx, session, event, request)

    return {
        NotificationRequested.event_type: on_requested,
        AccountConfirmed.event_type: on_account_confirmed,
        AccountContactUpdated.event_type: on_contact_updated,
    }
