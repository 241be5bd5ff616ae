"""Deciding a batch: a resumable run of set-based steps, and the dry run (simulation) ops look at first.

A run row records its inputs (seed, policy version, rules, quota, reference date) when it is created, then
moves through its steps, each one transaction that does its work and advances the state together:

  pending            -> decisions_written  every decision with its reasons, and the batch's recipients
  decisions_written  -> finished           one application.decided per decision, into the outbox; counts,
                                           result hash, batch -> decided, batch.decided

If the process dies, the step in flight rolls back and the run resumes from its recorded state (at start-up,
or when ops call decide again). The second step writes the events in parallel transactions, each ON CONFLICT
DO NOTHING on its bulk rows, so running it again after a partial failure adds nothing twice; side by side
with them it reads the counts and result hash (the decisions no longer change), then records those and
moves the batch in its last transaction. (`events_written`, the state between the two in earlier versions,
is still finished from if a run stands there.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from prometheus_client import Histogram
from pydantic import ValidationError

from services.selection import errors, repository
from services.selection import repository_runs as runs_repo
from services.selection.models import Batch, SelectionRun
from services.selection.policy import POLICIES, Rules
from services.selection.ranking_sql import RankingInputs, simulate_statement
from services.selection.reasons import split_codes
from services.selection.service import SOURCE, SelectionContext, card_of, rules_of
from shared.db import utcnow
from shared.events.selection import BatchDecided

log = logging.getLogger("selection.runs")

STEP_SECONDS = Histogram("selection_run_step_seconds", "Time of each decide step", ["step"])
STEPS = ("pending", "decisions_written", "finished")


def inputs_of(run: SelectionRun) -> RankingInputs:
    return RankingInputs(
        batch_id=run.batch_id,
        seed=run.seed,
        rules=Rules.model_validate(run.rules),
        policy=POLICIES[run.policy_version],
        quota=run.quota,
        province_quotas=run.province_quotas,
        reference_date=run.reference_date,
    )


async def start_decide(
    ctx: SelectionContext, session: Any, batch: Batch, actor: uuid.UUID
) -> tuple[SelectionRun, bool]:
    """Create the batch's run (inputs recorded now); an unfinished run is returned to be resumed."""
    existing = await repository.run_of(session, batch.id)
    if existing is not None:
        if existing.state == "finished":
            raise errors.DecideInProgress(state=existing.state)
        return existing, False
    if batch.state != "closed" or batch.closed_at is None:
        raise errors.BatchState(number=batch.number, state=batch.state, needed="closed")
    run = SelectionRun(
        id=uuid.uuid4(),
        batch_id=batch.id,
        state="pending",
        started_by=actor,
        started_at=utcnow(),
        decided_at=utcnow(),
        policy_version=batch.policy_version,
        rules=rules_of(batch).model_dump(),
        quota=batch.quota,
        province_quotas=batch.province_quotas,
        seed=batch.seed,
        reference_date=repository.jakarta_date(batch.closed_at),
        attempts=0,
    )
    session.add(run)
    await session.flush()
    await repository.log(session, batch.id, str(actor), "decide_started", detail={"run_id": str(run.id)})
    return run, True


async def step(ctx: SelectionContext, run_id: uuid.UUID) -> str:
    """Do the run's next step; returns the state it reached. The state moves in the same transaction as the
    step's writes (decisions), or right after them (events: written by parallel transactions; the counts and
    result hash: read meanwhile; then recorded with the state)."""
    async with ctx.db.sessionmaker() as session, session.begin():
        run = await repository.run_by_id(session, run_id)
        if run is None:
            raise errors.RunNotFound()
        state = run.state
    summary: tuple[dict[str, Any], str] | None = None
    if state == "decisions_written":
        with STEP_SECONDS.labels(state).time():
            if ctx.db.dialect == "postgresql":
                _, summary = await _side_by_side(_write_events(ctx, run), _summarise(ctx, run.batch_id))
            else:  # one writer at a time
                await _write_events(ctx, run)
                summary = await _summarise(ctx, run.batch_id)
    elif state == "events_written":
        with STEP_SECONDS.labels("summarise").time():
            summary = await _summarise(ctx, run.batch_id)
    async with ctx.db.sessionmaker() as session, session.begin():
        run = await repository.run_by_id(session, run_id, lock=True)
        assert run is not None
        if run.state != state:  # another worker moved it meanwhile
            return run.state
        run.attempts += 1
        if state == "pending":
            with STEP_SECONDS.labels(state).time():
                await runs_repo.tune_for_bulk(session, ctx.settings.decide_work_mem)
                written = await runs_repo.write_decisions(session, inputs_of(run))
                # Decisions are all written by this one statement or none are; recipients follow them.
                recipients = await runs_repo.write_recipients(session, run.batch_id) if written else 0
            log.info("run %s: %d decisions, %d recipients", run_id, written, recipients)
            run.state = "decisions_written"
        elif state in ("decisions_written", "events_written"):
            assert summary is not None
            with STEP_SECONDS.labels("finish").time():
                await _finish(ctx, session, run, *summary)
        run.last_error = None
        return run.state


async def _side_by_side(*work: Coroutine[Any, Any, Any]) -> list[Any]:
    """Run `work` concurrently (each on its own connection) and return their results in order. When one
    fails, the others are cancelled (their transactions roll back) before the first failure is raised, so a
    failed step leaves nothing running behind it."""
    tasks = [asyncio.ensure_future(w) for w in work]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _write_events(ctx: SelectionContext, run: SelectionRun) -> None:
    """application.decided for every decision, as bulk outbox rows. On PostgreSQL, ranges of applications
    are written by parallel transactions (the JSON lines are CPU work, and there are two cores); a range
    written twice adds nothing (ON CONFLICT DO NOTHING on the row's id), so a failure anywhere just means
    running this again."""
    async with ctx.db.sessionmaker() as session:
        batch = await repository.batch(session, run.batch_id)
        assert batch is not None
        number, card = batch.number, card_of(batch).model_dump_json()
        digits = runs_repo.chunk_digits(await runs_repo.count_decisions(session, run.batch_id))
    parts = ctx.settings.decide_parallel_writes if ctx.db.dialect == "postgresql" else 1

    async def write(part: int) -> int:
        async with ctx.db.sessionmaker() as session, session.begin():
            await runs_repo.tune_for_bulk(session, ctx.settings.decide_work_mem)
            return await runs_repo.write_decided_events(
                session, run.batch_id, number, card, run.decided_at, SOURCE, digits=digits, part=part, parts=parts
            )

    written = sum(await _side_by_side(*(write(part) for part in range(parts))))
    log.info("run %s: %d application.decided events queued", run.id, written)


async def _summarise(ctx: SelectionContext, batch_id: uuid.UUID) -> tuple[dict[str, Any], str]:
    """The run's counts and result hash. The decisions no longer change once written, so both are read
    before the run's row is locked, and on PostgreSQL side by side (two scans of a million rows, two cores)."""

    async def read(reader: Any) -> Any:
        async with ctx.db.sessionmaker() as session, session.begin():
            await runs_repo.tune_for_bulk(session, ctx.settings.decide_work_mem)
            return await reader(session, batch_id)

    if ctx.db.dialect == "postgresql":
        counts, digest = await _side_by_side(read(runs_repo.decision_counts), read(runs_repo.result_hash))
    else:
        counts, digest = await read(runs_repo.decision_counts), await read(runs_repo.result_hash)
    return counts, digest


async def _finish(ctx: SelectionContext, session: Any, run: SelectionRun, counts: dict[str, Any], digest: str) -> None:
    run.counts = counts
    run.result_hash = digest
    run.finished_at = utcnow()
    run.state = "finished"
    batch = await repository.batch(session, run.batch_id, lock=True)
    assert batch is not None
    if await repository.move_batch(session, batch.id, "closed", "decided", decided_at=run.finished_at):
        await repository.log(
            session,
            batch.id,
            str(run.started_by),
            "decided",
            from_state="closed",
            to_state="decided",
            detail={"run_id": str(run.id), "selected": run.counts["selected"], "result_hash": run.result_hash},
        )
        await ctx.outbox.add(
            session,
            BatchDecided(
                batch_id=batch.id,
                number=batch.number,
                decided_at=run.finished_at,
                run_id=run.id,
                applications=run.counts["applications"],
                selected=run.counts["selected"],
                result_hash=run.result_hash,
            ),
            key=batch.id,
        )
    ctx.forget_batches()


async def resume(ctx: SelectionContext, run_id: uuid.UUID) -> None:
    """Take the run to the end from wherever it stands; a failure is recorded on the run and re-raised."""
    while True:
        try:
            if await step(ctx, run_id) == "finished":
                return
        except Exception as exc:
            async with ctx.db.sessionmaker() as session, session.begin():
                run = await repository.run_by_id(session, run_id)
                if run is not None:
                    run.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            raise


class Runner:
    """Runs decide runs as background tasks of the app, so the decide request returns at once (202)."""

    def __init__(self, ctx: SelectionContext) -> None:
        self.ctx = ctx
        self.tasks: dict[uuid.UUID, asyncio.Task[None]] = {}

    def start(self, run_id: uuid.UUID) -> None:
        if run_id in self.tasks and not self.tasks[run_id].done():
            return
        self.tasks[run_id] = asyncio.create_task(self._run(run_id), name=f"decide-{run_id}")

    async def launch(self, run_id: uuid.UUID) -> None:
        """`start` for a response's background tasks (which run sync callables in a thread)."""
        self.start(run_id)

    async def _run(self, run_id: uuid.UUID) -> None:
        try:
            await resume(self.ctx, run_id)
            log.info("run %s finished", run_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("run %s failed; it resumes at the next start or decide call", run_id)

    async def resume_unfinished(self) -> None:
        async with self.ctx.db.sessionmaker() as session, session.begin():
            run_ids = await repository.unfinished_runs(session)
        for run_id in run_ids:
            self.start(run_id)

    async def wait(self, run_id: uuid.UUID) -> None:
        task = self.tasks.get(run_id)
        if task is not None:
            with contextlib.suppress(Exception):
                await task

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()


# Simulation


def _group() -> dict[str, int]:
    return {"applications": 0, "eligible": 0, "selected": 0}


async def simulate(session: Any, batch: Batch, inputs: RankingInputs, settings_work_mem: str) -> dict[str, Any]:
    """Counts of what deciding with `inputs` would do, aggregated in SQL then folded here (a few thousand rows)."""
    await runs_repo.tune_for_bulk(session, settings_work_mem)
    dialect = session.bind.dialect.name
    rows = (await session.execute(simulate_statement(dialect, inputs), inputs.params())).all()
    reasons: Counter[str] = Counter()
    by: dict[str, dict[str, dict[str, int]]] = {k: defaultdict(_group) for k in ("province", "tier", "sex", "age_band")}
    totals = _group()
    for row in rows:
        n = int(row.n)
        chosen = bool(row.chosen)
        eligible = chosen or row.reasons == "quota_full,"
        for code in split_codes(row.reasons):
            reasons[code] += n
        keys = {
            "province": row.province or "-",
            "tier": str(row.tier),
            "sex": row.sex or "-",
            "age_band": row.age_band or "-",
        }
        for dimension, key in keys.items():
            for group in (by[dimension][key],):
                group["applications"] += n
                group["eligible"] += n if eligible else 0
                group["selected"] += n if chosen else 0
        totals["applications"] += n
        totals["eligible"] += n if eligible else 0
        totals["selected"] += n if chosen else 0
    selected = totals["selected"]

    def shares(groups: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
        return {
            key: {
                **g,
                "selection_rate": round(g["selected"] / g["eligible"], 4) if g["eligible"] else None,
                "selected_share": round(g["selected"] / selected, 4) if selected else None,
            }
            for key, g in sorted(groups.items())
        }

    tiers = shares(by["tier"])
    reached = [t for t, g in tiers.items() if g["selected"]]
    cutoff = None
    if reached:
        last = max(reached, key=int)
        cutoff = {
            "tier": int(last),
            "selected_in_tier": tiers[last]["selected"],
            "eligible_in_tier": tiers[last]["eligible"],
        }
    return {
        "batch_id": batch.id,
        "quota": inputs.quota,
        "policy_version": inputs.policy.version,
        "rules": inputs.rules.model_dump(),
        "province_quotas": inputs.province_quotas,
        "reference_date": inputs.reference_date,
        "applications": totals["applications"],
        "eligible": totals["eligible"],
        "selected": selected,
        "reasons": dict(sorted(reasons.items())),
        "cutoff": cutoff,
        "by_tier": tiers,
        "by_province": shares(by["province"]),
        "by_sex": shares(by["sex"]),
        "by_age_band": shares(by["age_band"]),
        "simulated_at": utcnow(),
    }


def simulation_inputs(batch: Batch, now: datetime, overrides: dict[str, Any]) -> RankingInputs:
    reference = batch.closed_at or now
    try:
        rules = Rules.model_validate({**rules_of(batch).model_dump(), **(overrides.get("rules") or {})})
    except ValidationError as exc:
        raise errors.InvalidRules() from exc
    return RankingInputs(
        batch_id=batch.id,
        seed=batch.seed,
        rules=rules,
        policy=POLICIES[batch.policy_version],
        quota=overrides.get("quota") or batch.quota,
        province_quotas=(
            overrides["province_quotas"] if overrides.get("province_quotas") is not None else batch.province_quotas
        ),
        reference_date=repository.jakarta_date(reference),
    )
