"""assessment's command line: question banks and the deadline sweeper.

  python -m services.assessment dev-data                 # load bank/v1.json, active if none is (make run)
  python -m services.assessment check-bank bank/v2.json  # validate a bank file, print what it holds
  python -m services.assessment import-bank bank/v2.json [--activate]
  python -m services.assessment sweep                    # finish sessions past their deadline, once

Importing the same file twice changes nothing. The running app sweeps on its own (ASSESSMENT_RUN_SWEEPER).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from services.assessment import banks, errors, repository
from services.assessment.bank_format import BankImport, ChoiceSection, LikertSection
from services.assessment.config import get_settings
from services.assessment.models import messaging
from services.assessment.service import Assessment
from services.assessment.sweeper import sweep
from shared.db import Database, utcnow
from shared.messaging import Outbox


def _summary(bank: BankImport) -> str:
    lines = [f"version {bank.version}: {bank.title.en}"]
    for section in bank.sections:
        line = f"  {section.code:<12} {section.kind:<7} items={len(section.items):<4} draw={section.draw}"
        if isinstance(section, LikertSection):
            reverse = sum(item.reverse for item in section.items)
            facets = Counter(item.facet for item in section.items)
            line += f" reverse={reverse} facets=" + ", ".join(f"{f}:{n}" for f, n in sorted(facets.items()))
        elif isinstance(section, ChoiceSection):
            answers = Counter(item.answer for item in section.items)
            line += " answers=" + " ".join(f"{k}:{answers.get(k, 0)}" for k in "ABCD")
        lines.append(line)
    return "\n".join(lines)


def _problems(exc: ValidationError, raw: bytes) -> str:
    import json

    from services.assessment.bank_format import locations_with_codes

    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    located = locations_with_codes([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()], body)
    return "\n".join(f"  - {'.'.join(str(p) for p in e['loc'][1:]) or '(bank)'}: {e['msg']}" for e in located)


def _load(path: Path) -> BankImport | None:
    raw = path.read_bytes()
    try:
        return BankImport.model_validate_json(raw)
    except ValidationError as exc:
        print(f"{path}: {exc.error_count()} problem(s)\n{_problems(exc, raw)}", file=sys.stderr)
        return None


async def _import(path: Path, activate: bool) -> int:
    bank = _load(path)
    if bank is None:
        return 1
    db = Database(get_settings().resolved_database_url())
    try:
        async with db.sessionmaker() as session, session.begin():
            _, created = await banks.import_bank(session, bank, by=None)
            if activate:
                await repository.set_active_bank(session, bank.version, utcnow(), None)
        print(
            f"question bank {bank.version}: {'imported' if created else 'already present'}"
            + ("; now active" if activate else "")
        )
        return 0
    except errors.BankVersionExists as exc:
        print(f"error: {exc.text.en}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()


async def _dev_data() -> int:
    settings = get_settings()
    db = Database(settings.resolved_database_url())
    try:
        print(await banks.load_file(db, settings.seed_bank_path))
        return 0
    finally:
        await db.dispose()


async def _sweep() -> int:
    settings = get_settings()
    db = Database(settings.resolved_database_url())
    try:
        ctx = Assessment(db=db, settings=settings, outbox=Outbox(messaging, source="prakerja/assessment"))
        print(f"finished {await sweep(ctx)} session(s) past their deadline")
        return 0
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.assessment", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("dev-data", help="load the seed bank (idempotent); make it active if none is")
    check = sub.add_parser("check-bank", help="validate a bank file without storing it")
    check.add_argument("path", type=Path)
    load = sub.add_parser("import-bank", help="import a bank file (idempotent)")
    load.add_argument("path", type=Path)
    load.add_argument("--activate", action="store_true", help="make it the active version")
    sub.add_parser("sweep", help="finish every session past its deadline, once")
    args = parser.parse_args(argv)
    if args.cmd == "check-bank":
        bank = _load(args.path)
        if bank is None:
            return 1
        print(_summary(bank) + "\nOK")
        return 0
    if args.cmd == "import-bank":
        return asyncio.run(_import(args.path, args.activate))
    if args.cmd == "sweep":
        return asyncio.run(_sweep())
    return asyncio.run(_dev_data())


if __name__ == "__main__":
    sys.exit(main())
