"""PUT /v1/profiles/me/identity on the embedded registry: structure codes, registry outcomes, one NIK per
account, encryption at rest, and every attempt recorded without the clear NIK."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from services.profile.models import Profile, VerificationAttempt
from tests.profile.conftest import BUDI, TEST_INDEX_KEY, verify_identity

URL = "/v1/profiles/me/identity"


async def attempts(app, account_id) -> list[str]:
    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(
            select(VerificationAttempt.outcome)
            .where(VerificationAttempt.account_id == account_id)
            .order_by(VerificationAttempt.id)
        )
        return list(rows.scalars())


async def test_ordinary_person_is_verified_and_stored_encrypted(client, app, applicant):
    account_id, headers = await applicant("Budi Santoso")
    r = await client.put(URL, json={"nik": "3276 0117 0591 0001", "birth_date": "1991-05-17"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["nik_masked"] == "3276********0001"
    assert body["kk_masked"] == "3276********0001"
    assert body["sex"] == "L" and body["birth_date"] == "1991-05-17" and body["verified_at"]
    assert BUDI["nik"] not in r.text and BUDI["kk"] not in r.text
    async with app.state.db.sessionmaker() as session:
        row = await session.get(Profile, account_id)
        raw = (await session.execute(text("SELECT * FROM profiles"))).all()
    assert BUDI["nik"] not in repr(raw) and BUDI["kk"] not in repr(raw)
    assert row.nik_cipher.startswith("t1:")
    cipher = app.state.profile.crypto.cipher
    assert cipher.decrypt(row.nik_cipher, column="nik") == BUDI["nik"]
    assert cipher.decrypt(row.kk_cipher, column="kk") == BUDI["kk"]
    import base64

    key = base64.b64decode(TEST_INDEX_KEY)
    assert row.nik_hash == hmac.new(key, BUDI["nik"].encode(), hashlib.sha256).hexdigest()
    assert await attempts(app, account_id) == ["verified"]
    status = (await client.get("/v1/profiles/me/status", headers=headers)).json()
    assert {s["step"]: s["done"] for s in status["steps"]}["identity"] is True


@pytest.mark.parametrize(
    ("nik", "kk", "birth_date", "codes"),
    [
        ("327601170591000", None, "1991-05-17", ["nik_not_16_digits"]),
        ("32760117059100011", None, "1991-05-17", ["nik_not_16_digits"]),
        ("3276O11705910001", None, "1991-05-17", ["nik_not_16_digits"]),
        ("9999011705910001", None, "1991-05-17", ["nik_region_unknown"]),
        ("3276991705910001", None, "1991-05-17", ["nik_region_unknown"]),
        ("3276011805910001", None, "1991-05-17", ["nik_birth_date_mismatch"]),
        ("3276013213910001", None, "1991-05-17", ["nik_birth_date_invalid"]),
        ("3276011705910000", None, "1991-05-17", ["nik_serial_zero"]),
        ("3276011705910001", "12345", "1991-05-17", ["kk_invalid"]),
        ("3276011705910001", "3276013213060001", "1991-05-17", ["kk_invalid"]),
        ("3276011705910001", "9999012503060001", "1991-05-17", ["kk_invalid"]),
        ("3276011705910001", None, "2999-05-17", ["birth_date_in_future"]),
        (
            "9999013213910000",
            "1",
            "1991-05-17",
            ["nik_region_unknown", "nik_birth_date_invalid", "nik_serial_zero", "kk_invalid"],
        ),
    ],
)
async def test_structure_is_checked_field_by_field_before_the_registry(
    client, app, applicant, nik, kk, birth_date, codes
):
    account_id, headers = await applicant()
    body = {"nik": nik, "birth_date": birth_date} | ({"kk": kk} if kk else {})
    r = await client.put(URL, json=body, headers=headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == codes[0]
    assert [e["code"] for e in problem["errors"]] == codes
    assert problem["detail"] == problem["errors"][0]["message"]
    assert await attempts(app, account_id) == [codes[0]]


async def test_messages_say_what_to_fix_in_both_languages(client, applicant):
    _, headers = await applicant()
    body = {"nik": "3276011805910001", "birth_date": "1991-05-17"}
    r = await client.put(URL, json=body, headers=headers)
    assert (
        "Tanggal lahir tidak cocok dengan NIK" in r.json()["detail"] and "181405"[:0] + "180591" in r.json()["detail"]
    )
    r = await client.put(URL, json=body, headers={**headers, "Accept-Language": "en"})
    assert r.json()["detail"].startswith("The birth date does not match the NIK")
    r = await client.put(
        URL, json={"nik": "12", "birth_date": "1991-05-17"}, headers={**headers, "Accept-Language": "en"}
    )
    assert "16 digits" in r.json()["detail"]


@pytest.mark.parametrize(
    ("name", "nik", "birth_date", "code"),
    [
        ("BUDI SANTOSO", "3276011705919999", "1991-05-17", "nik_not_found"),
        # +40 on the day is a woman's NIK: it parses (sex is not asked), the registry does not know it.
        ("BUDI SANTOSO", "3276015705910001", "1991-05-17", "nik_not_found"),
        ("SUTRISNO", "3374011706680001", "1968-06-17", "nik_deceased"),
        # Whoever does not know the holder's name learns nothing about the holder (not even the death).
        ("RUDI HARTONO", "3374011706680001", "1968-06-17", "name_mismatch"),
        ("BUDI SANTOSO", "3276011705910001", "1891-05-17", "birth_date_mismatch"),
        ("RUDI HARTONO", "3273010707920001", "1992-07-07", "name_mismatch"),
        ("MUHAMMAD RIDWAN", "3273010707920001", "1992-07-07", "name_mismatch"),
        ("SYIFA AZZAHRA", "6472035804010001", "2001-04-18", "name_mismatch"),
        ("BAMBANG SUPRIYADI", "1671016902880001", "1988-02-29", "name_mismatch"),
        ("AHMAD FAUZI", "3174011403940001", "1994-03-14", "nik_not_linked_to_kk"),
    ],
)
async def test_registry_outcomes(client, app, applicant, name, nik, birth_date, code):
    account_id, headers = await applicant(name)
    r = await client.put(URL, json={"nik": nik, "birth_date": birth_date}, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert await attempts(app, account_id) == [code]
    async with app.state.db.sessionmaker() as session:
        row = await session.get(Profile, account_id)
    assert row is None or row.identity_verified_at is None


async def test_not_linked_to_kk_gives_the_dukcapil_advice(client, applicant):
    _, headers = await applicant("AHMAD FAUZI")
    r = await client.put(URL, json={"nik": "3174011403940001", "birth_date": "1994-03-14"}, headers=headers)
    detail = r.json()["detail"]
    assert "Kartu Keluarga" in detail and "Dukcapil" in detail and "1500-537" in detail


@pytest.mark.parametrize(
    ("name", "nik", "birth_date"),
    [
        ("soeparman", "3374031509800001", "1980-09-15"),
        ("SUPARMAN", "3374031509800001", "1980-09-15"),
        ("MARUF HIDAYATULLAH", "3171030112950001", "1995-12-01"),
        ("Ma’ruf  Hidayatullah", "3171030112950001", "1995-12-01"),
        ("SYIFA AL ZAHRA", "6472035804010001", "2001-04-18"),
        ("CAHYA KUSUMAWATI", "1671016902880001", "1988-02-29"),
    ],
)
async def test_name_policy_accepts_case_punctuation_spacing_and_old_spelling(client, applicant, name, nik, birth_date):
    _, headers = await applicant(name)
    r = await client.put(URL, json={"nik": nik, "birth_date": birth_date}, headers=headers)
    assert r.status_code == 200, r.text


async def test_kk_given_must_be_the_registry_kk(client, applicant):
    _, headers = await applicant()
    body = {"nik": BUDI["nik"], "birth_date": BUDI["birth_date"], "kk": "3276012503060002"}
    r = await client.put(URL, json=body, headers=headers)
    assert r.json()["code"] == "kk_mismatch"
    r = await client.put(URL, json={**body, "kk": BUDI["kk"]}, headers=headers)
    assert r.status_code == 200, r.text


async def test_one_nik_one_account(client, app, applicant):
    _first, h1 = await applicant()
    second, h2 = await applicant("Budi Santoso")
    await verify_identity(client, h1, BUDI)
    r = await client.put(URL, json={"nik": BUDI["nik"], "birth_date": BUDI["birth_date"]}, headers=h2)
    assert r.status_code == 409
    assert r.json()["code"] == "nik_already_registered"
    assert "klaim" in r.json()["detail"]
    assert await attempts(app, second) == ["nik_already_registered"]
    # The same account entering the same NIK again is fine; another NIK is not.
    await verify_identity(client, h1, BUDI)
    r = await client.put(URL, json={"nik": "3578036309890001", "birth_date": "1989-09-23"}, headers=h1)
    assert r.status_code == 409 and r.json()["code"] == "identity_already_verified"


async def test_account_not_yet_known_to_profile(client, issuer):
    headers = issuer.headers(uuid.uuid4(), ["applicant"])
    r = await client.put(URL, json={"nik": BUDI["nik"], "birth_date": BUDI["birth_date"]}, headers=headers)
    assert r.status_code == 503
    assert r.json()["code"] == "account_not_ready" and r.headers["Retry-After"] == "5"


async def test_attempts_never_hold_the_clear_nik(client, app, applicant):
    _, headers = await applicant("RUDI HARTONO")
    await client.put(URL, json={"nik": "3273010707920001", "birth_date": "1992-07-07"}, headers=headers)
    await client.put(URL, json={"nik": "3273010707920000", "birth_date": "1992-07-07"}, headers=headers)
    async with app.state.db.sessionmaker() as session:
        raw = (await session.execute(text("SELECT * FROM verification_attempts"))).all()
    assert len(raw) == 2
    assert "3273010707920001" not in repr(raw) and "327301070792000" not in repr(raw)


async def test_verification_attempts_are_rate_limited(client, applicant, app):
    app.state.profile.settings.rate_identity_per_hour = 2
    _, headers = await applicant()
    for _ in range(2):
        await client.put(URL, json={"nik": "1", "birth_date": "1991-05-17"}, headers=headers)
    r = await client.put(URL, json={"nik": BUDI["nik"], "birth_date": BUDI["birth_date"]}, headers=headers)
    assert r.status_code == 429 and "Retry-After" in r.headers


async def test_only_applicants_and_only_signed_in(client, issuer):
    r = await client.put(URL, json={"nik": BUDI["nik"], "birth_date": BUDI["birth_date"]})
    assert r.status_code == 401
    ops = issuer.headers(uuid.uuid4(), ["ops"])
    r = await client.put(URL, json={"nik": BUDI["nik"], "birth_date": BUDI["birth_date"]}, headers=ops)
    assert r.status_code == 403


async def test_account_confirmed_is_consumed_once_and_keeps_the_name(app):
    import uuid as _uuid

    from services.profile import repository
    from shared.events.envelope import CloudEvent
    from shared.events.identity import AccountConfirmed

    account_id = _uuid.uuid4()
    payload = AccountConfirmed(
        account_id=account_id, confirmed_at=datetime.now(UTC), full_name="Sri Wahyuni", locale="en"
    )
    event = CloudEvent.wrap(payload, source="prakerja/identity", subject=str(account_id))
    assert await app.state.consumer.handle(event) is True
    assert await app.state.consumer.handle(event) is False  # redelivered: nothing happens
    async with app.state.db.sessionmaker() as session:
        row = await repository.account_name(session, account_id)
    assert (row.full_name, row.locale) == ("Sri Wahyuni", "en")
