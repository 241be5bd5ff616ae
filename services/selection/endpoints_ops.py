"""selection's ops routes: batch lifecycle, dry run, decide, four-eyes announcement, exclusion lists."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status

from services.selection import errors, repository, runs, service
from services.selection import repository_exclusions as excl_repo
from services.selection.endpoints import ContextDep, batch_view
from services.selection.exclusions import import_csv
from services.selection.models import Batch, ExclusionList
from services.selection.reasons import CATEGORY_LABELS
from services.selection.schemas import (
    ApprovalOut,
    BadLine,
    BatchCreate,
    BatchView,
    DecideAccepted,
    ExclusionCategory,
    ExclusionListOut,
    ExclusionSummary,
    HistoryEntry,
    SimulationOut,
    SimulationRequest,
)
from shared.auth import OpsDep
from shared.db import SessionDep, utcnow
from shared.errors import locale_of, problem_responses
from shared.events.selection import CardAmounts

router = APIRouter(tags=["ops"])


async def _batch(session: Any, batch_id: uuid.UUID, *, lock: bool = False) -> Batch:
    batch = await repository.batch(session, batch_id, lock=lock)
    if batch is None:
        raise errors.BatchNotFound()
    return batch


@router.post(
    "/v1/batches",
    response_model=BatchView,
    status_code=status.HTTP_201_CREATED,
    summary="Create a batch",
    responses=problem_responses(errors.BatchNumberTaken, errors.UnknownPolicy, errors.ClosesInPast),
)
async def create_batch(body: BatchCreate, principal: OpsDep, session: SessionDep, ctx: ContextDep) -> BatchView:
    """A scheduled batch. It opens and closes by itself at its times (or when ops say so); its lottery seed is
    drawn now and only its SHA-256 is shown until it closes."""
    batch = await service.create_batch(
        ctx,
        session,
        actor=principal.account_id,
        number=body.number,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        announce_at=body.announce_at,
        quota=body.quota,
        policy_version=body.policy_version,
        province_quotas=body.province_quotas,
        rules=body.rules,
        card=CardAmounts(**body.card.model_dump()),
    )
    return batch_view(batch, 0)


@router.post(
    "/v1/batches/{batch_id}/open",
    response_model=BatchView,
    summary="Open a batch now",
    responses=problem_responses(errors.BatchNotFound, errors.BatchState),
)
async def open_now(batch_id: uuid.UUID, principal: OpsDep, session: SessionDep, ctx: ContextDep) -> BatchView:
    """scheduled -> open before its opening time (publishes batch.opened with the seed's SHA-256)."""
    batch = await service.open_batch(
        ctx, session, await _batch(session, batch_id, lock=True), str(principal.account_id)
    )
    return batch_view(batch)


@router.post(
    "/v1/batches/{batch_id}/close",
    response_model=BatchView,
    summary="Close a batch now",
    responses=problem_responses(errors.BatchNotFound, errors.BatchState),
)
async def close_now(batch_id: uuid.UUID, principal: OpsDep, session: SessionDep, ctx: ContextDep) -> BatchView:
    """open -> closed before its closing time (publishes batch.closed, revealing the seed)."""
    batch = await service.close_batch(
        ctx, session, await _batch(session, batch_id, lock=True), str(principal.account_id)
    )
    return batch_view(batch)


@router.post(
    "/v1/batches/{batch_id}/simulation",
    response_model=SimulationOut,
    summary="Dry-run the selection",
    responses=problem_responses(errors.BatchNotFound, errors.InvalidRules),
)
async def simulate(
    batch_id: uuid.UUID, principal: OpsDep, session: SessionDep, ctx: ContextDep, body: SimulationRequest | None = None
) -> dict[str, Any]:
    """What deciding would do now, writing nothing: counts per reason, tier, province, sex and age band, the
    cut-off, and each group's selection rate. Optional what-if quota, rules or province quotas."""
    batch = await _batch(session, batch_id)
    overrides = body.model_dump(exclude_none=True) if body else {}
    inputs = runs.simulation_inputs(batch, utcnow(), overrides)
    return await runs.simulate(session, batch, inputs, ctx.settings.decide_work_mem)


@router.post(
    "/v1/batches/{batch_id}/decide",
    response_model=DecideAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Decide the batch (background run)",
    responses=problem_responses(errors.BatchNotFound, errors.BatchState, errors.DecideInProgress),
)
async def decide(
    batch_id: uuid.UUID,
    principal: OpsDep,
    session: SessionDep,
    ctx: ContextDep,
    background: BackgroundTasks,
    response: Response,
) -> DecideAccepted:
    """Starts the decide run for a closed batch and answers at once (202) with the run id; follow it at
    `status_url`. Calling it again while a run is unfinished resumes that run."""
    batch = await _batch(session, batch_id, lock=True)
    run, _created = await runs.start_decide(ctx, session, batch, principal.account_id)
    background.add_task(ctx.runner.launch, run.id)
    url = f"/v1/batches/{batch.id}/selection-run"
    response.headers["Location"] = url
    return DecideAccepted(run_id=run.id, state=run.state, status_url=url)


@router.post(
    "/v1/batches/{batch_id}/announcement-approvals",
    response_model=ApprovalOut,
    status_code=status.HTTP_201_CREATED,
    summary="Approve announcing the result (second ops user)",
    responses=problem_responses(
        errors.BatchNotFound, errors.BatchState, errors.ApproverIsDecider, errors.AlreadyApproved, errors.RunNotFound
    ),
)
async def approve(batch_id: uuid.UUID, principal: OpsDep, session: SessionDep, ctx: ContextDep) -> ApprovalOut:
    """Four eyes: an ops user other than the one who ran the selection approves its announcement (409 when
    it is the same user)."""
    batch = await service.approve_announcement(
        ctx, session, await _batch(session, batch_id, lock=True), principal.account_id
    )
    assert batch.approved_by is not None and batch.approved_at is not None
    return ApprovalOut(batch_id=batch.id, approved_by=batch.approved_by, approved_at=batch.approved_at)


@router.post(
    "/v1/batches/{batch_id}/announce",
    response_model=BatchView,
    summary="Announce the result now",
    responses=problem_responses(errors.BatchNotFound, errors.BatchState, errors.ApprovalRequired),
)
async def announce(batch_id: uuid.UUID, principal: OpsDep, session: SessionDep, ctx: ContextDep) -> BatchView:
    """decided -> announced (approved first): results appear on dashboards; the selected get an SMS, inbox
    message and e-mail, the others an inbox message and e-mail with the reasons. Without this call the
    scheduler announces an approved batch at its announcement time."""
    batch = await service.announce_batch(
        ctx, session, await _batch(session, batch_id, lock=True), str(principal.account_id)
    )
    return batch_view(batch)


@router.get(
    "/v1/batches/{batch_id}/history",
    response_model=list[HistoryEntry],
    summary="A batch's audit trail",
    responses=problem_responses(errors.BatchNotFound),
)
async def history(batch_id: uuid.UUID, principal: OpsDep, session: SessionDep) -> list[HistoryEntry]:
    """Every state move and ops action on the batch: who (or the scheduler), when, what."""
    await _batch(session, batch_id)
    return [
        HistoryEntry(
            at=e.at, actor=e.actor, action=e.action, from_state=e.from_state, to_state=e.to_state, detail=e.detail
        )
        for e in await repository.history(session, batch_id)
    ]


# Exclusion lists


def list_out(row: ExclusionList, locale: Any, matched: int | None = None) -> ExclusionListOut:
    return ExclusionListOut(
        id=row.id,
        category=row.category,
        category_label=CATEGORY_LABELS[row.category].get(locale),
        source=row.source,
        as_of=row.as_of,
        mode=row.mode,
        status=row.status,
        entries=row.entries,
        rows=row.rows,
        duplicates=row.duplicates,
        bad_rows=row.bad_rows,
        bad_lines=[BadLine(**line) for line in row.report or []],
        matched_applicants=matched,
        imported_at=row.imported_at,
        imported_by=row.imported_by,
        removed_at=row.removed_at,
        replaced_by=row.replaced_by,
    )


@router.post(
    "/v1/exclusion-lists",
    response_model=ExclusionListOut,
    status_code=status.HTTP_201_CREATED,
    summary="Import an exclusion list (CSV of NIKs)",
    responses=problem_responses(errors.ImportRefused, errors.ImportEmpty, errors.ImportNotCsv),
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def import_list(
    request: Request,
    principal: OpsDep,
    session: SessionDep,
    ctx: ContextDep,
    category: ExclusionCategory = Query(description="Which group the list names"),
    source: str = Query(min_length=1, max_length=200, description="Who sent it, e.g. BKN (never shown to applicants)"),
    as_of: date = Query(description="The date the list is valid for"),
    mode: Literal["append", "replace"] = Query(
        default="append", description="replace: this list supersedes the category's lists from the same source"
    ),
    on_bad_rows: Literal["refuse", "skip"] = Query(
        default="refuse", description="refuse: any bad row refuses the file; skip: store good rows, report bad"
    ),
) -> ExclusionListOut:
    """The body is the CSV itself (`curl --data-binary @list.csv -H 'Content-Type: text/csv'`), one NIK per
    row in the first column, read as a stream: files of millions of rows are fine. NIKs are stored only as
    their blind index, with the category, source and as-of date."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "text/plain", "application/octet-stream"):
        raise errors.ImportNotCsv()
    row, matched = await import_csv(
        session,
        key=ctx.index_key,
        chunks=request.stream(),
        category=category,
        source=source,
        as_of=as_of,
        mode=mode,
        on_bad_rows=on_bad_rows,
        imported_by=principal.account_id,
        chunk_rows=ctx.settings.exclusion_chunk_rows,
        report_lines=ctx.settings.exclusion_report_lines,
        locale=locale_of(request),
    )
    return list_out(row, locale_of(request), matched)


@router.get("/v1/exclusion-lists", response_model=ExclusionSummary, summary="Exclusion lists and their counts")
async def get_lists(
    request: Request,
    principal: OpsDep,
    session: SessionDep,
    category: ExclusionCategory | None = None,
    include_inactive: bool = Query(default=False, description="Also replaced and removed lists"),
) -> ExclusionSummary:
    """Lists in force (or all), newest first, and the entries in force per category."""
    locale = locale_of(request)
    rows = await excl_repo.lists(session, category, include_inactive)
    return ExclusionSummary(
        entries_by_category=await excl_repo.totals_by_category(session), lists=[list_out(r, locale) for r in rows]
    )


@router.get(
    "/v1/exclusion-lists/{list_id}",
    response_model=ExclusionListOut,
    summary="One exclusion list",
    responses=problem_responses(errors.ListNotFound),
)
async def get_list(list_id: int, request: Request, principal: OpsDep, session: SessionDep) -> ExclusionListOut:
    """The list's counts and, if stored with bad rows skipped, its report."""
    row = await excl_repo.get_list(session, list_id)
    if row is None:
        raise errors.ListNotFound()
    return list_out(row, locale_of(request))


@router.delete(
    "/v1/exclusion-lists/{list_id}",
    response_model=ExclusionListOut,
    summary="Remove an exclusion list",
    responses=problem_responses(errors.ListNotFound, errors.ListRemoved),
)
async def remove_list(list_id: int, request: Request, principal: OpsDep, session: SessionDep) -> ExclusionListOut:
    """The list stops counting at once; its entries are deleted in the background."""
    row = await excl_repo.get_list(session, list_id)
    if row is None:
        raise errors.ListNotFound()
    if row.status != "active":
        raise errors.ListRemoved()
    row.status, row.removed_at, row.removed_by = "removed", utcnow(), principal.account_id
    await session.flush()
    return list_out(row, locale_of(request))
