"""Ops reads: a profile and its verification attempts, each audit-logged with who, when and why."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.profile.models import AuditEntry
from tests.profile.conftest import BUDI, verify_identity


async def test_ops_reads_a_profile_with_a_reason(client, app, applicant, issuer):
    account_id, headers = await applicant()
    await client.put(
        "/v1/profiles/me/identity", json={"nik": "3276011705910000", "birth_date": BUDI["birth_date"]}, headers=headers
    )
    await verify_identity(client, headers, BUDI)
    ops_id = uuid.uuid4()
    ops = issuer.headers(ops_id, ["ops"])
    r = await client.get(f"/v1/profiles/{account_id}", headers=ops)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.reason"
    r = await client.get(f"/v1/profiles/{account_id}", params={"reason": "pengaduan tiket 42"}, headers=ops)
    assert r.status_code == 200
    assert r.json()["identity"]["nik_masked"] == "3276********0001" and BUDI["nik"] not in r.text
    r = await client.get(
        f"/v1/profiles/{account_id}/verification-attempts", params={"reason": "pengaduan tiket 42"}, headers=ops
    )
    assert [(a["purpose"], a["outcome"], a["registry"]) for a in r.json()["items"]] == [
        ("identity", "verified", "embedded"),
        ("identity", "nik_serial_zero", "embedded"),
    ]
    async with app.state.db.sessionmaker() as session:
        entries = list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
    assert [(e.actor, e.actor_roles, e.action, e.subject_account_id, e.reason) for e in entries] == [
        (str(ops_id), "ops", "profile.read", account_id, "pengaduan tiket 42"),
        (str(ops_id), "ops", "profile.attempts_read", account_id, "pengaduan tiket 42"),
    ]
    assert all(e.at for e in entries)


async def test_unknown_profile(client, issuer):
    ops = issuer.headers(uuid.uuid4(), ["ops"])
    r = await client.get(f"/v1/profiles/{uuid.uuid4()}", params={"reason": "cek data"}, headers=ops)
    assert r.status_code == 404 and r.json()["code"] == "profile_not_found"
