"""assessment's HTTP routes: parse, authorise, call the rules, shape the response."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from services.assessment import banks, errors, service
from services.assessment.bank_format import VERSION_PATTERN, BankImport, locations_with_codes
from services.assessment.schemas import (
    AnswersIn,
    AnswersSaved,
    BankStats,
    BankVersionOut,
    SessionView,
    TestResult,
    TestStatus,
)
from services.assessment.service import Assessment
from shared.auth import ApplicantDep, OpsDep, RoleRequired, TokenExpired, TokenInvalid, TokenMissing
from shared.db import SessionDep
from shared.errors import locale_of, problem_responses

log = logging.getLogger("assessment.audit")

AUTH_ERRORS = (TokenMissing, TokenInvalid, TokenExpired, RoleRequired)
NO_STORE = {"Cache-Control": "no-store"}


async def _assessment(request: Request) -> Assessment:
    ctx: Assessment = request.app.state.assessment
    return ctx


AssessmentDep = Annotated[Assessment, Depends(_assessment)]
VersionPath = Annotated[str, Path(pattern=VERSION_PATTERN, examples=["2026.1"])]


class BankImportRoute(APIRoute):
    """Reports a failing section or item by its code rather than its list index (see `locations_with_codes`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                raise RequestValidationError(locations_with_codes(exc.errors(), exc.body), body=exc.body) from None

        return route


tests = APIRouter(tags=["test"])
bank_router = APIRouter(tags=["question bank (ops)"], route_class=BankImportRoute)


@tests.get(
    "/v1/tests/me",
    response_model=TestStatus,
    summary="Whether I have taken the test",
    responses=problem_responses(*AUTH_ERRORS),
)
async def my_status(principal: ApplicantDep, session: SessionDep) -> TestStatus:
    """`not_started`, `in_progress` (with its deadline) or `finished` (with the time). Scores are not shown."""
    return await service.status(session, principal.account_id)


@tests.post(
    "/v1/tests/me/session",
    response_model=SessionView,
    status_code=status.HTTP_201_CREATED,
    summary="Start the test (or resume the open one)",
    responses={
        200: {"description": "The test was already open: the same session, resumed", "model": SessionView},
        **problem_responses(errors.ProfileIncomplete, errors.AlreadyTaken, errors.NoActiveBank, *AUTH_ERRORS),
    },
)
async def start_session(
    principal: ApplicantDep, session: SessionDep, ctx: AssessmentDep, request: Request, response: Response
) -> SessionView:
    """Draws this applicant's items and starts the clock: 15 minutes from now. Allowed once the profile is
    complete. Calling it again while the test is open returns the same session (201 first, then 200); after
    the test is finished it is refused with `already_taken` (the test is taken once).
    """
    locale = locale_of(request)
    attempt, created = await service.start(ctx, session, principal.account_id, locale)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers.update({**NO_STORE, "Location": "/v1/tests/me/session", "Content-Language": locale})
    return await service.view(session, attempt, locale)


@tests.get(
    "/v1/tests/me/session",
    response_model=SessionView,
    summary="My open test: the items and the time left",
    responses=problem_responses(errors.NoSession, errors.TestFinished, errors.DeadlinePassed, *AUTH_ERRORS),
)
async def get_session(
    principal: ApplicantDep, session: SessionDep, request: Request, response: Response
) -> SessionView:
    """The drawn items in the applicant's language (`Accept-Language`), options in this applicant's order, the
    answers saved so far (`selected`) and the seconds left. Never contains correct answers or scoring keys.
    """
    locale = locale_of(request)
    attempt = await service.open_attempt(session, principal.account_id)
    response.headers.update({**NO_STORE, "Content-Language": locale})
    return await service.view(session, attempt, locale)


@tests.put(
    "/v1/tests/me/session/answers",
    response_model=AnswersSaved,
    summary="Save answers (autosave)",
    responses=problem_responses(
        errors.AnswersInvalid, errors.NoSession, errors.TestFinished, errors.DeadlinePassed, *AUTH_ERRORS
    ),
)
async def save_answers(
    body: AnswersIn, principal: ApplicantDep, session: SessionDep, ctx: AssessmentDep, request: Request
) -> AnswersSaved:
    """Stores any number of answers; a later save of an item replaces the earlier one. Choice items take an
    option key (`"B"`), likert statements a scale value (`4`). If any answer does not fit, nothing is saved and
    each failing entry is listed. After the deadline answers are refused with `deadline_passed`.
    """
    try:
        return await service.save_answers(ctx, session, principal.account_id, body.answers)
    except errors.AnswersInvalid as exc:
        raise exc.localize(locale_of(request)) from None


@tests.post(
    "/v1/tests/me/session/submit",
    response_model=TestStatus,
    summary="Finish the test",
    responses=problem_responses(errors.NoSession, *AUTH_ERRORS),
)
async def submit(principal: ApplicantDep, session: SessionDep, ctx: AssessmentDep) -> TestStatus:
    """Finishes the test with the answers saved so far; unanswered items count as not answered. A repeated
    submit, or one after the clock ran out, reports the finished test. An e-mail confirms it is done.
    """
    return await service.submit(ctx, session, principal.account_id)


@tests.get(
    "/v1/tests/{account_id}",
    response_model=TestResult,
    tags=["test results (ops)"],
    summary="An applicant's test and scores (ops)",
    responses=problem_responses(*AUTH_ERRORS),
)
async def test_result(account_id: uuid.UUID, principal: OpsDep, session: SessionDep) -> TestResult:
    """Status, per-section scores and the total (0-100; the total is the mean of the section scores). Each
    read is written to the audit log."""
    log.info("ops %s read the test result of account %s", principal.subject, account_id)
    return await service.result_for_ops(session, account_id)


@bank_router.post(
    "/v1/banks",
    response_model=BankVersionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Import a question bank version",
    responses={
        200: {"description": "This exact version was imported before; nothing changed", "model": BankVersionOut},
        **problem_responses(errors.BankVersionExists, *AUTH_ERRORS),
    },
)
async def import_bank(body: BankImport, principal: OpsDep, session: SessionDep, response: Response) -> BankVersionOut:
    """Validates the whole bank (every item complete and bilingual, one correct answer per ability item, unique
    codes, `draw` no larger than the section) and stores it, inactive. On failure nothing is stored and each
    error names its section and item by code, e.g. `body.sections.numerical.items.NUM-003.answer`.
    """
    out, created = await banks.import_bank(session, body, principal.account_id)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return out


@bank_router.get(
    "/v1/banks",
    response_model=list[BankVersionOut],
    summary="Question bank versions",
    responses=problem_responses(*AUTH_ERRORS),
)
async def list_banks(principal: OpsDep, session: SessionDep) -> list[BankVersionOut]:
    """Every imported version, newest first, with its sections and which one is active."""
    return await banks.list_versions(session)


@bank_router.post(
    "/v1/banks/{version}/activate",
    response_model=BankVersionOut,
    summary="Make a version the one new tests draw from",
    responses=problem_responses(errors.BankNotFound, *AUTH_ERRORS),
)
async def activate_bank(version: VersionPath, principal: OpsDep, session: SessionDep) -> BankVersionOut:
    """Tests started from now on use this version; tests already open keep theirs."""
    return await banks.activate(session, version, principal.account_id)


@bank_router.get(
    "/v1/banks/{version}/stats",
    response_model=BankStats,
    summary="How each item of a version fared",
    responses=problem_responses(errors.BankNotFound, *AUTH_ERRORS),
)
async def bank_stats(version: VersionPath, principal: OpsDep, session: SessionDep) -> BankStats:
    """Per item: times drawn, and over finished tests how often each option (or scale value) was chosen and
    the share answered correctly."""
    return await banks.stats(session, version)
