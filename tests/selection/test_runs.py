"""Deciding: a resumable background run, its events exactly once, its verifiable record; the dry run; four
eyes on the announcement and the notifications it requests."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from services.selection import reference, repository, runs
from services.selection import repository_runs as runs_repo
from services.selection.lottery import lottery_number
from services.selection.models import (
    Application,
    Batch,
    Decision,
    Recipient,
    SelectionRun,
    decisions_partition,
    messaging,
)
from services.selection.policy import age_band, age_on
from shared.events.envelope import CloudEvent, parse_data
from shared.events.notification import NotificationRequested
from shared.events.selection import ApplicationDecided
from tests.selection.conftest import announce, close_and_decide, dashboard, enrol, join, open_batch, outbox, person


async def populated(client, ops, app, issuer, *, size: int = 12, quota: int = 5, **batch_args) -> dict:
    batch = await open_batch(client, ops, quota=quota, **batch_args)
    for i in range(size):
        p = await enrol(app, person(test_total=30.0 if i % 4 == 0 else 80.0))
        assert (await join(client, issuer, batch["id"], p)).status_code == 201
    return batch


async def counts(app, batch_id: str) -> tuple[int, int, int]:
    bid = uuid.UUID(batch_id)
    async with app.state.db.sessionmaker() as session:
        decided = (
            await session.execute(select(func.count()).select_from(Decision).where(Decision.batch_id == bid))
        ).scalar_one()
        recipients = (
            await session.execute(select(func.count()).select_from(Recipient).where(Recipient.batch_id == bid))
        ).scalar_one()
    events = await outbox(app, "application.decided")
    return int(decided), int(recipients), len(events)


async def test_decide_runs_in_the_background_and_records_what_it_did(client, ops, app, issuer):
    batch = await populated(client, ops, app, issuer)
    r = await client.post(f"/v1/batches/{batch['id']}/decide", headers=ops)
    assert r.status_code == 409 and r.json()["code"] == "batch_state"  # still open
    run = await close_and_decide(app, client, ops, batch["id"])
    assert run["counts"]["applications"] == 12 and run["counts"]["selected"] == 5
    assert run["counts"]["eligible"] == 9 and run["counts"]["reasons"] == {"quota_full": 4, "test_below_pass_mark": 3}
    assert hashlib.sha256(run["seed"].encode()).hexdigest() == run["seed_hash"]
    assert (await client.get(f"/v1/batches/{batch['id']}")).json()["state"] == "decided"

    # Anyone can recompute the order from the seed: tier (all laid off here), then the lottery number (the first
    # 64 bits of SHA-256(seed || account)), then the account id.
    async with app.state.db.sessionmaker() as session:
        rows = (
            (await session.execute(select(Decision).where(Decision.batch_id == uuid.UUID(batch["id"])))).scalars().all()
        )
        candidates, prior_niks, prior_kk = await reference.load(session, uuid.UUID(batch["id"]))
        stored_run = await repository.run_of(session, uuid.UUID(batch["id"]))
    eligible = sorted(
        (d for d in rows if d.rank is not None),
        key=lambda d: (lottery_number(run["seed"], d.account_id), str(d.account_id)),
    )
    assert [d.selected for d in eligible] == [True] * 5 + [False] * 4
    outcomes = reference.decide(candidates, runs.inputs_of(stored_run), prior_niks, prior_kk)
    assert reference.result_hash(outcomes) == run["result_hash"]

    if app.state.db.dialect == "postgresql":  # the batch's decisions are a partition of their own, with its key
        async with app.state.db.sessionmaker() as session:
            attached = await session.execute(
                text(
                    "SELECT count(*) FROM pg_inherits h JOIN pg_index i ON i.indrelid = h.inhrelid AND i.indisprimary "
                    "WHERE h.inhparent = 'decisions'::regclass AND h.inhrelid = to_regclass(:name)"
                ),
                {"name": decisions_partition(batch["id"])},
            )
            assert attached.scalar() == 1

    r = await client.post(f"/v1/batches/{batch['id']}/decide", headers=ops)
    assert r.status_code == 409 and r.json()["code"] == "decide_exists"
    [decided] = await outbox(app, "batch.decided")
    assert decided["data"]["result_hash"] == run["result_hash"] and decided["data"]["selected"] == 5


async def test_each_application_gets_one_event_that_parses(client, ops, app, issuer):
    batch = await populated(client, ops, app, issuer, size=6, quota=2)
    await close_and_decide(app, client, ops, batch["id"])
    events = await outbox(app, "application.decided")
    assert len(events) == 6 and len({e["id"] for e in events}) == 6
    for raw in events:
        raw.pop("_key")
        payload = parse_data(CloudEvent.model_validate(raw))
        assert isinstance(payload, ApplicationDecided)
        assert raw["subject"] == str(payload.account_id) and raw["id"] == str(payload.application_id)
        assert payload.batch_number == 1
        if payload.selected:
            assert payload.reason_codes == [] and payload.card is not None
            assert payload.card.training_balance == 3_500_000 and payload.card.incentive_months == 4
        else:
            assert payload.reason_codes in (["quota_full"], ["test_below_pass_mark"]) and payload.card is None
    assert sum(e["data"]["selected"] for e in events) == 2


async def test_a_run_that_dies_midway_resumes_without_doubles(client, ops, app, issuer, monkeypatch):
    batch = await populated(client, ops, app, issuer, size=10, quota=4)
    await client.post(f"/v1/batches/{batch['id']}/close", headers=ops)
    ctx = app.state.selection
    async with ctx.db.sessionmaker() as session, session.begin():
        row = await repository.batch(session, uuid.UUID(batch["id"]))
        run, created = await runs.start_decide(ctx, session, row, uuid.uuid4())
    assert created
    assert await runs.step(ctx, run.id) == "decisions_written"
    assert await counts(app, batch["id"]) == (10, 4, 0)

    async def broken(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(runs_repo, "write_decided_events", broken)
    with pytest.raises(ConnectionError):
        await runs.resume(ctx, run.id)
    public = (await client.get(f"/v1/batches/{batch['id']}/selection-run")).json()
    assert public["state"] == "decisions_written" and public["last_error"] == "ConnectionError"
    monkeypatch.undo()

    # The first step cannot write twice: its decisions are keyed by application (and on PostgreSQL the
    # batch's partition exists already).
    with pytest.raises(DBAPIError):
        async with ctx.db.sessionmaker() as session, session.begin():
            await runs_repo.write_decisions(session, runs.inputs_of(run))

    # The restarted app resumes it; calling decide again would too.
    await ctx.runner.resume_unfinished()
    await ctx.runner.wait(run.id)
    public = (await client.get(f"/v1/batches/{batch['id']}/selection-run")).json()
    assert public["state"] == "finished" and public["last_error"] is None
    assert await counts(app, batch["id"]) == (10, 4, 10)
    async with ctx.db.sessionmaker() as session, session.begin():
        written = await runs_repo.write_decided_events(
            session, run.batch_id, 1, "{}", run.decided_at, "x", digits=runs_repo.chunk_digits(10)
        )
        assert written == 0


async def test_same_seed_same_result_other_seed_other_result(client, ops, app, issuer):
    batch = await populated(client, ops, app, issuer, size=30, quota=8)
    first = await close_and_decide(app, client, ops, batch["id"])
    bid = uuid.UUID(batch["id"])

    async def rerun(seed: str | None) -> str:
        ctx = app.state.selection
        async with ctx.db.sessionmaker() as session, session.begin():
            for model in (Decision, Recipient, SelectionRun):
                await session.execute(delete(model).where(model.batch_id == bid))
            if ctx.db.dialect == "postgresql":  # the batch's partition goes too, as if never decided
                await session.execute(text(f"DROP TABLE {decisions_partition(bid)}"))
            await session.execute(delete(messaging.outbox))
            values = {"state": "closed"} | ({"seed": seed} if seed else {})
            await session.execute(update(Batch).where(Batch.id == bid).values(**values))
            if seed:  # as if everyone had joined a batch drawn with this seed
                joined = (await session.execute(select(Application).where(Application.batch_id == bid))).scalars()
                for application in joined:
                    application.lottery = lottery_number(seed, application.account_id)
            row = await repository.batch(session, bid)
            run, _ = await runs.start_decide(ctx, session, row, uuid.uuid4())
        await runs.resume(ctx, run.id)
        return (await client.get(f"/v1/batches/{batch['id']}/selection-run")).json()["result_hash"]

    assert await rerun(None) == first["result_hash"]
    assert await rerun("00" * 32) != first["result_hash"]


async def test_simulation_shows_what_deciding_would_do(client, ops, app, issuer):
    batch = await populated(client, ops, app, issuer, size=12, quota=5)
    r = await client.post(f"/v1/batches/{batch['id']}/simulation", headers=ops)
    assert r.status_code == 200, r.text
    sim = r.json()
    assert (sim["applications"], sim["eligible"], sim["selected"]) == (12, 9, 5)
    assert sim["reasons"] == {"quota_full": 4, "test_below_pass_mark": 3}
    assert sim["cutoff"] == {"tier": 1, "selected_in_tier": 5, "eligible_in_tier": 9}
    assert sim["by_province"]["32"]["selection_rate"] == round(5 / 9, 4)
    assert sim["by_sex"]["L"]["selected_share"] == 1.0
    band = age_band(age_on(date(1991, 5, 17), datetime.now(ZoneInfo("Asia/Jakarta")).date()))
    assert sim["by_age_band"] == {
        band: {
            "applications": 12,
            "eligible": 9,
            "selected": 5,
            "selection_rate": round(5 / 9, 4),
            "selected_share": 1.0,
        }
    }
    what_if = (
        await client.post(
            f"/v1/batches/{batch['id']}/simulation", json={"quota": 100, "rules": {"pass_mark": 20}}, headers=ops
        )
    ).json()
    assert (what_if["eligible"], what_if["selected"]) == (12, 12)
    r = await client.post(f"/v1/batches/{batch['id']}/simulation", json={"rules": {"min_age": 90}}, headers=ops)
    assert r.status_code == 422
    r = await client.post(f"/v1/batches/{batch['id']}/simulation", json={"rules": {"max_age": 16}}, headers=ops)
    assert r.status_code == 422
    assert await counts(app, batch["id"]) == (0, 0, 0)  # a dry run writes nothing

    run = await close_and_decide(app, client, ops, batch["id"])
    assert run["counts"]["selected"] == sim["selected"] and run["counts"]["reasons"] == sim["reasons"]


async def test_announcing_needs_a_second_ops_user(client, ops, ops2, app, issuer):
    batch = await populated(client, ops, app, issuer, size=4, quota=2)
    r = await client.post(f"/v1/batches/{batch['id']}/announcement-approvals", headers=ops2)
    assert r.status_code == 409 and r.json()["code"] == "batch_state"
    await close_and_decide(app, client, ops, batch["id"])
    r = await client.post(f"/v1/batches/{batch['id']}/announce", headers=ops)
    assert r.status_code == 409 and r.json()["code"] == "approval_required"
    r = await client.post(f"/v1/batches/{batch['id']}/announcement-approvals", headers=ops)
    assert r.status_code == 409 and r.json()["code"] == "approver_is_decider"
    assert await outbox(app, "notification.requested") == []
    await announce(client, ops2, batch["id"])
    r = await client.post(f"/v1/batches/{batch['id']}/announce", headers=ops2)
    assert r.status_code == 409

    history = (await client.get(f"/v1/batches/{batch['id']}/history", headers=ops)).json()
    assert [e["action"] for e in history][-3:] == ["decided", "announcement_approved", "announced"]
    [announced] = await outbox(app, "batch.announced")
    assert (announced["data"]["selected"], announced["data"]["not_selected"]) == (2, 2)


async def test_announcement_requests_the_messages(client, ops, ops2, app, issuer):
    batch = await populated(client, ops, app, issuer, size=4, quota=1)
    await close_and_decide(app, client, ops, batch["id"])
    await announce(client, ops2, batch["id"])
    requests = await outbox(app, "notification.requested")
    assert len(requests) == 4 and len({r["id"] for r in requests}) == 4
    parsed = []
    for raw in requests:
        raw.pop("_key")
        payload = parse_data(CloudEvent.model_validate(raw))
        assert isinstance(payload, NotificationRequested)
        assert payload.email is None and payload.phone is None  # notification knows the contacts
        parsed.append(payload)
    passed = [p for p in parsed if p.template == "selection_passed"]
    assert len(passed) == 1 and passed[0].channels == ["sms", "inbox", "email"]
    assert passed[0].params == {
        "batch_number": 1,
        "training_balance": 3_500_000,
        "incentive_amount": 600_000,
        "incentive_months": 4,
        "survey_incentive_amount": 50_000,
        "survey_incentive_count": 3,
        "incentive_total": 2_400_000,
    }
    not_passed = [p for p in parsed if p.template == "selection_not_passed"]
    assert {tuple(p.channels) for p in not_passed} == {("inbox", "email")}
    low = next(p for p in not_passed if p.params["reason_codes"] == ["test_below_pass_mark"])
    assert low.params["reasons"] == [
        {
            "code": "test_below_pass_mark",
            "id": "Nilai tes motivasi dan kemampuan dasar Anda di bawah nilai minimal gelombang ini.",
            "en": "Your motivation and basic ability test score is below this batch's pass mark.",
        }
    ]
    assert low.params["batch_number"] == 1
    board = await dashboard(client, issuer, person())  # someone who never joined sees an empty history
    assert board["applications"] == [] and board["open_batch"] is None


async def test_the_run_is_public_but_deciding_is_for_ops(client, ops, app, issuer):
    batch = await populated(client, ops, app, issuer, size=2, quota=1)
    r = await client.get(f"/v1/batches/{batch['id']}/selection-run")
    assert r.status_code == 404 and r.json()["code"] == "selection_run_not_found"
    r = await client.post(f"/v1/batches/{batch['id']}/decide", headers=issuer.headers(uuid.uuid4()))
    assert r.status_code == 403
    r = await client.post(f"/v1/batches/{batch['id']}/decide")
    assert r.status_code == 401


async def test_no_one_selected_hashes_to_sha256_of_nothing(app):
    async with app.state.db.sessionmaker() as session:
        assert await runs_repo.result_hash(session, uuid.uuid4()) == hashlib.sha256(b"").hexdigest()


async def test_verify_run_recomputes_the_batch_and_notices_tampering(client, ops, app, issuer, settings, monkeypatch):
    from services.selection import __main__ as cli

    batch = await populated(client, ops, app, issuer, size=8, quota=3)
    await close_and_decide(app, client, ops, batch["id"])
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert await cli.verify_run(1) == 0
    async with app.state.db.sessionmaker() as session, session.begin():
        loser = (
            (
                await session.execute(
                    select(Decision).where(Decision.batch_id == uuid.UUID(batch["id"]), Decision.selected.is_(False))
                )
            )
            .scalars()
            .first()
        )
        loser.selected, loser.reasons = True, ""
    assert await cli.verify_run(1) == 1
    assert await cli.verify_run(99) == 2


async def test_work_side_by_side_stops_the_rest_when_one_part_fails():
    stopped: list[str] = []

    async def slow() -> str:
        try:
            await asyncio.sleep(30)
            return "done"
        finally:
            stopped.append("slow")

    async def broken() -> str:
        await asyncio.sleep(0)
        raise ConnectionError("database went away")

    async def quick(value: int) -> int:
        return value

    assert await runs._side_by_side(quick(1), quick(2)) == [1, 2]
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(runs._side_by_side(slow(), broken()), 5)
    assert stopped == ["slow"]  # cancelled, not left running behind the failed step
