"""Item statistics per bank version, checked against counts made here from the answers given."""

from __future__ import annotations

from collections import Counter

from tests.assessment.conftest import KEY, KIND, applicant, drawn_codes, ops, ready_applicant, start


async def take(client, issuer, account_id, view, pick, *, submit=True):
    answers = [{"item": code, "answer": pick(code)} for code in drawn_codes(view) if pick(code) is not None]
    r = await client.put(
        "/v1/tests/me/session/answers", json={"answers": answers}, headers=applicant(issuer, account_id)
    )
    assert r.status_code == 200, r.text
    if submit:
        r = await client.post("/v1/tests/me/session/submit", headers=applicant(issuer, account_id))
        assert r.status_code == 200
    return {a["item"]: a["answer"] for a in answers}


async def test_item_statistics(app, client, issuer, bank):
    def everything_right(code):
        return KEY[code] if KIND[code] == "choice" else 5

    def all_b_and_threes(code):
        # Skip every ability item whose key is D: unanswered counts as drawn, not as answered.
        if KIND[code] == "choice":
            return None if KEY[code] == "D" else "B"
        return 3

    finished: list[tuple[list[str], dict]] = []
    for pick in (everything_right, all_b_and_threes, all_b_and_threes):
        account_id = await ready_applicant(app)
        view = await start(client, issuer, account_id)
        finished.append((drawn_codes(view), await take(client, issuer, account_id, view, pick)))
    # A session still in progress counts as drawn, but its answers (not final) are not counted.
    open_id = await ready_applicant(app)
    open_view = await start(client, issuer, open_id)
    await take(client, issuer, open_id, open_view, everything_right, submit=False)

    r = await client.get("/v1/banks/2026.1/stats", headers=ops(issuer))
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["version"] == "2026.1"
    assert stats["sessions_started"] == 4 and stats["sessions_finished"] == 3
    by_code = {item["code"]: item for item in stats["items"]}
    assert len(by_code) == 103
    assert [item["code"] for item in stats["items"]][:2] == ["MOT-001", "MOT-002"]

    drawn = Counter(code for codes, _ in finished for code in codes) + Counter(drawn_codes(open_view))
    drawn_finished = Counter(code for codes, _ in finished for code in codes)
    chosen: dict[str, Counter] = {}
    for _, answers in finished:
        for code, value in answers.items():
            chosen.setdefault(code, Counter())[str(value)] += 1
    for code, item in by_code.items():
        assert item["drawn"] == drawn[code], code
        assert item["drawn_finished"] == drawn_finished[code], code
        assert item["answered"] == sum(chosen.get(code, Counter()).values()), code
        keys = ["A", "B", "C", "D"] if KIND[code] == "choice" else ["1", "2", "3", "4", "5"]
        assert item["chosen"] == {k: chosen.get(code, Counter())[k] for k in keys}, code
        if KIND[code] == "choice":
            right = chosen.get(code, Counter())[KEY[code]]
            assert item["correct"] == right
            expected_share = round(right / drawn_finished[code], 4) if drawn_finished[code] else None
            assert item["share_correct"] == expected_share
        else:
            assert item["correct"] is None and item["share_correct"] is None
    # Sanity: the scenario did exercise both right and wrong answers.
    assert any(0 < (i["share_correct"] or 0) < 1 for i in stats["items"])


async def test_stats_of_a_version_nobody_took(client, issuer, bank):
    stats = (await client.get("/v1/banks/2026.1/stats", headers=ops(issuer))).json()
    assert stats["sessions_started"] == 0
    assert all(
        i["drawn"] == 0 and i["share_correct"] is None and set(i["chosen"].values()) == {0} for i in stats["items"]
    )
