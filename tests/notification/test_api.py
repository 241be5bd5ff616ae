"""The inbox and the ops delivery view over HTTP."""

from __future__ import annotations

import uuid

from tests.notification.conftest import requested


async def _inbox_message(client, account: uuid.UUID, n: int, clock) -> None:
    clock.advance(1)  # distinct times, so newest-first is well defined
    event = requested(
        account, template="nik_claim_decided", channels=["inbox"], params={"full_name": f"Budi {n}", "outcome": "x"}
    )
    await client.app.state.consumer.handle(event)


async def test_inbox_pages_newest_first_with_the_unread_count(client, issuer, clock):
    me, other = uuid.uuid4(), uuid.uuid4()
    for n in range(5):
        await _inbox_message(client, me, n, clock)
    await _inbox_message(client, other, 99, clock)
    headers = issuer.headers(me, ["applicant"])

    first = await client.get("/v1/notifications/me", params={"limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["unread_count"] == 5
    assert [i["body"].split(",")[0] for i in body["items"]] == ["Halo Budi 4", "Halo Budi 3"]
    assert body["items"][0]["title"] == "Hasil pemeriksaan klaim NIK Anda"
    assert body["items"][0]["read_at"] is None and body["next_cursor"]

    seen = [i["id"] for i in body["items"]]
    cursor = body["next_cursor"]
    await _inbox_message(client, me, 5, clock)  # a new message does not shift the pages already cut
    while cursor:
        page = (await client.get("/v1/notifications/me", params={"limit": 2, "cursor": cursor}, headers=headers)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5

    everything = (await client.get("/v1/notifications/me", headers=headers)).json()
    assert len(everything["items"]) == 6 and everything["next_cursor"] is None
    assert everything["unread_count"] == 6


async def test_inbox_speaks_the_language_asked_for_else_the_accounts(client, issuer, clock):
    me = uuid.uuid4()
    event = requested(me, template="welcome", channels=["inbox"], locale="en", params={"full_name": "Siti"})
    await client.app.state.consumer.handle(event)
    headers = issuer.headers(me)
    [plain] = (await client.get("/v1/notifications/me", headers=headers)).json()["items"]
    assert (plain["locale"], plain["title"]) == ("en", "Welcome to Kartu Prakerja")
    indonesian = {**headers, "Accept-Language": "id-ID,id;q=0.9"}
    [item] = (await client.get("/v1/notifications/me", headers=indonesian)).json()["items"]
    assert (item["locale"], item["title"]) == ("id", "Selamat datang di Kartu Prakerja")
    assert item["body"].startswith("Halo Siti, akun Anda sudah aktif.")
    read = await client.post(f"/v1/notifications/me/{item['id']}/read", headers={**headers, "Accept-Language": "en"})
    assert read.json()["title"] == "Welcome to Kartu Prakerja"


async def test_mark_one_read_then_all(client, issuer, clock):
    me = uuid.uuid4()
    for n in range(3):
        await _inbox_message(client, me, n, clock)
    headers = issuer.headers(me, ["applicant"])
    items = (await client.get("/v1/notifications/me", headers=headers)).json()["items"]

    r = await client.post(f"/v1/notifications/me/{items[1]['id']}/read", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["read_at"] is not None
    first_read = r.json()["read_at"]
    clock.advance(60)
    again = await client.post(f"/v1/notifications/me/{items[1]['id']}/read", headers=headers)
    assert again.json()["read_at"] == first_read

    page = (await client.get("/v1/notifications/me", headers=headers)).json()
    assert page["unread_count"] == 2
    unread = (await client.get("/v1/notifications/me", params={"unread_only": "true"}, headers=headers)).json()
    assert {i["id"] for i in unread["items"]} == {items[0]["id"], items[2]["id"]}

    r = await client.post("/v1/notifications/me/read-all", headers=headers)
    assert r.status_code == 200 and r.json() == {"marked": 2, "unread_count": 0}
    assert (await client.get("/v1/notifications/me", headers=headers)).json()["unread_count"] == 0


async def test_another_users_notification_is_not_found(client, issuer, clock):
    owner, intruder = uuid.uuid4(), uuid.uuid4()
    await _inbox_message(client, owner, 1, clock)
    [item] = (await client.get("/v1/notifications/me", headers=issuer.headers(owner))).json()["items"]
    r = await client.post(f"/v1/notifications/me/{item['id']}/read", headers=issuer.headers(intruder))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "notification_not_found"
    assert (await client.post("/v1/notifications/me/read-all", headers=issuer.headers(intruder))).json()["marked"] == 0
    assert (await client.get("/v1/notifications/me", headers=issuer.headers(owner))).json()["unread_count"] == 1


async def test_no_token_is_401(client):
    for method, path in [
        ("GET", "/v1/notifications/me"),
        ("POST", f"/v1/notifications/me/{uuid.uuid4()}/read"),
        ("POST", "/v1/notifications/me/read-all"),
        ("GET", "/v1/deliveries"),
    ]:
        r = await client.request(method, path)
        assert r.status_code == 401, path
        assert r.json()["code"] == "token_missing"


async def test_bad_input_is_problem_json(client, issuer):
    headers = {**issuer.headers(uuid.uuid4()), "Accept-Language": "en"}
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "many"}):
        r = await client.get("/v1/notifications/me", params=params, headers=headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit", params
    r = await client.get("/v1/notifications/me", params={"cursor": "garbage!"}, headers=headers)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_cursor"
    assert r.json()["detail"].startswith("The cursor is not valid")
    r = await client.post("/v1/notifications/me/not-a-uuid/read", headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "uuid_parsing"


async def test_ops_see_deliveries_and_applicants_do_not(client, issuer, clock):
    account = uuid.uuid4()
    await client.app.state.consumer.handle(requested(account))
    clock.advance(1)
    await client.app.state.consumer.handle(
        requested(account, template="welcome", channels=["inbox"], params={"full_name": "Siti"})
    )
    await client.app.state.consumer.handle(requested(uuid.uuid4()))

    r = await client.get("/v1/deliveries", headers=issuer.headers(account, ["applicant"]))
    assert r.status_code == 403 and r.json()["code"] == "role_required"

    ops = issuer.headers(uuid.uuid4(), ["ops"])
    r = await client.get("/v1/deliveries", params={"account_id": str(account)}, headers=ops)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["template"], i["channel"], i["status"]) for i in items] == [
        ("welcome", "inbox", "sent"),
        ("account_confirmation", "email", "pending"),
    ]
    assert items[1]["recipient"] == "s***@example.com"
    assert "siti.nurhaliza" not in r.text and "tok-123" not in r.text

    pending = (await client.get("/v1/deliveries", params={"status": "pending"}, headers=ops)).json()["items"]
    assert len(pending) == 2 and {i["status"] for i in pending} == {"pending"}
    page = (await client.get("/v1/deliveries", params={"limit": 2}, headers=ops)).json()
    rest = (await client.get("/v1/deliveries", params={"cursor": page["next_cursor"]}, headers=ops)).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None

    r = await client.get("/v1/deliveries", params={"status": "lost"}, headers=ops)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.status"

    # A NUL character (PostgreSQL takes none in text) is refused before any route runs, on every service.
    r = await client.get("/v1/deliveries", params={"template": "\x00welcome"}, headers=ops)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "nul_character" and "NUL" in r.json()["detail"]
    r = await client.get("/v1/deliveries/%00", headers={**ops, "Accept-Language": "en"})
    assert r.status_code == 422 and r.json()["detail"].startswith("The request address contains a NUL")


async def test_openapi_documents_the_routes(client):
    spec = (await client.get("/openapi.json")).json()
    inbox = spec["paths"]["/v1/notifications/me"]["get"]
    assert "unread count" in inbox["description"]
    assert "404" in spec["paths"]["/v1/notifications/me/{notification_id}/read"]["post"]["responses"]
    assert "403" in spec["paths"]["/v1/deliveries"]["get"]["responses"]
