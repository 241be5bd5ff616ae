"""The OpenAPI schema fuzzed for server errors, anonymous and with a valid applicant token."""

from __future__ import annotations

from shared.testing.fuzz import fuzz
from tests.identity.conftest import active_account, login


async def test_no_server_error_anywhere_in_the_schema(app, client, identity_url):
    failures = await fuzz(client, app, max_examples=25)
    await active_account(client, identity_url, email="fuzz@example.com")
    token = (await login(client, email="fuzz@example.com")).json()["access_token"]
    failures += await fuzz(client, app, max_examples=10, headers={"Authorization": f"Bearer {token}"})
    assert failures == []
