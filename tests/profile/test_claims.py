"""NIK claims end to end: filing (evidence required, registry-checked), ops review (audited), the decision
(revocation, notifications, events)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.profile.models import AuditEntry
from tests.profile.conftest import BUDI, outbox_events, upload, verify_identity

CLAIM = {"nik": BUDI["nik"], "birth_date": BUDI["birth_date"]}


async def held_nik(client, applicant):
    holder, h_headers = await applicant("BUDI SANTOSO")
    await verify_identity(client, h_headers, BUDI)
    claimant, c_headers = await applicant("Budi Santoso")
    return holder, h_headers, claimant, c_headers


async def audit_actions(app) -> list[tuple[str, uuid.UUID | None]]:
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(r.action, r.subject_account_id) for r in rows]


async def file_claim(client, c_headers):
    for kind in ("ktp", "selfie"):
        assert (await upload(client, c_headers, kind)).status_code == 200
    r = await client.post("/v1/profiles/me/nik-claims", json=CLAIM, headers=c_headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_claim_needs_the_claimants_own_photos(client, applicant):
    _, _, _, c_headers = await held_nik(client, applicant)
    r = await client.post("/v1/profiles/me/nik-claims", json=CLAIM, headers=c_headers)
    assert r.status_code == 409 and r.json()["code"] == "claim_documents_required"


async def test_claim_is_checked_against_the_registry(client, applicant):
    await held_nik(client, applicant)
    _, other = await applicant("RUDI HARTONO")
    for kind in ("ktp", "selfie"):
        await upload(client, other, kind)
    r = await client.post("/v1/profiles/me/nik-claims", json=CLAIM, headers=other)
    assert r.status_code == 422 and r.json()["code"] == "name_mismatch"
    r = await client.post("/v1/profiles/me/nik-claims", json={**CLAIM, "birth_date": "1991-05-18"}, headers=other)
    assert r.json()["code"] == "nik_birth_date_mismatch"


async def test_claim_only_when_someone_else_holds_the_nik(client, applicant):
    _, headers = await applicant("SRI WAHYUNI")
    for kind in ("ktp", "selfie"):
        await upload(client, headers, kind)
    r = await client.post(
        "/v1/profiles/me/nik-claims", json={"nik": "3578036309890001", "birth_date": "1989-09-23"}, headers=headers
    )
    assert r.status_code == 409 and r.json()["code"] == "claim_not_needed"


async def test_claim_decided_for_the_claimant(client, app, applicant, issuer):
    holder, h_headers, claimant, c_headers = await held_nik(client, applicant)
    claim = await file_claim(client, c_headers)
    assert claim["status"] == "open" and claim["nik_masked"] == "3276********0001"
    r = await client.post("/v1/profiles/me/nik-claims", json=CLAIM, headers=c_headers)
    assert r.status_code == 409 and r.json()["code"] == "claim_already_open"

    assert (await client.get("/v1/nik-claims", headers=c_headers)).status_code == 403
    ops_id = uuid.uuid4()
    ops = issuer.headers(ops_id, ["ops"])
    page = (await client.get("/v1/nik-claims", params={"status": "open"}, headers=ops)).json()
    assert page["total"] == 1 and page["items"][0]["id"] == claim["id"]
    detail = (await client.get(f"/v1/nik-claims/{claim['id']}", headers=ops)).json()
    assert detail["claimant"]["account_id"] == str(claimant) and detail["holder"]["account_id"] == str(holder)
    assert detail["holder"]["identity_verified_at"] and detail["claimant"]["identity_verified_at"] is None
    assert {d["kind"] for d in detail["claimant"]["documents"]} == {"ktp", "selfie"}
    photo_url = detail["claimant"]["document_urls"]["ktp"]
    r = await client.get(photo_url, headers=ops)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert BUDI["nik"] not in str(detail)

    r = await client.post(
        f"/v1/nik-claims/{claim['id']}/decision", json={"outcome": "claimant", "note": "KTP asli cocok"}, headers=ops
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "claimant" and r.json()["decided_by"] == str(ops_id)

    holder_status = (await client.get("/v1/profiles/me/status", headers=h_headers)).json()
    assert holder_status["steps"][0]["done"] is False
    holder_profile = (await client.get("/v1/profiles/me", headers=h_headers)).json()
    assert holder_profile["identity"]["verified_at"] is None and holder_profile["identity"]["revoked_at"]
    mine = (await client.get("/v1/profiles/me", headers=c_headers)).json()
    assert mine["identity"]["verified_at"] and mine["identity"]["nik_masked"] == "3276********0001"

    notices = [e["data"] for e in await outbox_events(app, "notification.requested")]
    assert [(n["template"], n["account_id"]) for n in notices] == [
        ("nik_claim_opened", str(claimant)),
        ("nik_claim_decided", str(claimant)),
        ("nik_claim_decided", str(holder)),
    ]
    assert [(n["params"]["full_name"], n["params"].get("role"), n["params"].get("outcome")) for n in notices] == [
        ("Budi Santoso", None, None),
        ("Budi Santoso", "claimant", "approved"),
        ("BUDI SANTOSO", "holder", "revoked"),
    ]
    for n in notices:
        assert n["channels"] == ["inbox", "email"] and n["email"] is None and n["phone"] is None
        assert n["params"]["claim_id"] == claim["id"] and n["params"]["nik_masked"] == "3276********0001"
    [revoked] = await outbox_events(app, "profile.identity_revoked")
    assert revoked["data"]["account_id"] == str(holder)
    assert revoked["data"]["nik_hash"] == app.state.profile.crypto.index(BUDI["nik"])

    mine = (await client.get("/v1/profiles/me/nik-claims", headers=c_headers)).json()
    assert [(c["id"], c["status"]) for c in mine] == [(claim["id"], "claimant")]
    assert (await client.get("/v1/profiles/me/nik-claims", headers=h_headers)).json() == []
    r = await client.post(
        f"/v1/nik-claims/{claim['id']}/decision", json={"outcome": "holder", "note": "berubah pikiran"}, headers=ops
    )
    assert r.status_code == 409 and r.json()["code"] == "claim_already_decided"
    actions = await audit_actions(app)
    assert actions[:2] == [("nik_claim.opened", claimant), ("nik_claim.opened", holder)]
    assert ("nik_claim.viewed", claimant) in actions and ("nik_claim.viewed", holder) in actions
    assert ("document.read", claimant) in actions
    assert actions[-2:] == [("nik_claim.decided", claimant), ("nik_claim.decided", holder)]
    # The old holder cannot take the NIK back by re-entering it.
    r = await client.put("/v1/profiles/me/identity", json=CLAIM, headers=h_headers)
    assert r.status_code == 409 and r.json()["code"] == "nik_already_registered"


async def test_claim_decided_for_the_holder(client, app, applicant, issuer):
    _holder, h_headers, _claimant, c_headers = await held_nik(client, applicant)
    claim = await file_claim(client, c_headers)
    ops = issuer.headers(uuid.uuid4(), ["ops"])
    r = await client.post(
        f"/v1/nik-claims/{claim['id']}/decision", json={"outcome": "holder", "note": "Swafoto tidak cocok"}, headers=ops
    )
    assert r.status_code == 200 and r.json()["status"] == "holder"
    assert (await client.get("/v1/profiles/me/status", headers=h_headers)).json()["steps"][0]["done"] is True
    assert (await client.get("/v1/profiles/me/status", headers=c_headers)).json()["steps"][0]["done"] is False
    assert await outbox_events(app, "profile.identity_revoked") == []
    notices = await outbox_events(app, "notification.requested")
    outcomes = {n["data"]["params"].get("role"): n["data"]["params"].get("outcome") for n in notices}
    assert outcomes == {None: None, "claimant": "rejected", "holder": "kept"}


async def test_unknown_claim(client, issuer):
    ops = issuer.headers(uuid.uuid4(), ["ops"])
    r = await client.get(f"/v1/nik-claims/{uuid.uuid4()}", headers=ops)
    assert r.status_code == 404 and r.json()["code"] == "claim_not_found"
