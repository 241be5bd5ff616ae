"""Exclusion-list imports: streamed CSV, bad rows reported by line, blind index only, replace/append, removal."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.selection.exclusions import nik_issue
from services.selection.models import ExclusionEntry, ExclusionHit
from services.selection.scheduler import purge_lists
from shared.nik import parse_nik
from tests.selection.conftest import enrol, index, nik_for, person

CSV = {"Content-Type": "text/csv"}


def params(category: str = "civil_servant", **extra: str) -> dict[str, str]:
    return {"category": category, "source": "BKN", "as_of": "2026-01-31", **extra}


async def upload(client, ops, body: bytes, headers: dict[str, str] | None = None, **query: str):
    return await client.post(
        "/v1/exclusion-lists", params=params(**query), content=body, headers={**ops, **CSV, **(headers or {})}
    )


async def count(app, model, **where) -> int:
    async with app.state.db.sessionmaker() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return int((await session.execute(query)).scalar_one())


async def test_a_list_is_stored_as_blind_indexes_only(client, ops, app):
    niks = [nik_for(n) for n in range(1, 6)]
    body = (
        "\ufeffNIK;nama\r\n" + "\r\n".join(f'"{n}";Nama {i}' for i, n in enumerate(niks)) + "\r\n\r\n" + niks[0]
    ).encode()
    r = await upload(client, ops, body)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["entries"] == 5 and stored["rows"] == 6 and stored["duplicates"] == 1 and stored["bad_rows"] == 0
    assert stored["category_label"] == "Aparatur Sipil Negara (ASN)" and stored["status"] == "active"
    assert stored["as_of"] == "2026-01-31" and stored["source"] == "BKN"
    async with app.state.db.sessionmaker() as session:
        hashes = {row[0] for row in await session.execute(select(ExclusionEntry.nik_hash))}
    # Exactly profile's blind index of each NIK, and nothing else: the NIK itself is nowhere.
    assert hashes == {bytes.fromhex(index(n)) for n in niks}

    listing = (await client.get("/v1/exclusion-lists", headers=ops)).json()
    assert listing["entries_by_category"] == {"civil_servant": 5}
    assert [item["id"] for item in listing["lists"]] == [stored["id"]]


async def test_bad_rows_refuse_the_file_with_their_line_numbers(client, ops, app):
    good = nik_for(1)
    body = "\n".join(
        ["nik", good, "12345", good[:6] + "320591" + "0001", good[:12] + "0000", "9999011705910001"]
    ).encode()
    r = await upload(client, ops, body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "exclusion_import_refused" and problem["bad_rows"] == 4
    assert [(b["line"], b["code"]) for b in problem["bad_lines"]] == [
        (3, "nik_not_16_digits"),
        (4, "nik_birth_date_invalid"),
        (5, "nik_serial_zero"),
        (6, "nik_region_unknown"),
    ]
    assert problem["bad_lines"][0]["value"] == "*****"  # never echoed in clear
    assert "NIK harus 16 digit" in problem["bad_lines"][0]["message"]
    assert await count(app, ExclusionEntry) == 0
    assert (await client.get("/v1/exclusion-lists", headers=ops)).json()["lists"] == []


async def test_skip_mode_stores_good_rows_and_keeps_the_report(client, ops, app):
    body = "\n".join([nik_for(1), "not a nik", nik_for(2)]).encode()
    r = await upload(client, ops, body, headers={"Accept-Language": "en"}, on_bad_rows="skip")
    assert r.status_code == 201, r.text
    assert r.json()["entries"] == 2 and r.json()["bad_rows"] == 1
    [bad] = r.json()["bad_lines"]
    assert bad["line"] == 2 and bad["code"] == "nik_not_16_digits"
    assert bad["message"].startswith("The NIK must be 16 digits")
    again = (await client.get(f"/v1/exclusion-lists/{r.json()['id']}", headers=ops)).json()
    assert again["bad_lines"] == r.json()["bad_lines"]


async def test_empty_files_and_other_media_types_are_refused(client, ops):
    r = await upload(client, ops, b"nik\n\n")
    assert r.status_code == 422 and r.json()["code"] == "exclusion_import_empty"
    r = await client.post(
        "/v1/exclusion-lists", params=params(), content=b"{}", headers={**ops, "Content-Type": "application/json"}
    )
    assert r.status_code == 415 and r.json()["code"] == "exclusion_import_media_type"
    r = await upload(client, ops, nik_for(1).encode(), category="astronaut")
    assert r.status_code == 422


async def test_replace_supersedes_and_removal_stops_counting(client, ops, app):
    first = (await upload(client, ops, nik_for(1).encode(), mode="append")).json()
    other_source = (
        await client.post(
            "/v1/exclusion-lists",
            params={**params(), "source": "Pemda"},
            content=nik_for(3).encode(),
            headers={**ops, **CSV},
        )
    ).json()
    second = (await upload(client, ops, f"{nik_for(1)}\n{nik_for(2)}".encode(), mode="replace")).json()
    assert second["status"] == "active"
    old = (await client.get(f"/v1/exclusion-lists/{first['id']}", headers=ops)).json()
    assert old["status"] == "replaced" and old["replaced_by"] == second["id"]
    listing = (await client.get("/v1/exclusion-lists", headers=ops)).json()
    assert sorted(item["id"] for item in listing["lists"]) == sorted([other_source["id"], second["id"]])
    assert listing["entries_by_category"] == {"civil_servant": 3}

    r = await client.delete(f"/v1/exclusion-lists/{second['id']}", headers=ops)
    assert r.status_code == 200 and r.json()["status"] == "removed"
    r = await client.delete(f"/v1/exclusion-lists/{second['id']}", headers=ops)
    assert r.status_code == 409
    assert await purge_lists(app.state.selection) == 2
    assert await count(app, ExclusionEntry) == 1  # only the other source's list is left
    all_lists = (await client.get("/v1/exclusion-lists", params={"include_inactive": "true"}, headers=ops)).json()
    assert len(all_lists["lists"]) == 3


async def test_lists_and_applicants_match_whichever_comes_first(client, ops, app):
    before = await enrol(app, person())
    r = await upload(client, ops, f"{before.nik}\n{nik_for(9000)}".encode())
    assert r.status_code == 201 and r.json()["matched_applicants"] == 1
    after = person()
    await upload(client, ops, after.nik.encode(), category="police")
    await enrol(app, after)
    async with app.state.db.sessionmaker() as session:
        hits = {bytes(row[0]) for row in await session.execute(select(ExclusionHit.nik_hash))}
    assert hits == {bytes.fromhex(index(before.nik)), bytes.fromhex(index(after.nik))}


async def test_only_ops_import(client, issuer):
    r = await client.post(
        "/v1/exclusion-lists", params=params(), content=b"x", headers={**issuer.headers(person().account_id), **CSV}
    )
    assert r.status_code == 403


@pytest.mark.parametrize("value", ["3276011705910001", "3276015705910001", "3276013102910001", "327601170591000"])
def test_fast_check_agrees_with_profile(value):
    parsed_ok = not parse_nik(value)[1]
    assert (nik_issue(value) is None) == parsed_ok


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"(3276|3578|1101|9999)[0-9]{2}[0-7][0-9][01][0-9][0-9]{2}[0-9]{4}", fullmatch=True))
def test_fast_check_agrees_with_profile_on_random_niks(value):
    assert (nik_issue(value) is None) == (not parse_nik(value)[1])
