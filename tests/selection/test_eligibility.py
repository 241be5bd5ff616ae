"""Every eligibility rule, its reason code and the sentence the applicant reads."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.selection import repository
from services.selection.models import Decision
from services.selection.reasons import CATEGORIES, split_codes
from tests.selection.conftest import (
    announce,
    close_and_decide,
    dashboard,
    enrol,
    feed,
    join,
    open_batch,
    person,
    revoke,
)


def years_ago(years: int, days: int = 0) -> date:
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    born = (
        today.replace(year=today.year - years)
        if not (today.month == 2 and today.day == 29)
        else date(today.year - years, 2, 28)
    )
    return date.fromordinal(born.toordinal() + days)


async def decisions(app, batch_id: str) -> dict[uuid.UUID, Decision]:
    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(select(Decision).where(Decision.batch_id == uuid.UUID(batch_id)))
        return {d.account_id: d for d in rows.scalars()}


async def upload(client, ops, category: str, niks: list[str]) -> None:
    r = await client.post(
        "/v1/exclusion-lists",
        params={"category": category, "source": "Kementerian", "as_of": "2026-01-31"},
        content="\n".join(niks).encode(),
        headers={**ops, "Content-Type": "text/csv"},
    )
    assert r.status_code == 201, r.text


async def test_every_rule_gives_its_reason(client, ops, ops2, app, issuer):
    batch = await open_batch(client, ops, quota=1000)
    people = {
        "eligible": person(),
        "just_18": person(birth_date=years_ago(18)),
        "still_64": person(birth_date=years_ago(65, days=1)),
        "17": person(birth_date=years_ago(18, days=1)),
        "65": person(birth_date=years_ago(65)),
        "student": person(is_student=True),
        "student_list": person(),
        "earlier_list": person(),
        "no_kk": person(kk=None),
        "below_mark": person(test_total=49.9),
        "at_mark": person(test_total=50.0),
        "revoked": person(),
        "many": person(birth_date=years_ago(17), is_student=True, test_total=10.0),
    }
    listed = {category: person() for category in CATEGORIES if category not in ("student", "earlier_recipient")}
    everyone = {**people, **{f"list:{c}": p for c, p in listed.items()}}
    for p in everyone.values():
        await enrol(app, p)
        assert (await join(client, issuer, batch["id"], p)).status_code == 201
    for category, p in listed.items():
        await upload(client, ops, category, [p.nik])
    await upload(client, ops, "student", [people["student_list"].nik])
    await upload(client, ops, "earlier_recipient", [people["earlier_list"].nik, people["many"].nik])
    await revoke(app, people["revoked"])
    # Applications of people the projection knows nothing (or only half) about.
    unknown, untested = uuid.uuid4(), person(test_total=None)
    await enrol(app, untested)
    async with app.state.db.sessionmaker() as session, session.begin():
        row = await repository.batch(session, uuid.UUID(batch["id"]))
        await repository.add_application(session, row, unknown)
        await repository.add_application(session, row, untested.account_id)

    run = await close_and_decide(app, client, ops, batch["id"])
    by_account = await decisions(app, batch["id"])
    got = {name: split_codes(by_account[p.account_id].reasons) for name, p in everyone.items()}
    expected = {
        "eligible": [],
        "just_18": [],
        "still_64": [],
        "at_mark": [],
        "17": ["age_out_of_range"],
        "65": ["age_out_of_range"],
        "student": ["student"],
        "student_list": ["student"],
        "earlier_list": ["earlier_recipient"],
        "no_kk": ["kk_not_linked"],
        "below_mark": ["test_below_pass_mark"],
        "revoked": ["profile_incomplete"],
        "many": ["age_out_of_range", "student", "earlier_recipient", "test_below_pass_mark"],
        **{f"list:{c}": [CATEGORIES[c]] for c in listed},
    }
    assert got == expected
    assert split_codes(by_account[unknown].reasons) == ["profile_incomplete", "test_incomplete"]
    assert split_codes(by_account[untested.account_id].reasons) == ["test_incomplete"]
    assert run["counts"]["selected"] == 4 and run["counts"]["applications"] == len(everyone) + 2
    assert run["counts"]["reasons"]["age_out_of_range"] == 3

    await announce(client, ops2, batch["id"])
    board = await dashboard(client, issuer, people["17"])
    assert board["applications"][0]["result"]["reasons"] == [
        {
            "code": "age_out_of_range",
            "message": "Usia Anda pada saat gelombang ditutup di luar batas usia peserta (18-64 tahun).",
        }
    ]
    board = await dashboard(client, issuer, listed["civil_servant"], **{"Accept-Language": "en"})
    message = board["applications"][0]["result"]["reasons"][0]["message"]
    assert "civil servant (ASN)" in message and "Kementerian" not in message  # the category, never the source
    board = await dashboard(client, issuer, people["no_kk"])
    assert "Kartu Keluarga" in board["applications"][0]["result"]["reasons"][0]["message"]


async def test_a_family_card_gets_at_most_two_recipients_across_batches(client, ops, ops2, app, issuer):
    kk = "3276010101200777"
    first = await open_batch(client, ops, 1)
    earlier = await enrol(app, person(kk=kk))
    assert (await join(client, issuer, first["id"], earlier)).status_code == 201
    await close_and_decide(app, client, ops, first["id"])
    await announce(client, ops2, first["id"])

    second = await open_batch(client, ops, 2, quota=1000)
    family = [await enrol(app, person(kk=kk)) for _ in range(3)]
    for p in family:
        assert (await join(client, issuer, second["id"], p)).status_code == 201
    run = await close_and_decide(app, client, ops, second["id"])
    got = await decisions(app, second["id"])
    # One place left for the KK: it goes to the family member drawn first by the lottery.
    from services.selection.lottery import lottery_number

    seed = run["seed"]
    order = sorted(family, key=lambda p: (lottery_number(seed, p.account_id), str(p.account_id)))
    assert [got[p.account_id].selected for p in order] == [True, False, False]
    assert [split_codes(got[p.account_id].reasons) for p in order[1:]] == [["kk_quota_reached"]] * 2
    await announce(client, ops2, second["id"])
    board = await dashboard(client, issuer, order[2])
    assert board["applications"][0]["result"]["reasons"][0]["message"] == (
        "Sudah ada 2 penerima Kartu Prakerja dalam Kartu Keluarga (KK) Anda."
    )


async def test_a_nik_selected_before_is_an_earlier_recipient_under_any_account(client, ops, ops2, app, issuer):
    first = await open_batch(client, ops, 1)
    original = await enrol(app, person())
    await join(client, issuer, first["id"], original)
    await close_and_decide(app, client, ops, first["id"])
    await announce(client, ops2, first["id"])

    second = await open_batch(client, ops, 2)
    same_nik = person(nik=original.nik, kk=original.kk)
    await feed(app, same_nik.profile_event(), same_nik.account_id)
    await feed(app, same_nik.test_event(), same_nik.account_id)
    assert (await join(client, issuer, second["id"], same_nik)).status_code == 201
    await close_and_decide(app, client, ops, second["id"])
    got = await decisions(app, second["id"])
    assert split_codes(got[same_nik.account_id].reasons) == ["earlier_recipient"]


async def test_rules_are_the_batchs_numbers(client, ops, app, issuer):
    batch = await open_batch(client, ops, rules={"min_age": 25, "max_age": 40, "max_per_kk": 1, "pass_mark": 70})
    young, scored_65, sibling_a, sibling_b = (
        person(birth_date=years_ago(24)),
        person(test_total=65.0),
        person(kk="3276010101200888"),
        person(kk="3276010101200888"),
    )
    for p in (young, scored_65, sibling_a, sibling_b):
        await enrol(app, p)
        await join(client, issuer, batch["id"], p)
    r = await client.post(f"/v1/batches/{batch['id']}/simulation", json={"rules": {"max_age": 20}}, headers=ops)
    assert r.status_code == 422 and r.json()["code"] == "invalid_rules"  # below the batch's own min_age 25
    await close_and_decide(app, client, ops, batch["id"])
    got = await decisions(app, batch["id"])
    assert split_codes(got[young.account_id].reasons) == ["age_out_of_range"]
    assert split_codes(got[scored_65.account_id].reasons) == ["test_below_pass_mark"]
    assert sorted(d.selected for d in (got[sibling_a.account_id], got[sibling_b.account_id])) == [False, True]
