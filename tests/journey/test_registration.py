"""The first slice end to end, as real processes: register -> e-mail in the Maildir -> confirm -> token -> me.

Also: with the broker down at registration, the e-mail arrives once the broker is back, exactly once.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest

from shared.dev.broker import free_port, start_broker
from shared.testing.plugin import eventually
from tests.journey.conftest import start_platform

pytestmark = pytest.mark.crossprocess

PASSWORD = "Pelatihan-Kerja-2026"


def mails_to(smtp_server, address: str) -> list:
    return [m for m in smtp_server.messages() if m["To"] and address in m["To"]]


def token_from(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"token=([A-Za-z0-9_\-]{20,})", text)
    assert match, text
    return match.group(1)


async def test_register_confirm_sign_in_as_real_processes(platform, smtp_server):
    email = f"journey-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=platform.identity.url, timeout=10) as identity:
        r = await identity.post(
            "/v1/accounts", json={"full_name": "Budi Santoso", "email": email, "password": PASSWORD}
        )
        assert r.status_code == 201, r.text

        async def arrived():
            return mails_to(smtp_server, email)

        messages = await eventually(arrived, timeout=30)
        message = messages[0]
        assert "Budi Santoso" in message.get_body(preferencelist=("plain",)).get_content()
        assert message.get_body(preferencelist=("html",)) is not None
        token = token_from(message)

        r = await identity.post("/v1/accounts/confirm", json={"token": token})
        assert r.status_code == 200 and r.json()["status"] == "active"
        r = await identity.post(
            "/v1/auth/token", data={"grant_type": "password", "username": email, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        access = r.json()["access_token"]
        me = await identity.get("/v1/accounts/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status_code == 200 and me.json()["email"] == email

    # notification trusts identity's tokens through the JWKS and shows the welcome message in the inbox.
    async with httpx.AsyncClient(base_url=platform.notification.url, timeout=10) as notification:

        async def inbox():
            r = await notification.get("/v1/notifications/me", headers={"Authorization": f"Bearer {access}"})
            assert r.status_code == 200, r.text
            return r.json()["items"]

        items = await eventually(inbox, timeout=30)
        assert items
    assert len(mails_to(smtp_server, email)) == 1
    for svc in (platform.identity, platform.notification):
        assert email not in svc.log(), f"{svc.name} logged an e-mail address in clear"


async def test_mail_arrives_exactly_once_after_a_broker_outage(journey_dbs, smtp_server, tmp_path):
    port = free_port()
    platform = start_platform(journey_dbs, f"127.0.0.1:{port}", smtp_server.port, tmp_path)  # no broker yet
    broker = None
    try:
        email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
        async with httpx.AsyncClient(base_url=platform.identity.url, timeout=10) as identity:
            r = await identity.post(
                "/v1/accounts", json={"full_name": "Sri Wahyuni", "email": email, "password": PASSWORD}
            )
            assert r.status_code == 201
            ready = await identity.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["broker"] == "unreachable"
        await asyncio.sleep(2)
        assert mails_to(smtp_server, email) == []  # the event waits in the outbox
        broker = start_broker(port=port)

        async def arrived():
            return mails_to(smtp_server, email)

        await eventually(arrived, timeout=60)
        await asyncio.sleep(3)  # a duplicate would have arrived by now
        assert len(mails_to(smtp_server, email)) == 1
    finally:
        platform.stop()
        if broker is not None:
            broker.stop()
