"""Question bank rules: import a version, choose the active one, list versions, item statistics.

Functions that take a session never commit (the request's session dependency or the caller does).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment import errors, repository
from services.assessment.bank_format import OPTION_KEYS, BankImport, ChoiceItem, LikertItem, LikertSection
from services.assessment.models import BankVersion
from services.assessment.schemas import BankStats, BankVersionOut, ItemStats, SectionSummary
from shared.db import Database, utcnow


def content_sha256(bank: BankImport) -> str:
    """A fingerprint of the bank's content, independent of key order and whitespace in the file."""
    canonical = json.dumps(bank.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def import_bank(session: AsyncSession, bank: BankImport, by: uuid.UUID | None) -> tuple[BankVersionOut, bool]:
    """Store a new version (not active yet). Importing the same content again changes nothing (False);
    the same version with other content is refused, as sessions and scores refer to versions."""
    digest = content_sha256(bank)
    existing = await repository.bank_version(session, bank.version)
    if existing is not None:
        if existing.content_sha256 != digest:
            raise errors.BankVersionExists()
        return await version_out(session, bank.version), False
    sections = []
    items = []
    for position, section in enumerate(bank.sections):
        sections.append(
            {
                "bank_version": bank.version,
                "code": section.code,
                "position": position,
                "kind": section.kind,
                "draw": section.draw,
                "title": section.title.model_dump(),
                "instructions": section.instructions.model_dump(),
                "scale": [p.model_dump() for p in section.scale] if isinstance(section, LikertSection) else None,
            }
        )
        section_items: Sequence[ChoiceItem | LikertItem] = section.items
        for item_position, item in enumerate(section_items):
            row = {
                "bank_version": bank.version,
                "code": item.code,
                "section_code": section.code,
                "position": item_position,
                "text": item.text.model_dump(),
                "options": None,
                "answer": None,
                "reverse": None,
                "facet": None,
            }
            if isinstance(item, ChoiceItem):
                row.update(options=[o.model_dump() for o in item.options], answer=item.answer)
            else:
                row.update(reverse=item.reverse, facet=item.facet)
            items.append(row)
    version = BankVersion(
        version=bank.version,
        title=bank.title.model_dump(),
        content_sha256=digest,
        imported_at=utcnow(),
        imported_by=by,
    )
    await repository.add_bank(session, version, sections, items)
    return await version_out(session, bank.version), True


async def activate(session: AsyncSession, version: str, by: uuid.UUID | None) -> BankVersionOut:
    """New sessions draw from this version from now on; open sessions keep the version they started with."""
    if await repository.bank_version(session, version) is None:
        raise errors.BankNotFound()
    await repository.set_active_bank(session, version, utcnow(), by)
    return await version_out(session, version)


async def list_versions(session: AsyncSession) -> list[BankVersionOut]:
    versions = await repository.bank_versions(session)
    counts = await repository.section_counts(session, [v.version for v in versions])
    active = await repository.active_bank(session)
    out = []
    for version in versions:
        summaries = [
            SectionSummary(code=c.code, kind=c.kind, draw=c.draw, items=c.items)
            for c in counts
            if c.bank_version == version.version
        ]
        is_active = active is not None and active.bank_version == version.version
        out.append(
            BankVersionOut(
                version=version.version,
                title=version.title,
                active=is_active,
                imported_at=version.imported_at,
                imported_by=version.imported_by,
                activated_at=active.activated_at if is_active and active else None,
                sections=summaries,
            )
        )
    return out


async def version_out(session: AsyncSession, version: str) -> BankVersionOut:
    for out in await list_versions(session):
        if out.version == version:
            return out
    raise errors.BankNotFound()


async def stats(session: AsyncSession, version: str) -> BankStats:
    """Aggregated in SQL (GROUP BY); Python only arranges the grouped rows per item."""
    if await repository.bank_version(session, version) is None:
        raise errors.BankNotFound()
    scales = {
        s.code: [str(point["value"]) for point in s.scale or []] for s in await repository.sections_of(session, version)
    }
    chosen: dict[str, dict[str, int]] = {}
    for code, answer, times in await repository.choice_counts(session, version):
        chosen.setdefault(code, {})[answer] = times
    items = []
    for row in await repository.item_counts(session, version):
        keys = list(OPTION_KEYS) if row.kind == "choice" else scales[row.section]
        counts = {key: 0 for key in keys} | chosen.get(row.code, {})
        is_choice = row.kind == "choice"
        items.append(
            ItemStats(
                code=row.code,
                section=row.section,
                kind=row.kind,
                drawn=row.drawn,
                drawn_finished=row.drawn_finished,
                answered=row.answered,
                chosen=counts,
                correct=row.correct if is_choice else None,
                share_correct=round(row.correct / row.drawn_finished, 4) if is_choice and row.drawn_finished else None,
            )
        )
    started, finished = await repository.session_counts(session, version)
    return BankStats(version=version, sessions_started=started, sessions_finished=finished, items=items)


async def load_file(db: Database, path: Path, *, activate_if_none: bool = True) -> str:
    """Import a bank file (idempotent) and make it active when no version is; returns what happened."""
    bank = BankImport.model_validate_json(await asyncio.to_thread(path.read_bytes))
    async with db.sessionmaker() as session, session.begin():
        _, created = await import_bank(session, bank, by=None)
        activated = False
        if activate_if_none and await repository.active_bank(session) is None:
            await repository.set_active_bank(session, bank.version, utcnow(), None)
            activated = True
    done = "imported" if created else "already present"
    return f"question bank {bank.version}: {done}" + ("; now active" if activated else "")
