"""The test's rules: start (or resume) a session, show it, save answers, submit, finish and score.

Functions that take a session never commit (the request's session dependency, the consumer or the sweeper
does). Finishing is a conditional UPDATE on the attempt row: whoever changes the row (submit, sweeper, another
instance) scores it and writes the events; everybody else changes nothing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment import errors, repository, scoring
from services.assessment.bank_format import OPTION_KEYS
from services.assessment.config import AssessmentSettings
from services.assessment.errors import AnswerProblem
from services.assessment.models import FINISHED, Attempt, AttemptItem, BankItem, BankSection
from services.assessment.schemas import (
    AnswerIn,
    AnswersSaved,
    ItemView,
    OptionView,
    ScaleChoice,
    SectionScoreOut,
    SectionView,
    SessionView,
    TestResult,
    TestStatus,
)
from shared.db import Database, utcnow
from shared.events.assessment import AssessmentCompleted
from shared.events.notification import NotificationRequested
from shared.i18n import Locale, Text
from shared.messaging import Outbox

TEMPLATE_COMPLETED = "assessment_completed"


@dataclass
class Assessment:
    """What the test's rules need, built once per app."""

    db: Database
    settings: AssessmentSettings
    outbox: Outbox
    # Which items and option orders an applicant gets must not be predictable: the OS's randomness.
    rng: random.Random = field(default_factory=random.SystemRandom)

    def closes_at(self, attempt: Attempt) -> datetime:
        """The deadline plus the grace for answers still on the wire."""
        return attempt.deadline_at + timedelta(seconds=self.settings.answer_grace_s)


def time_left(attempt: Attempt, now: datetime) -> int:
    return max(0, int((attempt.deadline_at - now).total_seconds()))


async def status(session: AsyncSession, account_id: uuid.UUID) -> TestStatus:
    attempt = await repository.attempt_of(session, account_id)
    if attempt is None:
        return TestStatus(status="not_started")
    return TestStatus(
        status=attempt.status,
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        finished_at=attempt.finished_at,
    )


def draw(
    sections: Sequence[BankSection], codes: dict[str, list[str]], rng: random.Random, *, shuffle_options: bool
) -> list[dict[str, object]]:
    """Each section's `draw` items at random, in random order; choice options in an order of their own."""
    rows: list[dict[str, object]] = []
    for section in sections:
        for code in rng.sample(codes[section.code], section.draw):
            order = None
            if section.kind == "choice":
                order = "".join(rng.sample(OPTION_KEYS, len(OPTION_KEYS)) if shuffle_options else OPTION_KEYS)
            rows.append({"item_code": code, "section_code": section.code, "position": len(rows), "option_order": order})
    return rows


async def start(ctx: Assessment, session: AsyncSession, account_id: uuid.UUID, locale: Locale) -> tuple[Attempt, bool]:
    """The open attempt (resumed as it is) or a new one; True when this call created it."""
    attempt = await repository.attempt_of(session, account_id)
    if attempt is None:
        if not await repository.profile_completed(session, account_id):
            raise errors.ProfileIncomplete()
        active = await repository.active_bank(session)
        if active is None:
            raise errors.NoActiveBank()
        version = active.bank_version
        rows = draw(
            await repository.sections_of(session, version),
            await repository.item_codes_by_section(session, version),
            ctx.rng,
            shuffle_options=ctx.settings.shuffle_options,
        )
        now = utcnow()
        attempt_id = uuid.uuid4()
        created = await repository.create_attempt(
            session,
            id=attempt_id,
            account_id=account_id,
            bank_version=version,
            locale=locale,
            started_at=now,
            deadline_at=now + timedelta(seconds=ctx.settings.test_duration_s),
        )
        if created:
            await repository.add_attempt_items(
                session, [{"attempt_id": attempt_id, "bank_version": version, **row} for row in rows]
            )
            new = await repository.attempt_by_id(session, attempt_id)
            assert new is not None
            return new, True
        # A concurrent start for the same account won the insert; use its attempt.
        attempt = await repository.attempt_of(session, account_id)
        assert attempt is not None
    if attempt.status == FINISHED:
        raise errors.AlreadyTaken()
    return attempt, False


async def open_attempt(session: AsyncSession, account_id: uuid.UUID) -> Attempt:
    attempt = await repository.attempt_of(session, account_id)
    if attempt is None:
        raise errors.NoSession()
    if attempt.status == FINISHED:
        raise errors.DeadlinePassed() if attempt.finish_reason == "deadline" else errors.TestFinished()
    return attempt


def _section_view(section: BankSection, locale: Locale, items: list[ItemView]) -> SectionView:
    scale = None
    if section.scale is not None:
        scale = [ScaleChoice(value=p["value"], label=p["label"][locale]) for p in section.scale]
    return SectionView(
        code=section.code,
        kind=section.kind,
        title=section.title[locale],
        instructions=section.instructions[locale],
        scale=scale,
        items=items,
    )


def _item_view(drawn: AttemptItem, item: BankItem, kind: str, locale: Locale) -> ItemView:
    """Only what the applicant needs to answer: never `answer`, `reverse` or `facet`."""
    options = None
    selected: str | int | None = drawn.answer
    if kind == "choice":
        by_key = {o["key"]: o["text"][locale] for o in item.options or []}
        options = [OptionView(key=key, text=by_key[key]) for key in drawn.option_order or sorted(by_key)]
    elif drawn.answer is not None:
        selected = int(drawn.answer)
    return ItemView(code=item.code, text=item.text[locale], options=options, selected=selected)


async def view(session: AsyncSession, attempt: Attempt, locale: Locale) -> SessionView:
    sections = await repository.sections_of(session, attempt.bank_version)
    version = await repository.bank_version(session, attempt.bank_version)
    assert version is not None
    drawn = await repository.drawn_items(session, attempt.id)
    kinds = {s.code: s.kind for s in sections}
    per_section: dict[str, list[ItemView]] = {s.code: [] for s in sections}
    for row, item in drawn:
        per_section[row.section_code].append(_item_view(row, item, kinds[row.section_code], locale))
    return SessionView(
        id=attempt.id,
        bank_version=attempt.bank_version,
        title=version.title[locale],
        locale=locale,
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        time_left_s=time_left(attempt, utcnow()),
        answered=sum(row.answer is not None for row, _ in drawn),
        total_items=len(drawn),
        sections=[_section_view(s, locale, per_section[s.code]) for s in sections if per_section[s.code]],
    )


def check_answers(
    answers: Sequence[AnswerIn], drawn: dict[str, tuple[AttemptItem, BankItem]], sections: dict[str, BankSection]
) -> dict[str, str]:
    """Every answer must name an item of this session and a value that item offers; all or nothing."""
    problems: list[AnswerProblem] = []
    accepted: dict[str, str] = {}
    for index, answer in enumerate(answers):
        where = f"body.answers.{index}"
        if answer.item in accepted:
            problems.append(
                AnswerProblem(
                    f"{where}.item",
                    "item_repeated",
                    Text(f"Soal {answer.item} dijawab dua kali.", f"Item {answer.item} is answered twice."),
                )
            )
            continue
        pair = drawn.get(answer.item)
        if pair is None:
            problems.append(
                AnswerProblem(
                    f"{where}.item",
                    "item_not_in_session",
                    Text(
                        f"Soal {answer.item} tidak ada dalam tes Anda.",
                        f"Item {answer.item} is not part of your test.",
                    ),
                )
            )
            continue
        row, item = pair
        section = sections[row.section_code]
        if section.kind == "choice":
            keys = [o["key"] for o in item.options or []]
            if isinstance(answer.answer, str) and answer.answer in keys:
                accepted[answer.item] = answer.answer
                continue
            problems.append(
                AnswerProblem(
                    f"{where}.answer",
                    "answer_not_an_option",
                    Text(
                        f"Jawaban soal {answer.item} harus salah satu pilihan: {', '.join(sorted(keys))}.",
                        f"The answer to item {answer.item} must be one of the options: {', '.join(sorted(keys))}.",
                    ),
                )
            )
        else:
            values = [p["value"] for p in section.scale or []]
            if isinstance(answer.answer, int) and answer.answer in values:
                accepted[answer.item] = str(answer.answer)
                continue
            shown = ", ".join(str(v) for v in values)
            problems.append(
                AnswerProblem(
                    f"{where}.answer",
                    "answer_not_on_scale",
                    Text(
                        f"Jawaban pernyataan {answer.item} harus salah satu nilai skala: {shown}.",
                        f"The answer to statement {answer.item} must be one of the scale values: {shown}.",
                    ),
                )
            )
    if problems:
        raise errors.AnswersInvalid(problems)
    return accepted


async def save_answers(
    ctx: Assessment, session: AsyncSession, account_id: uuid.UUID, answers: Sequence[AnswerIn]
) -> AnswersSaved:
    """Autosave: store the given answers (overwriting earlier ones) while the session is open."""
    # The row lock keeps a finisher from scoring while these answers are half written (PostgreSQL; SQLite
    # transactions are serialised anyway).
    attempt = await repository.attempt_of(session, account_id, lock=True)
    if attempt is None:
        raise errors.NoSession()
    if attempt.status == FINISHED:
        raise errors.DeadlinePassed() if attempt.finish_reason == "deadline" else errors.TestFinished()
    now = utcnow()
    if now > ctx.closes_at(attempt):
        raise errors.DeadlinePassed()
    drawn = {row.item_code: (row, item) for row, item in await repository.drawn_items(session, attempt.id)}
    sections = {s.code: s for s in await repository.sections_of(session, attempt.bank_version)}
    accepted = check_answers(answers, drawn, sections)
    await repository.save_answers(session, attempt.id, accepted, now)
    answered, total = await repository.count_answered(session, attempt.id)
    return AnswersSaved(saved=len(accepted), answered=answered, total_items=total, time_left_s=time_left(attempt, now))


async def submit(ctx: Assessment, session: AsyncSession, account_id: uuid.UUID) -> TestStatus:
    """Finish with the answers saved so far. Repeating it (or racing the sweeper) just reports the result."""
    attempt = await repository.attempt_of(session, account_id)
    if attempt is None:
        raise errors.NoSession()
    if attempt.status != FINISHED:
        now = utcnow()
        reason = "submitted" if now <= ctx.closes_at(attempt) else "deadline"
        await finish(ctx, session, attempt.id, reason, now)
    return await status(session, account_id)


async def finish(ctx: Assessment, session: AsyncSession, attempt_id: uuid.UUID, reason: str, now: datetime) -> bool:
    """Finish, score and announce an attempt, exactly once; False when it was already finished."""
    if not await repository.finish_attempt(session, attempt_id, now, reason):
        return False
    attempt = await repository.attempt_by_id(session, attempt_id)
    assert attempt is not None
    sections = await repository.sections_of(session, attempt.bank_version)
    specs = [
        scoring.SectionSpec(
            s.code,
            s.kind,
            min(p["value"] for p in s.scale) if s.scale else None,
            max(p["value"] for p in s.scale) if s.scale else None,
        )
        for s in sections
    ]
    drawn = [
        scoring.DrawnItem(row.item_code, row.section_code, row.answer, item.answer, item.reverse)
        for row, item in await repository.drawn_items(session, attempt_id)
    ]
    drawn_sections = {item.section for item in drawn}
    result = scoring.score([s for s in specs if s.code in drawn_sections], drawn)
    await repository.store_scores(
        session,
        attempt_id,
        result.total,
        [
            {
                "section_code": s.code,
                "kind": s.kind,
                "score": s.score,
                "items": s.items,
                "answered": s.answered,
                "correct": s.correct,
            }
            for s in result.sections
        ],
    )
    await ctx.outbox.add(
        session,
        AssessmentCompleted(
            account_id=attempt.account_id,
            bank_version=attempt.bank_version,
            scores=result.by_section(),
            total=result.total,
            finished_at=now,
        ),
        key=attempt.account_id,
    )
    applicant = await repository.applicant(session, attempt.account_id)
    # The address is identity's: notification resolves it from the account id (email stays None here).
    await ctx.outbox.add(
        session,
        NotificationRequested(
            account_id=attempt.account_id,
            template=TEMPLATE_COMPLETED,
            channels=["inbox", "email"],
            locale=(applicant.locale if applicant else attempt.locale),
            params={"full_name": applicant.full_name if applicant else ""},
        ),
        key=attempt.account_id,
    )
    return True


async def result_for_ops(session: AsyncSession, account_id: uuid.UUID) -> TestResult:
    attempt = await repository.attempt_of(session, account_id)
    if attempt is None:
        return TestResult(account_id=account_id, status="not_started")
    scores = await repository.section_scores(session, attempt.id) if attempt.status == FINISHED else []
    return TestResult(
        account_id=account_id,
        status=attempt.status,
        bank_version=attempt.bank_version,
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        finished_at=attempt.finished_at,
        finish_reason=attempt.finish_reason,
        total=attempt.total_score,
        sections=[
            SectionScoreOut(
                section=s.section_code,
                kind=s.kind,
                score=s.score,
                items=s.items,
                answered=s.answered,
                correct=s.correct,
            )
            for s in scores
        ],
    )
