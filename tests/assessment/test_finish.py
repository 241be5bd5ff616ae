"""Finishing: submit, the deadline sweeper, exactly once under races, and the events it writes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import time_machine

from services.assessment import repository
from services.assessment.main import create_app
from services.assessment.service import finish
from services.assessment.sweeper import sweep
from shared.db import utcnow
from shared.testing.plugin import eventually, running_app
from tests.assessment.conftest import (
    KEY,
    SECRET_KEYS,
    V1_PATH,
    applicant,
    assessment_settings,
    keys_in,
    ops,
    outbox,
    ready_applicant,
    start,
)


async def answer_first_numerical_correctly(client, issuer, account_id, view):
    code = view["sections"][1]["items"][0]["code"]
    r = await client.put(
        "/v1/tests/me/session/answers",
        json={"answers": [{"item": code, "answer": KEY[code]}]},
        headers=applicant(issuer, account_id),
    )
    assert r.status_code == 200, r.text


async def test_submit_finishes_once_and_announces_it(app, client, issuer, bank):
    account_id = await ready_applicant(app, name="Budi Santoso", locale="en")
    view = await start(client, issuer, account_id)
    await answer_first_numerical_correctly(client, issuer, account_id, view)
    r = await client.post("/v1/tests/me/session/submit", headers=applicant(issuer, account_id))
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "finished" and done["finished_at"]
    assert not SECRET_KEYS & set(keys_in(done))
    # A repeated submit (a retry after a lost response) reports the same result and announces nothing new.
    again = await client.post("/v1/tests/me/session/submit", headers=applicant(issuer, account_id))
    assert again.status_code == 200 and again.json() == done
    mine = (await client.get("/v1/tests/me", headers=applicant(issuer, account_id))).json()
    assert mine == done

    (completed,) = await outbox(app, "assessment.completed")
    assert completed["subject"] == str(account_id)
    assert completed["source"] == "prakerja/assessment"
    assert completed["dataschema"] == "urn:prakerja:event:assessment.completed:v1"
    data = completed["data"]
    assert data["account_id"] == str(account_id)
    assert data["bank_version"] == "2026.1"
    assert set(data["scores"]) == {"motivation", "numerical", "verbal", "logical"}
    assert data["scores"]["numerical"] == round(100 / 6, 2)
    assert data["scores"]["motivation"] == 0.0
    assert data["total"] == round((100 / 6) / 4, 2)
    assert data["finished_at"].replace("Z", "+00:00")[:19] == done["finished_at"].replace("Z", "+00:00")[:19]

    (notice,) = await outbox(app, "notification.requested")
    assert notice["data"]["template"] == "assessment_completed"
    assert notice["data"]["channels"] == ["inbox", "email"]
    assert notice["data"]["locale"] == "en"
    assert notice["data"]["params"] == {"full_name": "Budi Santoso"}
    assert "email" not in notice["data"] or notice["data"]["email"] is None


async def test_sweeper_finishes_late_sessions_with_the_saved_answers(app, client, issuer, bank, settings):
    late = await ready_applicant(app)
    view = await start(client, issuer, late)
    await answer_first_numerical_correctly(client, issuer, late, view)
    ctx = app.state.assessment
    assert await sweep(ctx) == 0, "nothing is due before the deadline"

    with time_machine.travel(utcnow() + timedelta(minutes=10)):
        on_time = await ready_applicant(app)
        await start(client, issuer, on_time)
    with time_machine.travel(utcnow() + timedelta(seconds=settings.test_duration_s + settings.answer_grace_s + 1)):
        assert await sweep(ctx) == 1
        assert await sweep(ctx) == 0
        status = (await client.get("/v1/tests/me", headers=applicant(issuer, late))).json()
        assert status["status"] == "finished"
        assert (await client.get("/v1/tests/me", headers=applicant(issuer, on_time))).json()["status"] == "in_progress"
        r = await client.put(
            "/v1/tests/me/session/answers",
            json={"answers": [{"item": view["sections"][1]["items"][1]["code"], "answer": "A"}]},
            headers=applicant(issuer, late),
        )
        assert r.status_code == 409
        assert r.json()["code"] == "deadline_passed"
        result = (await client.get(f"/v1/tests/{late}", headers=ops(issuer))).json()
    assert result["finish_reason"] == "deadline"
    assert {s["section"]: s["answered"] for s in result["sections"]} == {
        "motivation": 0,
        "numerical": 1,
        "verbal": 0,
        "logical": 0,
    }
    assert [e["data"]["account_id"] for e in await outbox(app, "assessment.completed")] == [str(late)]


async def test_submit_after_the_deadline_scores_what_was_saved(app, client, issuer, bank, settings):
    account_id = await ready_applicant(app)
    await start(client, issuer, account_id)
    with time_machine.travel(utcnow() + timedelta(seconds=settings.test_duration_s + settings.answer_grace_s + 1)):
        r = await client.post("/v1/tests/me/session/submit", headers=applicant(issuer, account_id))
        assert r.status_code == 200 and r.json()["status"] == "finished"
    result = (await client.get(f"/v1/tests/{account_id}", headers=ops(issuer))).json()
    assert result["finish_reason"] == "deadline" and result["total"] == 0.0


async def test_concurrent_submit_and_sweeper_finish_exactly_once(app, client, issuer, bank, settings):
    accounts = [await ready_applicant(app) for _ in range(3)]
    for account_id in accounts:
        await start(client, issuer, account_id)
    with time_machine.travel(utcnow() + timedelta(seconds=settings.test_duration_s + settings.answer_grace_s + 1)):
        results = await asyncio.gather(
            *(client.post("/v1/tests/me/session/submit", headers=applicant(issuer, a)) for a in accounts),
            sweep(app.state.assessment),
            sweep(app.state.assessment),
        )
    assert all(r.status_code == 200 and r.json()["status"] == "finished" for r in results[:3])
    assert sum(results[3:]) <= 3
    events = await outbox(app, "assessment.completed")
    assert sorted(e["data"]["account_id"] for e in events) == sorted(str(a) for a in accounts)
    assert len(await outbox(app, "notification.requested")) == 3


async def test_only_the_first_of_two_racing_finishers_wins(app, client, issuer, bank):
    """Two transactions try to finish the same session: the second waits for the first, then changes nothing."""
    account_id = await ready_applicant(app)
    view = await start(client, issuer, account_id)
    attempt_id = uuid.UUID(view["id"])
    ctx = app.state.assessment
    async with ctx.db.sessionmaker() as first:
        await first.begin()
        assert await finish(ctx, first, attempt_id, "submitted", utcnow())

        async def second() -> bool:
            async with ctx.db.sessionmaker() as session, session.begin():
                return await finish(ctx, session, attempt_id, "deadline", utcnow())

        racing = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not racing.done(), "the second finisher must wait for the first transaction"
        await first.commit()
    assert await racing is False
    assert len(await outbox(app, "assessment.completed")) == 1
    async with ctx.db.sessionmaker() as session:
        attempt = await repository.attempt_of(session, account_id)
        assert attempt is not None and attempt.finish_reason == "submitted"


async def test_the_app_sweeps_in_the_background(assessment_url, issuer):
    from services.assessment import banks

    app = create_app(assessment_settings(assessment_url, run_sweeper=True, sweep_interval_s=0.05))
    issuer.install(app)
    async with running_app(app) as client:
        await banks.load_file(app.state.db, V1_PATH)
        account_id = await ready_applicant(app)
        await start(client, issuer, account_id)
        with time_machine.travel(utcnow() + timedelta(minutes=16), tick=True):

            async def finished() -> bool:
                r = await client.get("/v1/tests/me", headers=applicant(issuer, account_id))
                return r.json()["status"] == "finished"

            await eventually(finished, timeout=10)
    assert len(await outbox(app, "assessment.completed")) == 1


async def test_sweep_command(app, client, issuer, bank, settings, monkeypatch):
    from services.assessment import __main__ as cli
    from services.assessment.config import get_settings

    account_id = await ready_applicant(app)
    await start(client, issuer, account_id)
    monkeypatch.setenv("ASSESSMENT_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        with time_machine.travel(utcnow() + timedelta(minutes=16)):
            assert await asyncio.to_thread(cli.main, ["sweep"]) == 0
    finally:
        get_settings.cache_clear()
    assert (await client.get("/v1/tests/me", headers=applicant(issuer, account_id))).json()["status"] == "finished"


async def test_ops_result_of_an_account_without_a_test(client, issuer):
    account_id = uuid.uuid4()
    r = await client.get(f"/v1/tests/{account_id}", headers=ops(issuer))
    assert r.status_code == 200
    assert r.json()["status"] == "not_started" and r.json()["sections"] == []
