"""Scoring, item by item: ability items right/wrong/unanswered, likert values with and without reversal,
section scores, the total, and the same numbers through the API."""

from __future__ import annotations

from fractions import Fraction

import pytest

from services.assessment import scoring
from services.assessment.scoring import DrawnItem, SectionSpec, likert_points
from tests.assessment.conftest import KEY, KIND, REVERSE, V1, applicant, ops, outbox, ready_applicant, start

LIKERT = [item["code"] for item in V1["sections"][0]["items"]]


@pytest.mark.parametrize("code", LIKERT)
def test_every_motivation_statement_scores_its_direction(code):
    # 1..5 earns 0, 1/4, 1/2, 3/4, 1 when agreeing is motivated; reversed statements earn the mirror image.
    earned = [likert_points(str(v), reverse=REVERSE[code], lo=1, hi=5) for v in range(1, 6)]
    expected = [Fraction(n, 4) for n in range(5)]
    assert earned == (expected[::-1] if REVERSE[code] else expected)
    assert likert_points(None, reverse=REVERSE[code], lo=1, hi=5) == 0


def test_reverse_items_exist_in_the_seed_bank():
    assert sum(REVERSE.values()) == 10 and len(REVERSE) == 30


@pytest.mark.parametrize("code", list(KEY))
def test_every_ability_item_scores_only_its_key(code):
    for option in "ABCD":
        result = scoring.score([SectionSpec("s", "choice")], [DrawnItem(code, "s", option, correct_key=KEY[code])])
        assert result.sections[0].score == (100.0 if option == KEY[code] else 0.0)
        assert result.sections[0].correct == (1 if option == KEY[code] else 0)
    unanswered = scoring.score([SectionSpec("s", "choice")], [DrawnItem(code, "s", None, correct_key=KEY[code])])
    assert unanswered.sections[0].score == 0.0 and unanswered.sections[0].answered == 0


def test_sections_and_total():
    specs = [
        SectionSpec("motivation", "likert", 1, 5),
        SectionSpec("numerical", "choice"),
        SectionSpec("verbal", "choice"),
    ]
    items = [
        DrawnItem("M1", "motivation", "5", reverse=False),  # 1
        DrawnItem("M2", "motivation", "5", reverse=True),  # 0
        DrawnItem("M3", "motivation", "2", reverse=True),  # 3/4
        DrawnItem("M4", "motivation", None, reverse=False),  # 0
        DrawnItem("N1", "numerical", "A", correct_key="A"),
        DrawnItem("N2", "numerical", "B", correct_key="C"),
        DrawnItem("N3", "numerical", None, correct_key="D"),
        DrawnItem("V1", "verbal", "D", correct_key="D"),
    ]
    result = scoring.score(specs, items)
    by_code = {s.code: s for s in result.sections}
    assert by_code["motivation"].score == 43.75  # (1 + 0 + 3/4 + 0) / 4
    assert by_code["motivation"].answered == 3 and by_code["motivation"].correct is None
    assert by_code["numerical"].score == 33.33 and by_code["numerical"].correct == 1
    assert by_code["verbal"].score == 100.0
    # The exact mean (43.75 + 100/3 + 100) / 3 = 59.0277..., not the mean of the rounded scores.
    assert result.total == 59.03
    assert result.by_section() == {"motivation": 43.75, "numerical": 33.33, "verbal": 100.0}


def test_rounding_is_half_up():
    assert scoring.rounded(Fraction(125, 1000)) == 0.13
    assert scoring.rounded(Fraction(200, 3)) == 66.67


def expected_scores(view, answers):
    """The scores worked out here from the bank file, independently of the service."""
    sections = {}
    for section in view["sections"]:
        codes = [item["code"] for item in section["items"]]
        if section["kind"] == "choice":
            right = sum(answers.get(code) == KEY[code] for code in codes)
            sections[section["code"]] = Fraction(100 * right, len(codes))
        else:
            points = [
                Fraction(0)
                if code not in answers
                else Fraction((6 - answers[code] if REVERSE[code] else answers[code]) - 1, 4)
                for code in codes
            ]
            sections[section["code"]] = 100 * sum(points) / len(codes)
    total = sum(sections.values()) / len(sections)
    return {code: scoring.rounded(v) for code, v in sections.items()}, scoring.rounded(total)


async def test_scores_through_the_api_item_by_item(app, client, issuer, bank):
    account_id = await ready_applicant(app)
    view = await start(client, issuer, account_id)
    answers = {}
    for section in view["sections"]:
        for index, item in enumerate(section["items"]):
            code = item["code"]
            if index == len(section["items"]) - 1:
                continue  # the last item of every section stays unanswered
            if KIND[code] == "likert":
                answers[code] = [5, 4, 1, 2, 3][index % 5]
            else:
                wrong = next(k for k in "ABCD" if k != KEY[code])
                answers[code] = KEY[code] if index % 2 == 0 else wrong
    r = await client.put(
        "/v1/tests/me/session/answers",
        json={"answers": [{"item": code, "answer": value} for code, value in answers.items()]},
        headers=applicant(issuer, account_id),
    )
    assert r.status_code == 200, r.text
    assert (await client.post("/v1/tests/me/session/submit", headers=applicant(issuer, account_id))).status_code == 200

    sections, total = expected_scores(view, answers)
    result = (await client.get(f"/v1/tests/{account_id}", headers=ops(issuer))).json()
    assert result["status"] == "finished" and result["finish_reason"] == "submitted"
    assert result["bank_version"] == "2026.1"
    assert {s["section"]: s["score"] for s in result["sections"]} == sections
    assert [s["section"] for s in result["sections"]] == ["motivation", "numerical", "verbal", "logical"]
    assert result["total"] == total
    for s in result["sections"]:
        assert s["items"] == len(next(x for x in view["sections"] if x["code"] == s["section"])["items"])
        assert s["answered"] == s["items"] - 1
        if s["kind"] == "choice":
            assert s["correct"] == sum(
                answers.get(i["code"]) == KEY[i["code"]]
                for x in view["sections"]
                if x["code"] == s["section"]
                for i in x["items"]
            )
    (event,) = await outbox(app, "assessment.completed")
    assert event["data"]["scores"] == sections
    assert event["data"]["total"] == total
    assert event["data"]["bank_version"] == "2026.1"
