"""Property tests on small random populations: the set-based SQL agrees with the plain-Python reference, the
quota is never exceeded, and no family card goes over its cap (on both backends)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.selection import reference, repository, runs, service
from services.selection.lottery import lottery_number
from services.selection.models import (
    Applicant,
    Application,
    Base,
    Decision,
    ExclusionHit,
    ExclusionList,
    Recipient,
)
from services.selection.policy import CURRENT_POLICY, Rules
from services.selection.reasons import CATEGORIES, split_codes
from shared.events.selection import CardAmounts
from shared.testing.plugin import empty_tables

STATUSES = ["laid_off", "furloughed", "not_working", "working", "self_employed"]


def mostly(usual: object, *rare: object) -> st.SearchStrategy[object]:
    """The usual value most of the time, so most applicants are eligible and the quota and KK caps bite."""
    return st.sampled_from([usual] * (10 * len(rare)) + list(rare))


applicant_strategy = st.fixed_dictionaries(
    {
        "age": mostly(30, 16, 18, 64, 65),
        "student": mostly(False, True),
        "kk": st.one_of(st.integers(0, 4), st.integers(5, 40), st.none()),
        "score": mostly(90.0, None, 20.0, 50.0),
        "province": st.sampled_from(["11", "32", "35", None]),
        "status": st.sampled_from(STATUSES),
        "listed": mostly(None, *sorted(CATEGORIES)[:4]),
        "revoked": mostly(False, True),
        "profile": mostly(True, False),
        "earlier": mostly(False, True),
    }
)

population_strategy = st.fixed_dictionaries(
    {
        "people": st.lists(applicant_strategy, min_size=2, max_size=24),
        "quota": st.integers(1, 6),
        "max_per_kk": st.integers(1, 3),
        "province_quotas": st.booleans(),
        "seed": st.binary(min_size=32, max_size=32).map(bytes.hex),
    }
)


async def load_population(app, population: dict) -> uuid.UUID:
    """Write a closed batch and its applicants straight into the tables (as the consumers would)."""
    ctx = app.state.selection
    today = date.today()
    async with ctx.db.sessionmaker() as session, session.begin():
        batch = await service.create_batch(
            ctx,
            session,
            actor=uuid.uuid4(),
            number=1,
            opens_at=datetime.now(UTC) - timedelta(days=2),
            closes_at=datetime.now(UTC) + timedelta(days=1),
            announce_at=datetime.now(UTC) + timedelta(days=2),
            quota=population["quota"],
            policy_version=CURRENT_POLICY,
            province_quotas=population["province_quotas"],
            rules=Rules(max_per_kk=population["max_per_kk"]),
            card=CardAmounts(
                training_balance=1,
                incentive_amount=1,
                incentive_months=1,
                survey_incentive_amount=1,
                survey_incentive_count=1,
            ),
        )
        batch.seed = population["seed"]
        batch.state, batch.closed_at = "closed", datetime.now(UTC)
        lists: dict[str, int] = {}
        earlier_batch = uuid.uuid4()
        for i, p in enumerate(population["people"]):
            account = uuid.UUID(int=i + 1)
            nik = i.to_bytes(32, "big")
            kk = None if p["kk"] is None else (1000 + p["kk"]).to_bytes(32, "big")
            if p["profile"] or p["score"] is not None:
                completed = datetime.now(UTC) - timedelta(hours=1)
                session.add(
                    Applicant(
                        account_id=account,
                        nik_hash=nik if p["profile"] else None,
                        kk_hash=kk if p["profile"] else None,
                        birth_date=today.replace(year=today.year - p["age"]) - timedelta(days=1)
                        if p["profile"]
                        else None,
                        sex="L",
                        province_code=p["province"],
                        employment_status=p["status"],
                        is_student=p["student"],
                        profile_completed_at=completed if p["profile"] else None,
                        identity_revoked_at=datetime.now(UTC) if p["revoked"] and p["profile"] else None,
                        test_total=p["score"],
                    )
                )
            session.add(
                Application(
                    id=uuid.UUID(int=10_000 + i),
                    batch_id=batch.id,
                    account_id=account,
                    lottery=lottery_number(population["seed"], account),
                )
            )
            if p["listed"]:
                if p["listed"] not in lists:
                    row = ExclusionList(
                        category=p["listed"],
                        source="test",
                        as_of=today,
                        mode="append",
                        status="active",
                        imported_by=uuid.uuid4(),
                    )
                    session.add(row)
                    await session.flush()
                    lists[p["listed"]] = row.id
                session.add(ExclusionHit(nik_hash=nik, list_id=lists[p["listed"]]))
            if p["earlier"] and kk is not None:
                # Someone of this family card was selected in an earlier batch.
                session.add(Recipient(batch_id=earlier_batch, account_id=uuid.uuid4(), nik_hash=None, kk_hash=kk))
    return batch.id


async def decide(app, batch_id: uuid.UUID) -> uuid.UUID:
    ctx = app.state.selection
    async with ctx.db.sessionmaker() as session, session.begin():
        batch = await repository.batch(session, batch_id)
        run, _ = await runs.start_decide(ctx, session, batch, uuid.uuid4())
    await runs.resume(ctx, run.id)
    return run.id


def _someone(province: str | None, kk: int | None, status: str = "laid_off") -> dict:
    return {
        "age": 30,
        "student": False,
        "kk": kk,
        "score": 90.0,
        "province": province,
        "status": status,
        "listed": None,
        "revoked": False,
        "profile": True,
        "earlier": False,
    }


SHORTFALL = {  # 7 eligible in 3 provinces (3/3/1) for 4 seats, two siblings over a cap of 1, tiers mixed
    "people": [
        _someone("11", 1),
        _someone("11", 1, "working"),
        _someone("11", 2),
        _someone("32", 3),
        _someone("32", 4, "not_working"),
        _someone("32", 5),
        _someone(None, 6),
        _someone("35", None),
    ],
    "quota": 4,
    "max_per_kk": 1,
    "province_quotas": True,
    "seed": "ab" * 32,
}


@example(population=SHORTFALL)
@example(population={**SHORTFALL, "province_quotas": False})
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(population=population_strategy)
async def test_sql_agrees_with_the_reference_and_respects_the_quota(app, selection_url, population):
    await empty_tables(selection_url, Base.metadata)
    batch_id = await load_population(app, population)
    await decide(app, batch_id)
    async with app.state.db.sessionmaker() as session:
        candidates, prior_niks, prior_kk = await reference.load(session, batch_id)
        run = await repository.run_of(session, batch_id)
        stored = {d.application_id: d for d in (await session.execute(select(Decision))).scalars()}
    assert run is not None and run.counts is not None
    expected = reference.decide(candidates, runs.inputs_of(run), prior_niks, prior_kk)
    assert {o.application_id: (o.selected, o.reasons, o.rank) for o in expected} == {
        d.application_id: (d.selected, tuple(split_codes(d.reasons)), d.rank) for d in stored.values()
    }
    assert reference.result_hash(expected) == run.result_hash

    for code in ("quota_full", "kk_quota_reached", "earlier_recipient", "profile_incomplete"):
        event(f"{code}: {any(code in d.reasons for d in stored.values())}")
    shortfall = population["province_quotas"] and run.counts["reasons"].get("quota_full", 0) > 0
    event(f"province quotas with a shortfall: {shortfall}")
    selected = [d for d in stored.values() if d.selected]
    contenders = [d for d in stored.values() if d.rank is not None]
    assert len(selected) <= population["quota"]
    assert len(selected) == min(population["quota"], len(contenders))  # never an empty seat while someone waits
    per_kk = Counter(d.kk_hash for d in selected)
    for kk, n in per_kk.items():
        assert kk is not None and n + prior_kk.get(kk, 0) <= population["max_per_kk"]
    assert run.counts["selected"] == len(selected) and run.counts["applications"] == len(population["people"])
