"""Registration, confirmation and resend: every rule and error path."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import time_machine

from services.identity.main import create_app
from shared.db import utcnow
from shared.testing.plugin import running_app
from tests.identity.conftest import (
    PASSWORD,
    active_account,
    identity_settings,
    link_token,
    outbox_rows,
    register,
    table_count,
)


async def test_register_returns_pending_account_and_normalises(client, identity_url):
    r = await client.post(
        "/v1/accounts", json={"full_name": "  Siti   Nurhaliza ", "email": " Siti@Example.COM ", "password": PASSWORD}
    )
    assert r.status_code == 201
    body = r.json()
    assert body["full_name"] == "Siti Nurhaliza"
    assert body["email"] == "siti@example.com"
    assert body["status"] == "pending_confirmation"
    assert body["roles"] == ["applicant"]
    topics = [e["type"] for e in await outbox_rows(identity_url)]
    assert topics == ["account.registered", "notification.requested"]


async def test_registered_event_and_mail_request_carry_no_password(client, identity_url):
    await register(client)
    for event in await outbox_rows(identity_url):
        assert PASSWORD not in str(event)
        assert event["specversion"] == "1.0"
        assert event["source"] == "prakerja/identity"
    registered = (await outbox_rows(identity_url, "account.registered"))[0]
    assert "email" not in registered["data"] and "full_name" not in registered["data"]
    mail = (await outbox_rows(identity_url, "notification.requested"))[0]["data"]
    assert mail["template"] == "account_confirmation"
    assert mail["params"]["token"] in mail["params"]["link"]


async def test_duplicate_email_is_409_case_insensitive_and_reveals_nothing_more(client, identity_url):
    assert (await register(client)).status_code == 201
    r = await register(client, email="SITI@example.com", name="Orang Lain")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "email_taken"
    assert "Siti" not in r.text
    # The refused registration wrote nothing: no account, no confirmation token, no event.
    assert await table_count(identity_url, "accounts") == 1
    assert await table_count(identity_url, "email_tokens") == 1
    assert await table_count(identity_url, "outbox") == 2


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("full_name", "S", "full_name_length"),
        ("full_name", "A" * 101, "full_name_length"),
        ("full_name", "Siti 123", "full_name_characters"),
        ("full_name", "Siti <script>", "full_name_characters"),
        ("email", "not-an-email", "email_invalid"),
        ("password", "short1!", "password_too_short"),
        ("password", "siti@example.com", "password_is_email"),
        ("password", "SitiNurhaliza", "password_is_name"),
        ("password", "password123", "password_common"),
        ("password", "bismillah123", "password_common"),
        ("password", "x" * 129, "password_too_long"),
    ],
)
async def test_invalid_fields_give_field_codes_and_store_nothing(client, identity_url, field, value, code):
    body = {"full_name": "Siti Nurhaliza", "email": "siti@example.com", "password": PASSWORD, field: value}
    r = await client.post("/v1/accounts", json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "validation_failed"
    assert {"field": f"body.{field}", "code": code} == {k: problem["errors"][0][k] for k in ("field", "code")}
    assert await table_count(identity_url, "accounts") == 0
    assert await table_count(identity_url, "outbox") == 0


async def test_names_with_ktp_punctuation_are_accepted(client):
    for i, name in enumerate(["Ma'ruf Amin", "Syifa Al-Zahra", "M. Ridwan", "Ni Made Sri Aryani", "SUTRISNO"]):
        r = await register(client, email=f"user{i}@example.com", name=name)
        assert r.status_code == 201, (name, r.text)


async def test_messages_in_english_on_request(client):
    r = await client.post("/v1/accounts", json={"full_name": "S"}, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert r.status_code == 422
    assert r.json()["detail"] == "Some fields are not valid. Please check them."
    assert r.headers["content-language"] == "en"
    r = await client.post("/v1/accounts", json={"full_name": "S"})
    assert r.json()["detail"].startswith("Ada isian")


async def test_malformed_json_unknown_fields_wrong_types_oversized(client, identity_url):
    r = await client.post("/v1/accounts", content=b'{"full_name": ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    r = await client.post(
        "/v1/accounts",
        json={"full_name": "Siti Nurhaliza", "email": "s@example.com", "password": PASSWORD, "roles": ["ops"]},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "extra_forbidden"
    r = await client.post("/v1/accounts", json={"full_name": 12, "email": ["x"], "password": None})
    assert r.status_code == 422 and len(r.json()["errors"]) == 3
    r = await client.post("/v1/accounts", json=["not", "an", "object"])
    assert r.status_code == 422
    r = await client.post("/v1/accounts", content=b"x" * 2_000_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    # A NUL escaped in a JSON string is refused before the app reads it (PostgreSQL stores no NUL in text).
    nul = b'{"full_name": "Siti\\u0000", "email": "nul@example.com", "password": "Pelatihan-Kerja-2026"}'
    r = await client.post("/v1/accounts", content=nul, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "nul_character" and "NUL" in r.json()["detail"]
    r = await client.post(
        "/v1/accounts", content=nul, headers={"content-type": "application/json", "accept-language": "en"}
    )
    assert r.json()["detail"] == "The input contains a NUL character (\\u0000), which is not accepted."
    assert await table_count(identity_url, "accounts") == 0


async def test_confirm_activates_once(client, identity_url):
    await register(client)
    token = await link_token(identity_url, "siti@example.com")
    r = await client.post("/v1/accounts/confirm", json={"token": token})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert r.json()["confirmed_at"] is not None
    topics = [e["type"] for e in await outbox_rows(identity_url)]
    assert topics.count("account.confirmed") == 1 and topics.count("account.contact_updated") == 1
    again = await client.post("/v1/accounts/confirm", json={"token": token})
    assert again.status_code == 410 and again.json()["code"] == "link_token_used"


async def test_confirm_unknown_and_expired_tokens(client, identity_url):
    r = await client.post("/v1/accounts/confirm", json={"token": "x" * 43})
    assert r.status_code == 400 and r.json()["code"] == "link_token_invalid"
    await register(client)
    token = await link_token(identity_url, "siti@example.com")
    with time_machine.travel(utcnow() + timedelta(hours=24, seconds=1)):
        r = await client.post("/v1/accounts/confirm", json={"token": token})
    assert r.status_code == 410 and r.json()["code"] == "link_token_expired"


async def test_resend_replaces_link_is_throttled_and_hides_existence(client, identity_url):
    await register(client)
    first = await link_token(identity_url, "siti@example.com")
    with time_machine.travel(utcnow() + timedelta(seconds=61)):
        r = await client.post("/v1/accounts/confirm/resend", json={"email": "siti@example.com"})
        assert r.status_code == 202
        second = await link_token(identity_url, "siti@example.com")
        assert second != first
        too_soon = await client.post("/v1/accounts/confirm/resend", json={"email": "siti@example.com"})
        assert too_soon.status_code == 429 and too_soon.json()["code"] == "resend_too_soon"
        assert int(too_soon.headers["retry-after"]) > 0
        unknown = await client.post("/v1/accounts/confirm/resend", json={"email": "nobody@example.com"})
        assert unknown.status_code == 202 and unknown.json()["detail"] == r.json()["detail"]
        old = await client.post("/v1/accounts/confirm", json={"token": first})
        assert old.status_code == 410
        assert (await client.post("/v1/accounts/confirm", json={"token": second})).status_code == 200


async def test_registration_rate_limited_per_ip(identity_url):
    app = create_app(identity_settings(identity_url, rate_register_per_ip=3))
    async with running_app(app) as client:
        codes = [(await register(client, email=f"u{i}@example.com")).status_code for i in range(4)]
    assert codes == [201, 201, 201, 429]


async def test_sixteen_concurrent_registrations_all_succeed(identity_url):
    """On SQLite too: writers queue on the lock instead of failing with 'database is locked'."""
    app = create_app(identity_settings(identity_url, rate_register_per_ip=1000))
    async with running_app(app) as client:
        results = await asyncio.gather(*(register(client, email=f"burst{i}@example.com") for i in range(16)))
    assert [r.status_code for r in results] == [201] * 16
    assert await table_count(identity_url, "accounts") == 16


async def test_me_requires_token_and_returns_own_account(client, identity_url):
    r = await client.get("/v1/accounts/me")
    assert r.status_code == 401 and r.json()["code"] == "token_missing"
    assert r.headers["www-authenticate"] == "Bearer"
    await active_account(client, identity_url)
    from tests.identity.conftest import login

    token = (await login(client)).json()["access_token"]
    me = await client.get("/v1/accounts/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == "siti@example.com"


async def test_concurrent_registrations_with_one_email_give_one_account_and_one_409(client, identity_url):
    results = await asyncio.gather(*(register(client, email="kembar@example.com") for _ in range(4)))
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
    assert await table_count(identity_url, "accounts") == 1
    assert await table_count(identity_url, "email_tokens") == 1
    assert await table_count(identity_url, "outbox") == 2
