"""selection's public and applicant routes: batches, selection runs, joining, the dashboard."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from services.selection import errors, repository, service
from services.selection.models import Application, Batch, SelectionRun
from services.selection.policy import POLICIES
from services.selection.schemas import (
    ApplicationOut,
    BatchList,
    BatchView,
    Dashboard,
    DashboardApplication,
    OpenBatch,
    Problemish,
    ReasonOut,
    ResultOut,
    RunOut,
    wib,
)
from services.selection.service import SelectionContext, card_of, rules_of
from shared.auth import ApplicantDep
from shared.db import ReadSessionDep, SessionDep
from shared.errors import locale_of, problem_responses
from shared.i18n import Text

router = APIRouter()

STATUS_LABELS = {
    "joined": Text("Terdaftar di gelombang", "Joined the batch"),
    "awaiting_announcement": Text("Menunggu pengumuman", "Awaiting the announcement"),
    "selected": Text("Lolos", "Selected"),
    "not_selected": Text("Tidak Lolos", "Not selected"),
}


def _ctx(request: Request) -> SelectionContext:
    ctx: SelectionContext = request.app.state.selection
    return ctx


ContextDep = Annotated[SelectionContext, Depends(_ctx)]


def batch_view(batch: Batch, applications: int | None = None) -> BatchView:
    revealed = batch.state in ("closed", "decided", "announced")
    return BatchView(
        id=batch.id,
        number=batch.number,
        state=batch.state,
        opens_at=batch.opens_at,
        opens_at_wib=wib(batch.opens_at) or "",
        closes_at=batch.closes_at,
        closes_at_wib=wib(batch.closes_at) or "",
        announce_at=batch.announce_at,
        announce_at_wib=wib(batch.announce_at) or "",
        quota=batch.quota,
        policy_version=batch.policy_version,
        province_quotas=batch.province_quotas,
        rules=rules_of(batch),
        card=card_of(batch),
        seed_hash=batch.seed_hash,
        seed=batch.seed if revealed else None,
        applications=applications,
        opened_at=batch.opened_at,
        closed_at=batch.closed_at,
        decided_at=batch.decided_at,
        announced_at=batch.announced_at,
    )


def open_batch_of(batch: Batch | None) -> OpenBatch | None:
    if batch is None or batch.state != "open":
        return None
    return OpenBatch(
        id=batch.id, number=batch.number, closes_at=batch.closes_at, closes_at_wib=wib(batch.closes_at) or ""
    )


def run_view(run: SelectionRun, batch: Batch) -> RunOut:
    return RunOut(
        id=run.id,
        batch_id=batch.id,
        batch_number=batch.number,
        state=run.state,
        started_at=run.started_at,
        finished_at=run.finished_at,
        policy_version=run.policy_version,
        rules=run.rules,
        quota=run.quota,
        province_quotas=run.province_quotas,
        reference_date=run.reference_date,
        seed=run.seed,
        seed_hash=batch.seed_hash,
        counts=run.counts,
        result_hash=run.result_hash,
        # Public: the kind of failure only (the message, which may name internals, is in the logs).
        last_error=run.last_error.split(":", 1)[0] if run.last_error else None,
    )


@router.get("/v1/batches", response_model=BatchList, tags=["batches"], summary="List batches (public)")
async def list_batches(session: ReadSessionDep, ctx: ContextDep) -> Any:
    """Every batch, newest first, and which one is open now and until when. No sign-in needed.

    At a batch opening everyone asks at once, so the list may be up to a second old.
    """
    cached = ctx.cached_batches()
    if cached is not None:
        return cached
    rows = await repository.batches(session)
    current = next((b for b in rows if b.state == "open"), None)
    result = BatchList(open_batch=open_batch_of(current), items=[batch_view(b) for b in rows])
    ctx.cache_batches(result)
    return result


@router.get(
    "/v1/batches/{batch_id}",
    response_model=BatchView,
    tags=["batches"],
    summary="One batch (public)",
    responses=problem_responses(errors.BatchNotFound),
)
async def get_batch(batch_id: uuid.UUID, session: ReadSessionDep) -> BatchView:
    """The batch with its application count, the seed's SHA-256 and, once closed, the seed itself:
    anyone can check `sha256(seed) == seed_hash`."""
    batch = await repository.batch(session, batch_id)
    if batch is None:
        raise errors.BatchNotFound()
    return batch_view(batch, await repository.count_applications(session, batch.id))


@router.get(
    "/v1/batches/{batch_id}/selection-run",
    response_model=RunOut,
    tags=["batches"],
    summary="The batch's selection run (public)",
    responses=problem_responses(errors.BatchNotFound, errors.RunNotFound),
)
async def get_run(batch_id: uuid.UUID, session: ReadSessionDep) -> RunOut:
    """The run's inputs (seed, policy version, rules, quota, closing day), progress and result: counts per
    reason and tier, and `result_hash`, so anyone with the data can re-run the selection and compare.
    `python -m services.selection verify-run --batch N` does exactly that from the service's database."""
    batch = await repository.batch(session, batch_id)
    if batch is None:
        raise errors.BatchNotFound()
    run = await repository.run_of(session, batch.id)
    if run is None:
        raise errors.RunNotFound()
    return run_view(run, batch)


@router.get("/v1/policies", tags=["batches"], summary="Selection policy versions (public)")
async def policies(request: Request) -> dict[str, Any]:
    """Each policy version's priority tiers (by employment status) in the caller's language."""
    locale = locale_of(request)
    return {
        version: {
            "title": policy.title.get(locale),
            "tiers": policy.tiers,
            "default_tier": policy.default_tier,
            "tier_labels": {str(k): v.get(locale) for k, v in policy.tier_labels.items()},
        }
        for version, policy in POLICIES.items()
    }


def application_out(application: Application, batch: Batch, status_: str) -> ApplicationOut:
    return ApplicationOut(
        id=application.id,
        batch_id=batch.id,
        batch_number=batch.number,
        joined_at=application.created_at,
        status=status_,
    )


@router.post(
    "/v1/batches/{batch_id}/applications",
    response_model=ApplicationOut,
    status_code=status.HTTP_201_CREATED,
    tags=["applications"],
    summary="Join the open batch",
    responses={
        200: {"model": ApplicationOut, "description": "Already joined: the same application"},
        **problem_responses(
            errors.BatchNotFound,
            errors.BatchNotOpen,
            errors.ProfileIncomplete,
            errors.TestIncomplete,
            errors.ApplicationPending,
            errors.AlreadyRecipient,
        ),
    },
)
async def join(
    batch_id: uuid.UUID, principal: ApplicantDep, session: SessionDep, ctx: ContextDep, response: Response
) -> ApplicationOut:
    """Join with the profile and test already done; nothing to fill in. Joining twice returns the same
    application (200 instead of 201). Someone not selected in an earlier batch joins the next one the same way.
    """
    application, batch, created = await service.join(ctx, session, batch_id, principal.account_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return application_out(application, batch, "joined" if batch.state == "open" else "awaiting_announcement")


@router.get(
    "/v1/applications/me",
    response_model=Dashboard,
    tags=["applications"],
    summary="My applications and results (dashboard)",
)
async def my_applications(request: Request, principal: ApplicantDep, session: ReadSessionDep) -> Dashboard:
    """Current and past applications with status; once a batch is announced, the result: `Lolos` with the
    card's amounts, or `Tidak Lolos` with every reason in a sentence (English with `Accept-Language: en`).
    Also the open batch and whether joining it would work now (and why not)."""
    locale = locale_of(request)
    views, current, blocker = await service.dashboard(session, principal.account_id)
    items = []
    for view in views:
        result = None
        if view.status in ("selected", "not_selected"):
            selected = view.status == "selected"
            result = ResultOut(
                selected=selected,
                label=STATUS_LABELS[view.status].get(locale),
                reasons=[ReasonOut(**r) for r in service.batch_reason_texts(view.batch, view.reason_codes(), locale)],
                card=card_of(view.batch) if selected else None,
            )
        items.append(
            DashboardApplication(
                id=view.application.id,
                batch_id=view.batch.id,
                batch_number=view.batch.number,
                joined_at=view.application.created_at,
                status=view.status,
                status_label=STATUS_LABELS[view.status].get(locale),
                closes_at=view.batch.closes_at,
                announce_at=view.batch.announce_at,
                announce_at_wib=wib(view.batch.announce_at) or "",
                result=result,
            )
        )
    joined_current = current is not None and any(v.batch.id == current.id for v in views)
    return Dashboard(
        open_batch=open_batch_of(current),
        can_join=current is not None and blocker is None and not joined_current,
        join_blocker=Problemish(code=blocker.code, message=blocker.text.get(locale)) if blocker else None,
        applications=items,
    )
