"""selection's rules for batches and applications. Never commits: the caller's transaction does.

Batch states: scheduled -> open -> closed -> decided -> announced. Time moves them (the scheduler) or ops
do; every move is a conditional update (so the scheduler and ops never both move a batch), audited in
batch_log and published through the outbox.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.selection import errors, repository
from services.selection import repository_runs as runs_repo
from services.selection.config import SelectionSettings
from services.selection.lottery import commitment, new_seed
from services.selection.models import Applicant, Application, Batch, Decision
from services.selection.policy import POLICIES, Rules
from services.selection.reasons import sentence, split_codes
from shared.db import Database, utcnow
from shared.errors import DomainError
from shared.events.selection import BatchAnnounced, BatchClosed, BatchOpened, CardAmounts
from shared.messaging import Outbox

SOURCE = "prakerja/selection"
SCHEDULER = "scheduler"
STATES = ("scheduled", "open", "closed", "decided", "announced")


@dataclass
class SelectionContext:
    db: Database
    settings: SelectionSettings
    outbox: Outbox
    index_key: bytes
    runner: Any = None  # runs.Runner, set by the app
    _batches_cache: tuple[float, Any] | None = field(default=None, repr=False)

    def cached_batches(self) -> Any | None:
        if self._batches_cache and time.monotonic() - self._batches_cache[0] < self.settings.batches_cache_ttl_s:
            return self._batches_cache[1]
        return None

    def cache_batches(self, value: Any) -> None:
        self._batches_cache = (time.monotonic(), value)

    def forget_batches(self) -> None:
        self._batches_cache = None


def card_of(batch: Batch) -> CardAmounts:
    return CardAmounts(
        training_balance=batch.training_balance,
        incentive_amount=batch.incentive_amount,
        incentive_months=batch.incentive_months,
        survey_incentive_amount=batch.survey_incentive_amount,
        survey_incentive_count=batch.survey_incentive_count,
    )


def rules_of(batch: Batch) -> Rules:
    return Rules.model_validate(batch.rules)


def reason_params(batch: Batch) -> dict[str, object]:
    rules = rules_of(batch)
    return {"min_age": rules.min_age, "max_age": rules.max_age, "max_per_kk": rules.max_per_kk}


async def create_batch(
    ctx: SelectionContext,
    session: AsyncSession,
    *,
    actor: uuid.UUID,
    number: int,
    opens_at: datetime,
    closes_at: datetime,
    announce_at: datetime,
    quota: int,
    policy_version: str,
    province_quotas: bool,
    rules: Rules,
    card: CardAmounts,
) -> Batch:
    if policy_version not in POLICIES:
        raise errors.UnknownPolicy(version=policy_version)
    if closes_at <= utcnow():
        raise errors.ClosesInPast()
    if await repository.batch_by_number(session, number) is not None:
        raise errors.BatchNumberTaken(number=number)
    seed = new_seed()
    batch = Batch(
        id=uuid.uuid4(),
        number=number,
        state="scheduled",
        opens_at=opens_at,
        closes_at=closes_at,
        announce_at=announce_at,
        quota=quota,
        policy_version=policy_version,
        province_quotas=province_quotas,
        rules=rules.model_dump(),
        seed=seed,
        seed_hash=commitment(seed),
        created_at=utcnow(),
        created_by=actor,
        **card.model_dump(),
    )
    session.add(batch)
    await session.flush()
    await repository.log(session, batch.id, str(actor), "created", to_state="scheduled")
    ctx.forget_batches()
    return batch


async def open_batch(ctx: SelectionContext, session: AsyncSession, batch: Batch, actor: str) -> Batch:
    now = utcnow()
    if not await repository.move_batch(session, batch.id, "scheduled", "open", opened_at=now):
        raise errors.BatchState(number=batch.number, state=batch.state, needed="scheduled")
    batch.state, batch.opened_at = "open", now
    await repository.log(session, batch.id, actor, "opened", from_state="scheduled", to_state="open")
    await ctx.outbox.add(
        session,
        BatchOpened(
            batch_id=batch.id,
            number=batch.number,
            opened_at=now,
            closes_at=batch.closes_at,
            announce_at=batch.announce_at,
            quota=batch.quota,
            seed_hash=batch.seed_hash,
            policy_version=batch.policy_version,
            card=card_of(batch),
        ),
        key=batch.id,
    )
    ctx.forget_batches()
    return batch


async def close_batch(ctx: SelectionContext, session: AsyncSession, batch: Batch, actor: str) -> Batch:
    now = utcnow()
    if not await repository.move_batch(session, batch.id, "open", "closed", closed_at=now):
        raise errors.BatchState(number=batch.number, state=batch.state, needed="open")
    batch.state, batch.closed_at = "closed", now
    applications = await repository.count_applications(session, batch.id)
    await repository.log(
        session,
        batch.id,
        actor,
        "closed",
        from_state="open",
        to_state="closed",
        detail={"applications": applications},
    )
    await ctx.outbox.add(
        session,
        BatchClosed(
            batch_id=batch.id,
            number=batch.number,
            closed_at=now,
            applications=applications,
            seed=batch.seed,
            seed_hash=batch.seed_hash,
        ),
        key=batch.id,
    )
    ctx.forget_batches()
    return batch


async def approve_announcement(
    ctx: SelectionContext, session: AsyncSession, batch: Batch, approver: uuid.UUID
) -> Batch:
    """Four eyes: the approver must be another ops user than the one who ran the selection."""
    if batch.state != "decided":
        raise errors.BatchState(number=batch.number, state=batch.state, needed="decided")
    if batch.approved_by is not None:
        raise errors.AlreadyApproved()
    run = await repository.run_of(session, batch.id)
    if run is None:
        raise errors.RunNotFound()
    if run.started_by == approver:
        raise errors.ApproverIsDecider()
    batch.approved_by, batch.approved_at = approver, utcnow()
    await session.flush()
    await repository.log(session, batch.id, str(approver), "announcement_approved", detail={"run_id": str(run.id)})
    return batch


async def announce_batch(ctx: SelectionContext, session: AsyncSession, batch: Batch, actor: str) -> Batch:
    """Results become visible; every applicant is notified (set-based: one INSERT for the whole batch)."""
    if batch.state != "decided":
        raise errors.BatchState(number=batch.number, state=batch.state, needed="decided")
    if batch.approved_at is None:
        raise errors.ApprovalRequired()
    now = utcnow()
    if not await repository.move_batch(session, batch.id, "decided", "announced", announced_at=now):
        raise errors.BatchState(number=batch.number, state=batch.state, needed="decided")
    batch.state, batch.announced_at = "announced", now
    card = card_of(batch)
    params = reason_params(batch)
    not_passed = {
        stored: {
            "batch_number": batch.number,
            "reason_codes": split_codes(stored),
            "reasons": [
                {"code": code, "id": sentence(code, "id", params), "en": sentence(code, "en", params)}
                for code in split_codes(stored)
            ],
        }
        for stored in await runs_repo.distinct_reasons(session, batch.id)
    }
    requested = await runs_repo.write_announcement_requests(
        session,
        batch.id,
        passed_params={
            "batch_number": batch.number,
            **card.model_dump(),
            "incentive_total": card.incentive_amount * card.incentive_months,
        },
        not_passed_params=not_passed,
        now=now,
        source=SOURCE,
    )
    run = await repository.run_of(session, batch.id)
    counts = (run.counts or {}) if run else {}
    selected = int(counts.get("selected", 0))
    await repository.log(
        session,
        batch.id,
        actor,
        "announced",
        from_state="decided",
        to_state="announced",
        detail={"notifications": requested},
    )
    await ctx.outbox.add(
        session,
        BatchAnnounced(
            batch_id=batch.id,
            number=batch.number,
            announced_at=now,
            selected=selected,
            not_selected=int(counts.get("applications", 0)) - selected,
        ),
        key=batch.id,
    )
    ctx.forget_batches()
    return batch


async def advance_by_time(ctx: SelectionContext, now: datetime) -> int:
    """The scheduler's round: open, close and announce whatever is due. Each batch in its own transaction."""
    async with ctx.db.sessionmaker() as session, session.begin():
        due = await repository.due_batches(session, now)
    moved = 0
    for batch_id, state in due:
        async with ctx.db.sessionmaker() as session, session.begin():
            batch = await repository.batch(session, batch_id, lock=True)
            if batch is None or batch.state != state:
                continue
            try:
                if state == "scheduled":
                    await open_batch(ctx, session, batch, SCHEDULER)
                elif state == "open":
                    await close_batch(ctx, session, batch, SCHEDULER)
                else:
                    await announce_batch(ctx, session, batch, SCHEDULER)
                moved += 1
            except DomainError:
                continue  # someone else moved it first
    return moved


# Applications


async def join_blocker(
    session: AsyncSession, batch: Batch | None, account_id: uuid.UUID, applicant: Applicant | None, now: datetime
) -> DomainError | None:
    """Why this account cannot join `batch` now (None when it can)."""
    if batch is None or batch.state != "open" or now >= batch.closes_at:
        return errors.BatchNotOpen()
    if applicant is None or not applicant.profile_complete:
        return errors.ProfileIncomplete()
    if not applicant.test_complete:
        return errors.TestIncomplete()
    for _application, other, decision in await repository.applications_of(session, account_id):
        if other.id == batch.id:
            continue
        if other.state != "announced":
            return errors.ApplicationPending(number=other.number)
        if decision is not None and decision.selected:
            return errors.AlreadyRecipient()
    return None


async def join(
    ctx: SelectionContext, session: AsyncSession, batch_id: uuid.UUID, account_id: uuid.UUID
) -> tuple[Application, Batch, bool]:
    """Join the open batch; joining again returns the same application (created = False)."""
    batch = await repository.batch(session, batch_id)
    if batch is None:
        raise errors.BatchNotFound()
    existing = await repository.application(session, batch.id, account_id)
    if existing is not None:
        return existing, batch, False
    # The applicant row lock serialises one person's joins (two open batches at once stay one application).
    applicant = await repository.applicant(session, account_id, lock=True)
    blocker = await join_blocker(session, batch, account_id, applicant, utcnow())
    if blocker is not None:
        raise blocker
    created = await repository.add_application(session, batch, account_id)
    row = await repository.application(session, batch.id, account_id)
    assert row is not None
    return row, batch, created


@dataclass
class ApplicationView:
    application: Application
    batch: Batch
    decision: Decision | None

    @property
    def status(self) -> str:
        if self.batch.state == "announced" and self.decision is not None:
            return "selected" if self.decision.selected else "not_selected"
        if self.batch.state == "open":
            return "joined"
        return "awaiting_announcement"

    def reason_codes(self) -> list[str]:
        if self.status != "not_selected" or self.decision is None:
            return []
        return split_codes(self.decision.reasons)


async def dashboard(
    session: AsyncSession, account_id: uuid.UUID
) -> tuple[list[ApplicationView], Batch | None, DomainError | None]:
    """The account's applications, the open batch (if any), and why it could not join it (if so)."""
    rows = await repository.applications_of(session, account_id)
    views = [ApplicationView(a, b, d) for a, b, d in rows]
    open_batches = [b for b in await repository.batches(session) if b.state == "open"]
    current = open_batches[0] if open_batches else None
    blocker: DomainError | None = None
    if current is not None and not any(v.batch.id == current.id for v in views):
        applicant = await repository.applicant(session, account_id)
        blocker = await join_blocker(session, current, account_id, applicant, utcnow())
    return views, current, blocker


def batch_reason_texts(batch: Batch, codes: list[str], locale: Any) -> list[dict[str, str]]:
    params = reason_params(batch)
    return [{"code": code, "message": sentence(code, locale, params)} for code in codes]
