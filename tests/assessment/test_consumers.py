"""The events assessment consumes: each handled once, whatever the redeliveries."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.assessment import repository
from services.assessment.models import Applicant, CompletedProfile
from tests.assessment.conftest import account_confirmed, profile_completed


async def test_profile_completed_is_handled_once(app):
    account_id = uuid.uuid4()
    event = profile_completed(account_id)
    assert await app.state.consumer.handle(event) is True
    assert await app.state.consumer.handle(event) is False
    # A second, different completion event for the account keeps the first record.
    assert await app.state.consumer.handle(profile_completed(account_id)) is True
    async with app.state.db.sessionmaker() as session:
        assert await repository.profile_completed(session, account_id)
        count = await session.scalar(select(func.count()).select_from(CompletedProfile))
        assert count == 1


async def test_account_confirmed_keeps_the_latest_name_and_language(app):
    account_id = uuid.uuid4()
    assert await app.state.consumer.handle(account_confirmed(account_id, "Siti Nurhaliza", "id"))
    assert await app.state.consumer.handle(account_confirmed(account_id, "Siti Nurhaliza", "en"))
    async with app.state.db.sessionmaker() as session:
        row = await session.get(Applicant, account_id)
        assert row is not None and row.full_name == "Siti Nurhaliza" and row.locale == "en"


async def test_events_of_other_types_are_ignored(app):
    from datetime import UTC, datetime

    from shared.events.envelope import CloudEvent
    from shared.events.identity import PasswordChanged

    event = CloudEvent.wrap(
        PasswordChanged(account_id=uuid.uuid4(), changed_at=datetime.now(UTC)),
        source="prakerja/identity",
        subject="x",
    )
    assert await app.state.consumer.handle(event) is False
