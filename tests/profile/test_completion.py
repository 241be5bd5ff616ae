"""The declaration, the dashboard status, the masked profile, and `profile.completed` queued exactly once
with no clear NIK, KK, phone or address."""

from __future__ import annotations

import asyncio

import pytest

from services.profile import repository
from services.profile.service import maybe_complete
from shared.events.envelope import CloudEvent, parse_data
from shared.events.profile import ProfileCompleted
from tests.profile.conftest import BUDI, PERSONAL, complete_profile, declare, outbox_events


async def test_declaration_text_in_both_languages(client):
    r = await client.get("/v1/profiles/declaration")
    assert r.status_code == 200
    body = r.json()
    assert body["locale"] == "id" and body["version"]
    ids = [s["id"] for s in body["statements"]]
    assert ids == [
        "data_true_and_own",
        "not_in_excluded_group",
        "not_receiving_other_aid",
        "not_in_school",
        "accept_terms",
    ]
    groups = body["statements"][1]["text"]
    for group in (
        "Pejabat Negara",
        "DPR/DPRD",
        "Aparatur Sipil Negara",
        "TNI",
        "Polri",
        "Kepala Desa",
        "BUMN atau BUMD",
    ):
        assert group in groups
    assert "DTKS" in body["statements"][2]["text"] and "BSU" in body["statements"][2]["text"]
    en = (await client.get("/v1/profiles/declaration", headers={"Accept-Language": "en"})).json()
    assert en["locale"] == "en" and en["statements"][3]["text"] == "I am not currently in school or university."
    assert en["statements_id"] == body["statements"]


@pytest.mark.parametrize(
    "statement",
    ["data_true_and_own", "not_in_excluded_group", "not_receiving_other_aid", "not_in_school", "accept_terms"],
)
async def test_every_statement_must_be_affirmed(client, applicant, statement):
    _, headers = await applicant()
    version = (await client.get("/v1/profiles/declaration")).json()["version"]
    body = {
        "version": version,
        "data_true_and_own": True,
        "not_in_excluded_group": True,
        "not_receiving_other_aid": True,
        "not_in_school": True,
        "accept_terms": True,
        statement: False,
    }
    r = await client.post("/v1/profiles/me/declaration", json=body, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": f"body.{statement}",
            "code": "statement_required",
            "message": "Pernyataan ini wajib disetujui untuk mendaftar.",
        }
    ]
    del body[statement]
    r = await client.post("/v1/profiles/me/declaration", json=body, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "missing"


async def test_declaration_records_the_version_and_refuses_an_old_one(client, applicant):
    _, headers = await applicant()
    r = await declare(client, headers)
    assert r.status_code == 200 and r.json()["version"] and r.json()["accepted_at"]
    body = {
        "version": "2020-01-01",
        "data_true_and_own": True,
        "not_in_excluded_group": True,
        "not_receiving_other_aid": True,
        "not_in_school": True,
        "accept_terms": True,
    }
    r = await client.post("/v1/profiles/me/declaration", json=body, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "declaration_version_outdated"


async def test_a_student_cannot_declare_not_being_in_school(client, applicant):
    _, headers = await applicant()
    assert (
        await client.put("/v1/profiles/me/personal", json={**PERSONAL, "is_student": True}, headers=headers)
    ).status_code == 200
    r = await declare(client, headers)
    assert r.status_code == 409 and r.json()["code"] == "declaration_contradicts_profile"


async def test_empty_profile_and_status(client, applicant):
    account_id, headers = await applicant()
    status = (await client.get("/v1/profiles/me/status", headers=headers)).json()
    assert status["account_id"] == str(account_id) and status["complete"] is False
    assert [(s["step"], s["done"]) for s in status["steps"]] == [
        ("identity", False),
        ("personal", False),
        ("ktp_photo", False),
        ("selfie", False),
        ("phone", False),
        ("declaration", False),
    ]
    profile = (await client.get("/v1/profiles/me", headers=headers)).json()
    assert profile["full_name"] == "BUDI SANTOSO" and profile["identity"]["nik_masked"] is None


async def test_completing_every_step_queues_profile_completed_once(client, app, applicant):
    account_id, headers = await applicant()
    await complete_profile(client, app, headers, BUDI, "081234567890")
    status = (await client.get("/v1/profiles/me/status", headers=headers)).json()
    assert status["complete"] is True and status["completed_at"]
    [event] = await outbox_events(app, "profile.completed")
    envelope = CloudEvent.model_validate(event)
    assert envelope.type == "profile.completed" and envelope.source == "prakerja/profile"
    assert envelope.subject == str(account_id)
    payload = parse_data(envelope)
    assert isinstance(payload, ProfileCompleted)
    crypto = app.state.profile.crypto
    assert payload.nik_hash == crypto.index(BUDI["nik"]) and payload.kk_hash == crypto.index(BUDI["kk"])
    assert (str(payload.birth_date), payload.sex, payload.education, payload.employment_status, payload.is_student) == (
        "1991-05-17",
        "L",
        "SMA/SMK",
        "laid_off",
        False,
    )
    assert (payload.province_code, payload.regency_code, payload.district_code, payload.village_code) == (
        "32",
        "3276",
        "327601",
        "3276011006",
    )
    text = str(event)
    for secret in (BUDI["nik"], BUDI["kk"], "81234567890", "RAYA BOGOR", "BUDI"):
        assert secret not in text
    # Later changes never publish it again.
    assert (await client.put("/v1/profiles/me/personal", json=PERSONAL, headers=headers)).status_code == 200
    assert (await declare(client, headers)).status_code == 200
    assert len(await outbox_events(app, "profile.completed")) == 1
    profile = (await client.get("/v1/profiles/me", headers=headers)).json()
    assert (
        profile["identity"]["nik_masked"] == "3276********0001" and profile["phone"]["phone_masked"] == "+62812******90"
    )
    assert BUDI["nik"] not in str(profile) and "81234567890" not in str(profile)
    assert {d["kind"] for d in profile["documents"]} == {"ktp", "selfie"} and profile["completed_at"]


async def test_concurrent_completion_checks_publish_once(client, app, applicant):
    account_id, headers = await applicant()
    await complete_profile(client, app, headers, BUDI, "081234567890")
    ctx = app.state.profile

    async def again() -> bool:
        async with ctx.db.sessionmaker() as session, session.begin():
            row = await repository.profile(session, account_id)
            row.completed_at = None  # a stale read: both think it is not complete yet
            session.expunge(row)
            return await maybe_complete(ctx, session, row)

    assert await asyncio.gather(again(), again()) == [False, False]
    assert len(await outbox_events(app, "profile.completed")) == 1


async def test_another_applicants_profile_is_not_reachable(client, applicant):
    owner, _ = await applicant()
    _, other = await applicant("SRI WAHYUNI")
    r = await client.get(f"/v1/profiles/{owner}", params={"reason": "ingin tahu"}, headers=other)
    assert r.status_code == 403 and r.json()["code"] == "role_required"
    r = await client.get(f"/v1/profiles/{owner}/verification-attempts", params={"reason": "x" * 5}, headers=other)
    assert r.status_code == 403
