"""Batches: creation by ops, the public list, commit-reveal of the seed, moves by time and by ops, audit."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from services.selection.service import advance_by_time
from tests.selection.conftest import OPS, batch_body, open_batch, outbox


async def test_ops_create_a_batch_and_everyone_sees_it(client, ops, issuer):
    body = batch_body(
        14,
        quota=600_000,
        opens_at="2030-03-11T12:00:00+07:00",
        closes_at="2030-03-14T12:00:00+07:00",
        announce_at="2030-03-18T12:00:00+07:00",
    )
    r = await client.post("/v1/batches", json=body, headers=ops)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["state"] == "scheduled"
    assert created["opens_at"].startswith("2030-03-11T05:00:00")  # stored and sent in UTC
    assert created["opens_at_wib"] == "2030-03-11T12:00:00+07:00"
    assert created["card"] == {
        "training_balance": 3_500_000,
        "incentive_amount": 600_000,
        "incentive_months": 4,
        "survey_incentive_amount": 50_000,
        "survey_incentive_count": 3,
    }
    assert created["rules"] == {"min_age": 18, "max_age": 64, "max_per_kk": 2, "pass_mark": 50.0}
    assert created["seed"] is None and len(created["seed_hash"]) == 64

    r = await client.get("/v1/batches")  # no sign-in
    assert r.status_code == 200
    assert r.json()["open_batch"] is None
    assert [b["number"] for b in r.json()["items"]] == [14]

    r = await client.post("/v1/batches", json=body, headers=ops)
    assert r.status_code == 409 and r.json()["code"] == "batch_number_taken"
    r = await client.post("/v1/batches", json=batch_body(15), headers=issuer.headers(uuid.uuid4()))
    assert r.status_code == 403


async def test_batch_input_is_checked(client, ops):
    naive = batch_body(1, opens_at="2030-03-11T12:00:00")
    r = await client.post("/v1/batches", json=naive, headers=ops)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.opens_at"
    backwards = batch_body(1, closes_at="2020-01-01T00:00:00+00:00")
    r = await client.post("/v1/batches", json=backwards, headers=ops)
    assert r.status_code == 422
    r = await client.post("/v1/batches", json=batch_body(1, rules={"min_age": 70}), headers=ops)
    assert r.status_code == 422
    past = batch_body(1, opens_at="2020-01-01T00:00:00+00:00", closes_at="2020-01-02T00:00:00+00:00")
    r = await client.post("/v1/batches", json=past, headers=ops)
    assert r.status_code == 422 and r.json()["code"] == "closes_in_past"
    r = await client.post("/v1/batches", json=batch_body(1, policy_version="1999.9"), headers=ops)
    assert r.status_code == 422 and r.json()["code"] == "unknown_policy"
    r = await client.post("/v1/batches", json=batch_body(1, card={"training_balance": -1}), headers=ops)
    assert r.status_code == 422


async def test_seed_is_committed_at_opening_and_revealed_at_closing(client, ops, app):
    batch = await open_batch(client, ops)
    assert batch["state"] == "open" and batch["seed"] is None
    listing = (await client.get("/v1/batches")).json()
    assert listing["open_batch"]["id"] == batch["id"]
    assert listing["open_batch"]["closes_at_wib"].endswith("+07:00")

    [opened] = await outbox(app, "batch.opened")
    assert opened["data"]["seed_hash"] == batch["seed_hash"] and "seed" not in opened["data"]
    assert opened["_key"] == batch["id"]

    r = await client.post(f"/v1/batches/{batch['id']}/close", headers=ops)
    assert r.status_code == 200
    seed = r.json()["seed"]
    assert hashlib.sha256(seed.encode()).hexdigest() == batch["seed_hash"]
    [closed] = await outbox(app, "batch.closed")
    assert closed["data"]["seed"] == seed and closed["data"]["applications"] == 0
    public = (await client.get(f"/v1/batches/{batch['id']}")).json()
    assert public["seed"] == seed and public["state"] == "closed"

    r = await client.post(f"/v1/batches/{batch['id']}/close", headers=ops)
    assert r.status_code == 409 and r.json()["code"] == "batch_state"


async def test_time_moves_batches_and_every_move_is_audited(client, ops, app):
    now = datetime.now(UTC)
    body = batch_body(
        3,
        opens_at=(now + timedelta(hours=1)).isoformat(),
        closes_at=(now + timedelta(hours=2)).isoformat(),
        announce_at=(now + timedelta(hours=3)).isoformat(),
    )
    batch = (await client.post("/v1/batches", json=body, headers=ops)).json()
    ctx = app.state.selection
    assert await advance_by_time(ctx, now) == 0
    assert await advance_by_time(ctx, now + timedelta(hours=1, seconds=1)) == 1
    assert (await client.get(f"/v1/batches/{batch['id']}")).json()["state"] == "open"
    assert await advance_by_time(ctx, now + timedelta(hours=2, seconds=1)) == 1
    assert (await client.get(f"/v1/batches/{batch['id']}")).json()["state"] == "closed"
    # Not decided, so not announced at the announcement time.
    assert await advance_by_time(ctx, now + timedelta(hours=4)) == 0

    r = await client.get(f"/v1/batches/{batch['id']}/history", headers=ops)
    moves = [(e["action"], e["actor"], e["from_state"], e["to_state"]) for e in r.json()]
    assert moves == [
        ("created", str(OPS), None, "scheduled"),
        ("opened", "scheduler", "scheduled", "open"),
        ("closed", "scheduler", "open", "closed"),
    ]
    assert [e["type"] for e in await outbox(app)] == ["batch.opened", "batch.closed"]
