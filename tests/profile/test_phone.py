"""Phone verification: Indonesian mobile numbers only, the SMS request through the outbox, hashed codes,
expiry, five wrong tries, resend throttling, and one verified number per account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import text

from tests.profile.conftest import outbox_events, verify_phone

URL = "/v1/profiles/me/phone"


async def sent_codes(app) -> list[dict]:
    return [e["data"] for e in await outbox_events(app, "notification.requested")]


@pytest.mark.parametrize(
    "raw", ["081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567890", "(0812) 34567890"]
)
async def test_numbers_are_normalised_to_e164_and_the_sms_request_is_queued(client, app, applicant, raw):
    account_id, headers = await applicant()
    r = await client.post(URL, json={"phone": raw}, headers=headers)
    assert r.status_code == 202, r.text
    assert r.json()["phone_masked"] == "+62812******90"
    [request] = await sent_codes(app)
    assert request["account_id"] == str(account_id)
    assert (request["template"], request["channels"], request["phone"]) == ("phone_otp", ["sms"], "+6281234567890")
    assert request["params"]["valid_minutes"] == 5 and len(request["params"]["code"]) == 6
    expires = datetime.fromisoformat(request["expires_at"])
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    assert request["email"] is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0215551234", "phone_not_mobile"),
        ("+62 22 2501234", "phone_not_mobile"),
        ("+1 650 253 0000", "phone_not_indonesian"),
        ("+60 12 345 6789", "phone_not_indonesian"),
        ("0812", "phone_invalid"),
        ("bukan nomor", "phone_invalid"),
    ],
)
async def test_landlines_foreign_and_garbage_are_refused(client, app, applicant, raw, code):
    _, headers = await applicant()
    r = await client.post(URL, json={"phone": raw}, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == code
    assert await sent_codes(app) == []


async def test_right_code_verifies_and_the_code_is_stored_hashed(client, app, applicant):
    _, headers = await applicant()
    await client.post(URL, json={"phone": "081234567890"}, headers=headers)
    code = (await sent_codes(app))[0]["params"]["code"]
    async with app.state.db.sessionmaker() as session:
        raw = repr((await session.execute(text("SELECT * FROM phone_otps"))).all())
    assert code not in raw
    r = await client.post(f"{URL}/verify", json={"code": code}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["phone_masked"] == "+62812******90" and r.json()["verified_at"]
    r = await client.post(f"{URL}/verify", json={"code": code}, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "otp_not_requested"  # single use


async def test_five_wrong_codes_kill_the_code(client, app, applicant):
    _, headers = await applicant()
    await client.post(URL, json={"phone": "081234567890"}, headers=headers)
    code = (await sent_codes(app))[0]["params"]["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for remaining in (4, 3, 2, 1):
        r = await client.post(f"{URL}/verify", json={"code": wrong}, headers=headers)
        assert r.status_code == 422 and r.json()["code"] == "otp_invalid"
        assert f"Sisa percobaan: {remaining}" in r.json()["detail"]
    r = await client.post(f"{URL}/verify", json={"code": wrong}, headers=headers)
    assert r.status_code == 410 and r.json()["code"] == "otp_attempts_exhausted"
    r = await client.post(f"{URL}/verify", json={"code": code}, headers=headers)
    assert r.status_code == 410 and r.json()["code"] == "otp_attempts_exhausted"
    status = (await client.get("/v1/profiles/me/status", headers=headers)).json()
    assert {s["step"]: s["done"] for s in status["steps"]}["phone"] is False


async def test_code_expires_after_five_minutes(client, app, applicant):
    _, headers = await applicant()
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        await client.post(URL, json={"phone": "081234567890"}, headers=headers)
        code = (await sent_codes(app))[0]["params"]["code"]
        traveller.shift(timedelta(minutes=5, seconds=1))
        r = await client.post(f"{URL}/verify", json={"code": code}, headers=headers)
        assert r.status_code == 410 and r.json()["code"] == "otp_expired"
        # A new code, right away valid.
        r = await client.post(URL, json={"phone": "081234567890"}, headers=headers)
        assert r.status_code == 202
        code = (await sent_codes(app))[-1]["params"]["code"]
        traveller.shift(timedelta(minutes=4, seconds=59))
        r = await client.post(f"{URL}/verify", json={"code": code}, headers=headers)
        assert r.status_code == 200, r.text


async def test_a_new_code_replaces_the_old_one(client, app, applicant):
    _, headers = await applicant()
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        await client.post(URL, json={"phone": "081234567890"}, headers=headers)
        old = (await sent_codes(app))[0]["params"]["code"]
        traveller.shift(timedelta(seconds=61))
        await client.post(URL, json={"phone": "081234567890"}, headers=headers)
        new = (await sent_codes(app))[1]["params"]["code"]
        if old != new:
            r = await client.post(f"{URL}/verify", json={"code": old}, headers=headers)
            assert r.json()["code"] == "otp_invalid"
        r = await client.post(f"{URL}/verify", json={"code": new}, headers=headers)
        assert r.status_code == 200


async def test_resend_is_throttled(client, app, applicant, issuer):
    account_id, headers = await applicant()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        assert (await client.post(URL, json={"phone": "081234567890"}, headers=headers)).status_code == 202
        traveller.shift(timedelta(seconds=20))
        r = await client.post(URL, json={"phone": "081234567890"}, headers=headers)
        assert r.status_code == 429 and r.json()["code"] == "otp_resend_too_soon"
        assert r.headers["Retry-After"] == "40"
        for _ in range(4):
            traveller.shift(timedelta(seconds=61))
            assert (await client.post(URL, json={"phone": "081234567890"}, headers=headers)).status_code == 202
        traveller.shift(timedelta(seconds=61))
        r = await client.post(URL, json={"phone": "081234567890"}, headers=headers)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) == 3600 - 20 - 61 * 5
        traveller.shift(timedelta(seconds=int(r.headers["Retry-After"])))
        headers = issuer.headers(account_id, ["applicant"])  # an hour later: a fresh access token
        assert (await client.post(URL, json={"phone": "081234567890"}, headers=headers)).status_code == 202
    assert len(await sent_codes(app)) == 6


async def test_one_number_cannot_be_flooded_from_many_accounts(client, app, applicant):
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        for _ in range(5):
            _, headers = await applicant()
            assert (await client.post(URL, json={"phone": "081234567890"}, headers=headers)).status_code == 202
            traveller.shift(timedelta(seconds=61))
        _, headers = await applicant()
        r = await client.post(URL, json={"phone": "081234567890"}, headers=headers)
        assert r.status_code == 429


async def test_a_number_verified_on_another_account_is_refused(client, app, applicant):
    _, first = await applicant()
    await verify_phone(client, app, first, "081234567890")
    _, second = await applicant("SRI WAHYUNI")
    r = await client.post(URL, json={"phone": "+6281234567890"}, headers=second)
    assert r.status_code == 409 and r.json()["code"] == "phone_already_registered"
    # The same account may verify it again (e.g. after changing it back).
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61), tick=False):
        r = await client.post(URL, json={"phone": "081234567890"}, headers=first)
        assert r.status_code == 202


async def test_verify_without_a_code(client, applicant):
    _, headers = await applicant()
    r = await client.post(f"{URL}/verify", json={"code": "123456"}, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "otp_not_requested"
    r = await client.post(f"{URL}/verify", json={"code": "12a456"}, headers=headers)
    assert r.status_code == 422


async def test_the_number_verified_first_wins(client, app, applicant):
    _, first = await applicant()
    _, second = await applicant("SRI WAHYUNI")
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        for headers in (first, second):
            assert (await client.post(URL, json={"phone": "081234567890"}, headers=headers)).status_code == 202
            traveller.shift(timedelta(seconds=61))  # the number's own 60-second gap
        codes = [e["params"]["code"] for e in await sent_codes(app)]
        assert (await client.post(f"{URL}/verify", json={"code": codes[0]}, headers=first)).status_code == 200
        r = await client.post(f"{URL}/verify", json={"code": codes[1]}, headers=second)
        assert r.status_code == 409 and r.json()["code"] == "phone_already_registered"
