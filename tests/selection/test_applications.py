"""Joining a batch and the dashboard: prerequisites, idempotency, one batch at a time, results and reasons."""

from __future__ import annotations

import uuid

from tests.selection.conftest import (
    announce,
    close_and_decide,
    dashboard,
    enrol,
    join,
    open_batch,
    person,
    revoke,
)


async def test_joining_needs_a_completed_profile_and_test(client, ops, app, issuer):
    batch = await open_batch(client, ops)
    stranger = person()
    r = await join(client, issuer, batch["id"], stranger)
    assert r.status_code == 409 and r.json()["code"] == "profile_incomplete"
    assert "Lengkapi profil" in r.json()["detail"]

    no_test = await enrol(app, person(test_total=None))
    r = await join(client, issuer, batch["id"], no_test, **{"Accept-Language": "en"})
    assert r.status_code == 409 and r.json()["code"] == "test_incomplete"
    assert r.json()["detail"].startswith("Finish the motivation")

    revoked = await enrol(app, person())
    await revoke(app, revoked)
    r = await join(client, issuer, batch["id"], revoked)
    assert r.status_code == 409 and r.json()["code"] == "profile_incomplete"

    r = await join(client, issuer, str(uuid.uuid4()), revoked)
    assert r.status_code == 404 and r.json()["code"] == "batch_not_found"
    r = await client.post(f"/v1/batches/{batch['id']}/applications", headers=ops)
    assert r.status_code == 403


async def test_joining_twice_returns_the_same_application(client, ops, app, issuer):
    batch = await open_batch(client, ops)
    siti = await enrol(app, person())
    first = await join(client, issuer, batch["id"], siti)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "joined" and first.json()["batch_number"] == 1
    again = await join(client, issuer, batch["id"], siti)
    assert again.status_code == 200 and again.json() == first.json()
    board = await dashboard(client, issuer, siti)
    assert board["can_join"] is False and board["join_blocker"] is None
    assert [a["status"] for a in board["applications"]] == ["joined"]


async def test_events_in_any_order_and_redelivered_change_nothing(client, ops, app, issuer):
    from tests.selection.conftest import feed

    batch = await open_batch(client, ops)
    budi = person()
    assert await feed(app, budi.test_event(), budi.account_id)  # the test result may come first
    event = budi.profile_event()
    from shared.events.envelope import CloudEvent

    envelope = CloudEvent.wrap(event, source="prakerja/profile", subject=str(budi.account_id))
    assert await app.state.consumer.handle(envelope) is True
    assert await app.state.consumer.handle(envelope) is False  # the inbox knows it
    assert (await join(client, issuer, batch["id"], budi)).status_code == 201


async def test_a_closed_batch_cannot_be_joined(client, ops, app, issuer):
    batch = await open_batch(client, ops)
    await client.post(f"/v1/batches/{batch['id']}/close", headers=ops)
    siti = await enrol(app, person())
    r = await join(client, issuer, batch["id"], siti)
    assert r.status_code == 409 and r.json()["code"] == "batch_not_open"
    board = await dashboard(client, issuer, siti)
    assert board["open_batch"] is None and board["can_join"] is False


async def test_not_selected_joins_the_next_batch_with_one_call(client, ops, ops2, app, issuer):
    first = await open_batch(client, ops, 1, quota=1)
    winner_or_loser = [await enrol(app, person()) for _ in range(2)]
    civil_servant_age = await enrol(app, person(test_total=10.0))
    for p in [*winner_or_loser, civil_servant_age]:
        assert (await join(client, issuer, first["id"], p)).status_code == 201

    second = await open_batch(client, ops, 2)
    r = await join(client, issuer, second["id"], civil_servant_age)
    assert r.status_code == 409 and r.json()["code"] == "application_pending"
    assert "Gelombang 1" in r.json()["detail"]
    board = await dashboard(client, issuer, civil_servant_age)
    assert board["open_batch"]["number"] == 2 and board["can_join"] is False
    assert board["join_blocker"]["code"] == "application_pending"
    assert board["applications"][0]["status"] == "joined"

    run = await close_and_decide(app, client, ops, first["id"])
    assert run["counts"]["selected"] == 1
    board = await dashboard(client, issuer, civil_servant_age)
    assert board["applications"][0]["status"] == "awaiting_announcement"
    assert board["applications"][0]["result"] is None  # nothing shows before the announcement
    await announce(client, ops2, first["id"])

    board = await dashboard(client, issuer, civil_servant_age)
    [application] = board["applications"]
    assert application["status"] == "not_selected" and application["status_label"] == "Tidak Lolos"
    assert application["result"]["reasons"] == [
        {
            "code": "test_below_pass_mark",
            "message": "Nilai tes motivasi dan kemampuan dasar Anda di bawah nilai minimal gelombang ini.",
        }
    ]
    english = await dashboard(client, issuer, civil_servant_age, **{"Accept-Language": "en"})
    assert english["applications"][0]["status_label"] == "Not selected"
    assert english["applications"][0]["result"]["reasons"][0]["message"].startswith("Your motivation")
    assert board["can_join"] is True

    r = await join(client, issuer, second["id"], civil_servant_age)  # one call, nothing entered again
    assert r.status_code == 201 and r.json()["batch_number"] == 2

    boards = [await dashboard(client, issuer, p) for p in winner_or_loser]
    results = sorted(b["applications"][0]["status"] for b in boards)
    assert results == ["not_selected", "selected"]
    selected = next(b for b in boards if b["applications"][0]["status"] == "selected")
    loser = next(p for p, b in zip(winner_or_loser, boards, strict=True) if b is not selected)
    assert selected["applications"][0]["status_label"] == "Lolos"
    assert selected["applications"][0]["result"]["card"]["training_balance"] == 3_500_000
    assert selected["can_join"] is False and selected["join_blocker"]["code"] == "already_recipient"
    winner = next(p for p, b in zip(winner_or_loser, boards, strict=True) if b is selected)
    r = await join(client, issuer, second["id"], winner)
    assert r.status_code == 409 and r.json()["code"] == "already_recipient"
    loser_board = await dashboard(client, issuer, loser)
    assert loser_board["applications"][0]["result"]["reasons"][0]["code"] == "quota_full"
    assert (await join(client, issuer, second["id"], loser)).status_code == 201
