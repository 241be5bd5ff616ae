"""Events selection consumes, kept as its applicant projection (each handler runs with its inbox row, so a
redelivered event changes nothing; events of one account may arrive in any order across topics)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.selection import repository
from services.selection import repository_exclusions as excl_repo
from shared.events.assessment import AssessmentCompleted
from shared.events.envelope import CloudEvent, EventPayload
from shared.events.profile import ProfileCompleted, ProfileIdentityRevoked


async def on_profile_completed(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
    """Store what eligibility needs, and match the NIK with the exclusion lists already imported."""
    assert isinstance(payload, ProfileCompleted)
    nik_hash = bytes.fromhex(payload.nik_hash)
    values = {
        "account_id": payload.account_id,
        "nik_hash": nik_hash,
        "kk_hash": bytes.fromhex(payload.kk_hash) if payload.kk_hash else None,
        "birth_date": payload.birth_date,
        "sex": payload.sex,
        "province_code": payload.province_code,
        "regency_code": payload.regency_code,
        "education": payload.education,
        "employment_status": payload.employment_status,
        "is_student": payload.is_student,
    }
    await excl_repo.match_lock(session)
    await repository.upsert_profile(session, values, payload.completed_at)
    await excl_repo.match_nik(session, nik_hash)


async def on_identity_revoked(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
    """A revoked NIK verification makes the profile incomplete until profile completes it again."""
    assert isinstance(payload, ProfileIdentityRevoked)
    await repository.mark_identity_revoked(session, payload.account_id, payload.revoked_at)


async def on_assessment_completed(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
    assert isinstance(payload, AssessmentCompleted)
    await repository.record_test(session, payload.account_id, payload.total, payload.finished_at)


HANDLERS = {
    ProfileCompleted.event_type: on_profile_completed,
    ProfileIdentityRevoked.event_type: on_identity_revoked,
    AssessmentCompleted.event_type: on_assessment_completed,
}
