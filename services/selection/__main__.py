"""selection's command line.

  python -m services.selection dev-data              # a batch open now (make run); does nothing if one is open
  python -m services.selection verify-run --batch 14 # recompute a decided batch in plain Python and compare

verify-run checks the seed against its published SHA-256, recomputes every decision with the reference
implementation (services/selection/reference.py) from the data in force now, and compares the result hash
and each decision with what the run stored. Exit status 0 when all agree.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from datetime import timedelta

from sqlalchemy import select

from services.selection import reference, repository, service
from services.selection.config import get_settings
from services.selection.exclusions import blind_index_key
from services.selection.lottery import commitment, install_sqlite_functions
from services.selection.models import Decision, messaging
from services.selection.policy import CURRENT_POLICY, Rules
from services.selection.reasons import split_codes
from services.selection.runs import inputs_of
from services.selection.schemas import DEFAULT_CARD
from services.selection.service import SOURCE, SelectionContext
from shared.db import Database, utcnow
from shared.messaging import Outbox

DEV_ACTOR = uuid.uuid5(uuid.NAMESPACE_URL, "prakerja:selection:dev-data")


def _context() -> SelectionContext:
    settings = get_settings()
    db = Database(settings.resolved_database_url())
    install_sqlite_functions(db.engine)
    return SelectionContext(
        db=db, settings=settings, outbox=Outbox(messaging, source=SOURCE), index_key=blind_index_key(settings)
    )


async def dev_data() -> int:
    ctx = _context()
    try:
        async with ctx.db.sessionmaker() as session, session.begin():
            batches = await repository.batches(session)
            current = next((b for b in batches if b.state == "open"), None)
            if current is not None:
                print(f"batch {current.number} is open until {current.closes_at.isoformat()}")
                return 0
            now = utcnow()
            batch = await service.create_batch(
                ctx,
                session,
                actor=DEV_ACTOR,
                number=max((b.number for b in batches), default=0) + 1,
                opens_at=now,
                closes_at=now + timedelta(days=3),
                announce_at=now + timedelta(days=4),
                quota=1000,
                policy_version=CURRENT_POLICY,
                province_quotas=False,
                rules=Rules(),
                card=DEFAULT_CARD,
            )
            await service.open_batch(ctx, session, batch, str(DEV_ACTOR))
            print(f"created batch {batch.number}, open until {batch.closes_at.isoformat()}")
        return 0
    finally:
        await ctx.db.dispose()


async def verify_run(number: int) -> int:
    ctx = _context()
    try:
        async with ctx.db.sessionmaker() as session, session.begin():
            batch = await repository.batch_by_number(session, number)
            if batch is None:
                print(f"no batch {number}", file=sys.stderr)
                return 2
            run = await repository.run_of(session, batch.id)
            if run is None or run.state != "finished":
                print(f"batch {number} has no finished run", file=sys.stderr)
                return 2
            ok = commitment(run.seed) == batch.seed_hash
            print(f"seed matches its published SHA-256: {'yes' if ok else 'NO'}")
            candidates, prior_niks, prior_kk = await reference.load(session, batch.id)
            outcomes = reference.decide(candidates, inputs_of(run), prior_niks, prior_kk)
            recomputed = reference.result_hash(outcomes)
            print(f"result hash stored     {run.result_hash}\nresult hash recomputed {recomputed}")
            stored = {
                d.application_id: d
                for d in (await session.execute(select(Decision).where(Decision.batch_id == batch.id))).scalars()
            }
            differ = sum(
                1
                for o in outcomes
                if (d := stored.get(o.application_id)) is None
                or d.selected != o.selected
                or tuple(split_codes(d.reasons)) != o.reasons
            )
            print(f"decisions compared: {len(outcomes)}, differing: {differ}")
            return 0 if ok and recomputed == run.result_hash and differ == 0 else 1
    finally:
        await ctx.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.selection", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("dev-data", help="a batch open now, for make run (idempotent)")
    verify = sub.add_parser("verify-run", help="recompute a decided batch and compare")
    verify.add_argument("--batch", type=int, required=True, help="batch number")
    args = parser.parse_args(argv)
    if args.cmd == "dev-data":
        return asyncio.run(dev_data())
    return asyncio.run(verify_run(args.batch))


if __name__ == "__main__":
    sys.exit(main())
