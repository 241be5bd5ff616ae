"""Question bank versions: import with validation, activation, listing, the seed loader and the CLI check."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.assessment import banks
from services.assessment.__main__ import main as cli
from tests.assessment.conftest import V1, V1_PATH, applicant, ops


def v2() -> dict[str, Any]:
    bank = copy.deepcopy(V1)
    bank["version"] = "2026.2"
    return bank


def errors_by_field(response: Any) -> dict[str, dict[str, str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    return {e["field"]: e for e in body["errors"]}


async def test_import_list_and_activate(client, issuer):
    ops_id = uuid.uuid4()
    r = await client.post("/v1/banks", json=V1, headers=ops(issuer, ops_id))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["version"] == "2026.1"
    assert body["active"] is False
    assert body["imported_by"] == str(ops_id)
    assert [(s["code"], s["kind"], s["draw"], s["items"]) for s in body["sections"]] == [
        ("motivation", "likert", 10, 30),
        ("numerical", "choice", 6, 24),
        ("verbal", "choice", 6, 25),
        ("logical", "choice", 6, 24),
    ]
    # The same file again is a harmless retry.
    again = await client.post("/v1/banks", json=V1, headers=ops(issuer))
    assert again.status_code == 200, again.text

    r = await client.post("/v1/banks", json=v2(), headers=ops(issuer))
    assert r.status_code == 201, r.text
    r = await client.post("/v1/banks/2026.2/activate", headers=ops(issuer))
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    assert r.json()["activated_at"]

    listed = (await client.get("/v1/banks", headers=ops(issuer))).json()
    assert [(b["version"], b["active"]) for b in listed] == [("2026.2", True), ("2026.1", False)]

    r = await client.post("/v1/banks/2026.1/activate", headers=ops(issuer))
    listed = (await client.get("/v1/banks", headers=ops(issuer))).json()
    assert {b["version"]: b["active"] for b in listed} == {"2026.1": True, "2026.2": False}


async def test_a_version_never_changes(client, issuer):
    assert (await client.post("/v1/banks", json=V1, headers=ops(issuer))).status_code == 201
    changed = copy.deepcopy(V1)
    changed["sections"][1]["items"][0]["text"]["en"] = "Something else"
    r = await client.post("/v1/banks", json=changed, headers=ops(issuer, uuid.uuid4()))
    assert r.status_code == 409
    assert r.json()["code"] == "bank_version_exists"


async def test_activate_unknown_version(client, issuer):
    r = await client.post("/v1/banks/1999.1/activate", headers=ops(issuer))
    assert r.status_code == 404
    assert r.json()["code"] == "bank_version_not_found"
    r = await client.get("/v1/banks/1999.1/stats", headers=ops(issuer))
    assert r.status_code == 404


async def test_import_reports_each_broken_item_by_code(client, issuer):
    bank = v2()
    motivation, numerical, verbal, logical = bank["sections"]
    numerical["items"][2]["answer"] = "E"  # NUM-003: not an option
    del numerical["items"][3]["answer"]  # NUM-004: no correct answer
    logical["items"][0]["answer"] = ["A", "C"]  # LOG-001: two correct answers
    logical["items"][1]["options"] = logical["items"][1]["options"][:3]  # LOG-002: three options
    verbal["items"][0]["text"] = {"id": "Teks saja"}  # VER-001: no English
    verbal["items"][1]["options"][1]["text"]["id"] = "   "  # VER-002: empty option text
    motivation["items"][0]["reverse"] = "yes"  # MOT-001: not a boolean
    del motivation["items"][1]["facet"]  # MOT-002: incomplete

    r = await client.post("/v1/banks", json=bank, headers=ops(issuer), params={}, timeout=10)
    errors = errors_by_field(r)
    assert errors["body.sections.numerical.items.NUM-003"]["code"] == "answer_not_an_option"
    assert "NUM-003" in errors["body.sections.numerical.items.NUM-003"]["message"]
    assert errors["body.sections.numerical.items.NUM-004.answer"]["code"] == "missing"
    assert errors["body.sections.logical.items.LOG-001.answer"]["code"] == "answer_not_single"
    assert errors["body.sections.logical.items.LOG-002"]["code"] == "options_invalid"
    assert errors["body.sections.verbal.items.VER-001.text.en"]["code"] == "missing"
    assert errors["body.sections.verbal.items.VER-002.options.1.text.id"]["code"] == "text_empty"
    assert errors["body.sections.motivation.items.MOT-001.reverse"]["code"] == "bool_type"
    assert errors["body.sections.motivation.items.MOT-002.facet"]["code"] == "missing"
    assert len(errors) == 8
    # Nothing was stored.
    assert (await client.get("/v1/banks", headers=ops(issuer))).json() == []


async def test_import_messages_follow_the_language(client, issuer):
    bank = v2()
    bank["sections"][1]["items"][2]["answer"] = "E"
    field = "body.sections.numerical.items.NUM-003"
    r = await client.post("/v1/banks", json=bank, headers=ops(issuer))
    assert errors_by_field(r)[field]["message"].startswith("Soal NUM-003: jawaban benar 'E' bukan")
    r = await client.post("/v1/banks", json=bank, headers={**ops(issuer), "Accept-Language": "en"})
    assert errors_by_field(r)[field]["message"].startswith("Item NUM-003: the correct answer 'E' is not")


NUM_001 = "body.sections.numerical.items.NUM-001"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (lambda b: b["sections"][2]["items"][1].update(code="VER-001"), "body", "item_code_duplicate"),
        (lambda b: b["sections"][3].update(code="verbal"), "body", "section_code_duplicate"),
        (lambda b: b["sections"][1].update(draw=25), "body.sections.numerical", "draw_too_large"),
        (lambda b: b["sections"][1].update(draw=0), "body.sections.numerical.draw", "greater_than_equal"),
        (lambda b: b["sections"][1].update(draw="6"), "body.sections.numerical.draw", "int_type"),
        (lambda b: b["sections"][1].update(kind="essay"), "body.sections", "section_kind_unknown"),
        (lambda b: b["sections"][0]["scale"].reverse(), "body.sections.motivation", "scale_invalid"),
        (
            lambda b: b["sections"][0].update(scale=b["sections"][0]["scale"][:1]),
            "body.sections.motivation",
            "scale_invalid",
        ),
        (lambda b: b["sections"][1]["items"][0]["options"][1].update(key="A"), NUM_001, "options_invalid"),
        (
            lambda b: b["sections"][1]["items"][0]["options"][1]["text"].update(id="Rp42.500"),
            NUM_001,
            "options_duplicate_text",
        ),
        (lambda b: b["sections"][1]["items"][0].update(hint="x"), f"{NUM_001}.hint", "extra_forbidden"),
        (lambda b: b["sections"][1]["items"][0].update(reverse=False), f"{NUM_001}.reverse", "extra_forbidden"),
        (lambda b: b.update(version="2026/2"), "body.version", "string_pattern_mismatch"),
        (lambda b: b["sections"][1].update(items=[]), "body.sections.numerical.items", "too_short"),
        (lambda b: b["title"].update(fr="Test"), "body.title.fr", "extra_forbidden"),
    ],
)
async def test_import_checks(client, issuer, change, field, code):
    bank = v2()
    change(bank)
    errors = errors_by_field(await client.post("/v1/banks", json=bank, headers=ops(issuer)))
    assert field in errors, errors
    assert errors[field]["code"] == code
    if field.startswith(NUM_001) and code.startswith("options"):
        assert "NUM-001" in errors[field]["message"]


async def test_bank_endpoints_are_for_ops_only(client, issuer):
    me = uuid.uuid4()
    for method, path in [
        ("POST", "/v1/banks"),
        ("GET", "/v1/banks"),
        ("POST", "/v1/banks/2026.1/activate"),
        ("GET", "/v1/banks/2026.1/stats"),
        ("GET", f"/v1/tests/{uuid.uuid4()}"),
    ]:
        r = await client.request(method, path, json=V1 if method == "POST" else None, headers=applicant(issuer, me))
        assert r.status_code == 403, (path, r.text)
        assert r.json()["code"] == "role_required"
        assert (await client.request(method, path)).status_code == 401
    assert (await client.get("/v1/banks", headers=ops(issuer))).json() == []


async def test_seed_loader_is_idempotent_and_respects_the_active_choice(app, client, issuer):
    assert await banks.load_file(app.state.db, V1_PATH) == "question bank 2026.1: imported; now active"
    assert await banks.load_file(app.state.db, V1_PATH) == "question bank 2026.1: already present"
    await client.post("/v1/banks", json=v2(), headers=ops(issuer))
    await client.post("/v1/banks/2026.2/activate", headers=ops(issuer))
    await banks.load_file(app.state.db, V1_PATH)
    listed = (await client.get("/v1/banks", headers=ops(issuer))).json()
    assert {b["version"]: b["active"] for b in listed} == {"2026.1": False, "2026.2": True}


def test_check_bank_command(tmp_path: Path, capsys):
    assert cli(["check-bank", str(V1_PATH)]) == 0
    out = capsys.readouterr().out
    assert "motivation   likert  items=30" in out and out.rstrip().endswith("OK")
    broken = v2()
    broken["sections"][1]["items"][2]["answer"] = "E"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    assert cli(["check-bank", str(path)]) == 1
    err = capsys.readouterr().err
    assert "sections.numerical.items.NUM-003" in err
