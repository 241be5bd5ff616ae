"""Taking the test: the profile gate, drawing, resume, localisation, autosave, the deadline, no retake."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import time_machine

from services.assessment.main import create_app
from shared.db import utcnow
from shared.testing.plugin import running_app
from tests.assessment.conftest import (
    KEY,
    KIND,
    SECRET_KEYS,
    V1,
    applicant,
    assessment_settings,
    drawn_codes,
    keys_in,
    profile_completed,
    ready_applicant,
    start,
)

TEXTS = {item["code"]: item["text"] for section in V1["sections"] for item in section["items"]}
OPTIONS = {
    item["code"]: {o["key"]: o["text"] for o in item["options"]}
    for section in V1["sections"]
    for item in section["items"]
    if "options" in item
}


async def test_refused_until_the_profile_is_complete(app, client, issuer, bank):
    account_id = uuid.uuid4()
    r = await client.post("/v1/tests/me/session", headers=applicant(issuer, account_id))
    assert r.status_code == 409
    assert r.json()["code"] == "profile_incomplete"
    r = await client.post("/v1/tests/me/session", headers=applicant(issuer, account_id, "en"))
    assert r.json()["detail"].startswith("Complete your profile first")
    assert (await client.get("/v1/tests/me", headers=applicant(issuer, account_id))).json() == {
        "status": "not_started",
        "started_at": None,
        "deadline_at": None,
        "finished_at": None,
    }

    assert await app.state.consumer.handle(profile_completed(account_id))
    r = await client.post("/v1/tests/me/session", headers=applicant(issuer, account_id))
    assert r.status_code == 201, r.text


async def test_draws_per_section_and_resumes_the_same_session(app, client, issuer, bank):
    account_id = await ready_applicant(app)
    first = await start(client, issuer, account_id)
    assert first["bank_version"] == "2026.1"
    assert [(s["code"], len(s["items"])) for s in first["sections"]] == [
        ("motivation", 10),
        ("numerical", 6),
        ("verbal", 6),
        ("logical", 6),
    ]
    codes = drawn_codes(first)
    assert len(set(codes)) == len(codes) == first["total_items"] == 28
    for section in first["sections"]:
        assert all(KIND[item["code"]] == section["kind"] for item in section["items"])
        prefix = {"motivation": "MOT", "numerical": "NUM", "verbal": "VER", "logical": "LOG"}[section["code"]]
        assert all(item["code"].startswith(prefix) for item in section["items"])
    assert 899 <= first["time_left_s"] <= 900

    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        again = await client.post("/v1/tests/me/session", headers=applicant(issuer, account_id))
        assert again.status_code == 200, again.text
        resumed = again.json()
        assert resumed["id"] == first["id"]
        assert drawn_codes(resumed) == codes
        assert resumed["deadline_at"] == first["deadline_at"]
        assert 599 <= resumed["time_left_s"] <= 600
        status = (await client.get("/v1/tests/me", headers=applicant(issuer, account_id))).json()
        assert status["status"] == "in_progress"
        assert status["deadline_at"] is not None and status["finished_at"] is None


async def test_applicants_get_their_own_random_items_and_option_order(app, client, issuer, bank):
    views = [await start(client, issuer, await ready_applicant(app)) for _ in range(3)]
    assert len({tuple(drawn_codes(v)) for v in views}) == 3
    orders = [
        "".join(o["key"] for o in item["options"])
        for v in views
        for s in v["sections"]
        if s["kind"] == "choice"
        for item in s["items"]
    ]
    assert any(order != "ABCD" for order in orders)
    assert all(sorted(order) == list("ABCD") for order in orders)


async def test_option_shuffling_can_be_switched_off(assessment_url, issuer):
    from services.assessment import banks
    from tests.assessment.conftest import V1_PATH

    app = create_app(assessment_settings(assessment_url, shuffle_options=False))
    issuer.install(app)
    async with running_app(app) as client:
        await banks.load_file(app.state.db, V1_PATH)
        view = await start(client, issuer, await ready_applicant(app))
    for section in view["sections"]:
        for item in section["items"]:
            if section["kind"] == "choice":
                assert [o["key"] for o in item["options"]] == ["A", "B", "C", "D"]


async def test_items_in_the_applicants_language_and_never_the_keys(app, client, issuer, bank):
    account_id = await ready_applicant(app)
    started = await start(client, issuer, account_id)
    for lang, locale in [(None, "id"), ("en", "en"), ("en-US,en;q=0.9,id;q=0.5", "en"), ("id-ID", "id")]:
        r = await client.get("/v1/tests/me/session", headers=applicant(issuer, account_id, lang))
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        view = r.json()
        assert view["locale"] == locale
        assert view["title"] == V1["title"][locale]
        motivation = view["sections"][0]
        assert motivation["title"] == V1["sections"][0]["title"][locale]
        assert [p["label"] for p in motivation["scale"]] == [p["label"][locale] for p in V1["sections"][0]["scale"]]
        for section in view["sections"]:
            for item in section["items"]:
                assert item["text"] == TEXTS[item["code"]][locale]
                for option in item["options"] or []:
                    assert option["text"] == OPTIONS[item["code"]][option["key"]][locale]
        # Neither the start nor the read carries a scoring key, under any name.
        for document in (started, view):
            assert not SECRET_KEYS & set(keys_in(document)), SECRET_KEYS & set(keys_in(document))
            assert "reverse" not in r.text and '"answer"' not in r.text


async def test_autosave_overwrite_and_resume(app, client, issuer, bank):
    account_id = await ready_applicant(app)
    view = await start(client, issuer, account_id)
    mot = view["sections"][0]["items"][0]["code"]
    num = view["sections"][1]["items"][0]["code"]
    r = await client.put(
        "/v1/tests/me/session/answers",
        json={"answers": [{"item": mot, "answer": 4}, {"item": num, "answer": "C"}]},
        headers=applicant(issuer, account_id),
    )
    assert r.status_code == 200, r.text
    assert r.json()["saved"] == 2 and r.json()["answered"] == 2 and r.json()["total_items"] == 28
    r = await client.put(
        "/v1/tests/me/session/answers",
        json={"answers": [{"item": num, "answer": "A"}]},
        headers=applicant(issuer, account_id),
    )
    assert r.json()["answered"] == 2
    with time_machine.travel(utcnow() + timedelta(minutes=10)):
        resumed = (await client.post("/v1/tests/me/session", headers=applicant(issuer, account_id))).json()
    selected = {item["code"]: item["selected"] for s in resumed["sections"] for item in s["items"]}
    assert selected[mot] == 4 and selected[num] == "A"
    assert sum(v is not None for v in selected.values()) == resumed["answered"] == 2


async def test_answers_are_validated_against_the_session(app, client, issuer, bank):
    account_id = await ready_applicant(app)
    view = await start(client, issuer, account_id)
    mot = view["sections"][0]["items"][0]["code"]
    num = view["sections"][1]["items"][0]["code"]
    not_drawn = next(code for code in KEY if code not in drawn_codes(view))
    answers = [
        {"item": mot, "answer": 3},  # fine, but the request fails as a whole
        {"item": not_drawn, "answer": "A"},
        {"item": num, "answer": "E"},
        {"item": mot, "answer": 2},
        {"item": view["sections"][0]["items"][1]["code"], "answer": 6},
        {"item": view["sections"][0]["items"][2]["code"], "answer": "4"},
        {"item": view["sections"][1]["items"][1]["code"], "answer": 1},
    ]
    r = await client.put(
        "/v1/tests/me/session/answers", json={"answers": answers}, headers=applicant(issuer, account_id, "en")
    )
    assert r.status_code == 422, r.text
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert {field: e["code"] for field, e in errors.items()} == {
        "body.answers.1.item": "item_not_in_session",
        "body.answers.2.answer": "answer_not_an_option",
        "body.answers.3.item": "item_repeated",
        "body.answers.4.answer": "answer_not_on_scale",
        "body.answers.5.answer": "answer_not_on_scale",
        "body.answers.6.answer": "answer_not_an_option",
    }
    assert errors["body.answers.1.item"]["message"] == f"Item {not_drawn} is not part of your test."
    assert errors["body.answers.4.answer"]["message"].endswith("scale values: 1, 2, 3, 4, 5.")
    # All or nothing: the good first answer was not kept either.
    again = (await client.get("/v1/tests/me/session", headers=applicant(issuer, account_id))).json()
    assert again["answered"] == 0

    for bad in ({"answers": []}, {"answers": [{"item": mot}]}, {"answers": [{"item": mot, "answer": True}]}):
        r = await client.put("/v1/tests/me/session/answers", json=bad, headers=applicant(issuer, account_id))
        assert r.status_code == 422, r.text


async def test_deadline_refuses_answers_but_not_reads(app, client, issuer, bank, settings):
    account_id = await ready_applicant(app)
    view = await start(client, issuer, account_id)
    item = view["sections"][1]["items"][0]["code"]
    deadline = utcnow() + timedelta(seconds=settings.test_duration_s)
    with time_machine.travel(deadline + timedelta(seconds=settings.answer_grace_s - 1)):
        r = await client.put(
            "/v1/tests/me/session/answers",
            json={"answers": [{"item": item, "answer": "B"}]},
            headers=applicant(issuer, account_id),
        )
        assert r.status_code == 200, "answers on the wire at the deadline still count"
    with time_machine.travel(deadline + timedelta(seconds=settings.answer_grace_s + 2)):
        r = await client.put(
            "/v1/tests/me/session/answers",
            json={"answers": [{"item": item, "answer": "C"}]},
            headers=applicant(issuer, account_id),
        )
        assert r.status_code == 409
        assert r.json()["code"] == "deadline_passed"
        r = await client.get("/v1/tests/me/session", headers=applicant(issuer, account_id))
        assert r.status_code == 200 and r.json()["time_left_s"] == 0
        assert {i["code"]: i["selected"] for s in r.json()["sections"] for i in s["items"]}[item] == "B"


async def test_one_test_per_account(app, client, issuer, bank):
    account_id = await ready_applicant(app)
    await start(client, issuer, account_id)
    r = await client.post("/v1/tests/me/session/submit", headers=applicant(issuer, account_id))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "finished"
    r = await client.post("/v1/tests/me/session", headers=applicant(issuer, account_id))
    assert r.status_code == 409
    assert r.json()["code"] == "already_taken"
    r = await client.get("/v1/tests/me/session", headers=applicant(issuer, account_id))
    assert r.status_code == 409
    assert r.json()["code"] == "test_finished"
    r = await client.put(
        "/v1/tests/me/session/answers",
        json={"answers": [{"item": "NUM-001", "answer": "B"}]},
        headers=applicant(issuer, account_id),
    )
    assert r.status_code == 409
    assert r.json()["code"] == "test_finished"


async def test_concurrent_starts_make_one_session(app, client, issuer, bank):
    account_id = await ready_applicant(app)
    responses = await asyncio.gather(
        *(client.post("/v1/tests/me/session", headers=applicant(issuer, account_id)) for _ in range(3))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({tuple(drawn_codes(r.json())) for r in responses}) == 1


async def test_another_accounts_session_is_out_of_reach(app, client, issuer, bank):
    owner = await ready_applicant(app)
    view = await start(client, issuer, owner)
    other = await ready_applicant(app)
    r = await client.get("/v1/tests/me/session", headers=applicant(issuer, other))
    assert r.status_code == 404
    assert r.json()["code"] == "session_not_found"
    r = await client.put(
        "/v1/tests/me/session/answers",
        json={"answers": [{"item": drawn_codes(view)[0], "answer": 3}]},
        headers=applicant(issuer, other),
    )
    assert r.status_code == 404
    r = await client.post("/v1/tests/me/session/submit", headers=applicant(issuer, other))
    assert r.status_code == 404
    r = await client.get(f"/v1/tests/{owner}", headers=applicant(issuer, other))
    assert r.status_code == 403
    # The owner's session is untouched.
    mine = (await client.get("/v1/tests/me/session", headers=applicant(issuer, owner))).json()
    assert mine["answered"] == 0 and mine["id"] == view["id"]
    assert (await client.get("/v1/tests/me", headers=applicant(issuer, other))).json()["status"] == "not_started"


async def test_no_active_bank(app, client, issuer):
    account_id = await ready_applicant(app)
    r = await client.post("/v1/tests/me/session", headers=applicant(issuer, account_id))
    assert r.status_code == 503
    assert r.json()["code"] == "test_unavailable"


async def test_only_applicants_take_tests(client, issuer, bank):
    ops_headers = issuer.headers(uuid.uuid4(), ["ops"])
    assert (await client.post("/v1/tests/me/session", headers=ops_headers)).status_code == 403
    assert (await client.get("/v1/tests/me")).status_code == 401
