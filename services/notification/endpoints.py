"""notification's HTTP routes: the applicant's inbox and the ops view of deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.notification import errors, repository, service
from services.notification.models import Notification
from services.notification.schemas import (
    Channel,
    DeliveryPage,
    DeliveryStatus,
    DeliveryView,
    InboxItem,
    InboxPage,
    ReadAllResult,
)
from services.notification.service import Notifier
from shared.auth import ApplicantDep, OpsDep, RoleRequired, TokenExpired, TokenInvalid, TokenMissing
from shared.db import SessionDep
from shared.errors import locale_of, problem_responses

router = APIRouter()

AUTH_ERRORS = (TokenMissing, TokenInvalid, TokenExpired, RoleRequired)


def _item(row: Notification, request: Request) -> InboxItem:
    """The message in the language the client asks for, else in the account's own."""
    locale = locale_of(request) if request.headers.get("accept-language") else row.locale
    locale = "en" if locale == "en" else "id"
    title, body = row.text_in(locale)
    return InboxItem(
        id=row.id,
        template=row.template,
        locale=locale,
        title=title,
        body=body,
        created_at=row.created_at,
        read_at=row.read_at,
    )


async def _notifier(request: Request) -> Notifier:
    ctx: Notifier = request.app.state.notifier
    return ctx


NotifierDep = Annotated[Notifier, Depends(_notifier)]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1-100)")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page; omit for the first page")
]


@router.get(
    "/v1/notifications/me",
    response_model=InboxPage,
    tags=["inbox"],
    summary="My inbox, newest first",
    responses=problem_responses(errors.InvalidCursor, *AUTH_ERRORS),
)
async def my_inbox(
    request: Request,
    principal: ApplicantDep,
    session: SessionDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    unread_only: Annotated[bool, Query(description="Only messages not read yet")] = False,
) -> InboxPage:
    """The signed-in applicant's messages (welcome, test done, NIK claim outcome, ...) with the unread count.

    Page through with `next_cursor`; messages that arrive meanwhile do not shift the pages.
    """
    after = service.decode_cursor(cursor)
    rows = await repository.inbox_page(
        session, principal.account_id, limit=limit + 1, after=after, unread_only=unread_only
    )
    page, more = rows[:limit], len(rows) > limit
    return InboxPage(
        items=[_item(row, request) for row in page],
        unread_count=await repository.unread_count(session, principal.account_id),
        next_cursor=service.encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


@router.post(
    "/v1/notifications/me/read-all",
    response_model=ReadAllResult,
    tags=["inbox"],
    summary="Mark every message read",
    responses=problem_responses(*AUTH_ERRORS),
)
async def read_all(principal: ApplicantDep, session: SessionDep, ctx: NotifierDep) -> ReadAllResult:
    """Marks all unread messages of the signed-in applicant read."""
    marked = await service.mark_all_read(ctx, session, principal.account_id)
    return ReadAllResult(marked=marked, unread_count=0)


@router.post(
    "/v1/notifications/me/{notification_id}/read",
    response_model=InboxItem,
    tags=["inbox"],
    summary="Mark one message read",
    responses=problem_responses(errors.NotificationNotFound, *AUTH_ERRORS),
)
async def read_one(
    notification_id: uuid.UUID, request: Request, principal: ApplicantDep, session: SessionDep, ctx: NotifierDep
) -> InboxItem:
    """Marks the message read (again is harmless: the first read time is kept). Someone else's id is 404."""
    row = await service.mark_read(ctx, session, principal.account_id, notification_id)
    return _item(row, request)


@router.get(
    "/v1/deliveries",
    response_model=DeliveryPage,
    tags=["ops"],
    summary="Delivery status (ops)",
    responses=problem_responses(errors.InvalidCursor, *AUTH_ERRORS),
)
async def deliveries(
    _ops: OpsDep,
    session: SessionDep,
    account_id: Annotated[uuid.UUID | None, Query(description="Only this account's deliveries")] = None,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this status")] = None,
    channel: Annotated[Channel | None, Query(description="Only this channel")] = None,
    template: Annotated[str | None, Query(max_length=64, description="Only this template")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> DeliveryPage:
    """Every e-mail, SMS and inbox message the service was asked to deliver, newest first, with its status,
    attempts and last error. For support ("I got no confirmation e-mail") and for watching a gateway outage
    (`status=pending`, `status=failed`). Addresses are masked and message content is not shown.
    """
    rows = await repository.deliveries_page(
        session,
        account_id=account_id,
        status=status,
        channel=channel,
        template=template,
        limit=limit + 1,
        after=service.decode_cursor(cursor),
    )
    page, more = rows[:limit], len(rows) > limit
    return DeliveryPage(
        items=[DeliveryView.model_validate(row) for row in page],
        next_cursor=service.encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )
