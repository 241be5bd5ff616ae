"""The OpenAPI schema fuzzed for server errors: anonymous, as an applicant with messages, and as ops."""

from __future__ import annotations

import uuid

from shared.testing.fuzz import fuzz
from tests.notification.conftest import requested


async def test_no_server_error_anywhere_in_the_schema(client, issuer):
    app = client.app
    account = uuid.uuid4()
    await app.state.consumer.handle(
        requested(account, template="assessment_completed", channels=["email", "inbox"], params={"full_name": "A"})
    )
    failures = await fuzz(client, app, max_examples=20)
    failures += await fuzz(client, app, max_examples=15, headers=issuer.headers(account, ["applicant"]))
    failures += await fuzz(client, app, max_examples=15, headers=issuer.headers(uuid.uuid4(), ["ops"]))
    assert failures == []
