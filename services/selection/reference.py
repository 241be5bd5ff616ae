"""An independent, plain-Python statement of the selection: what the SQL in ranking_sql.py must produce.

It is slow (a loop per applicant) and exists to check the fast one: the tests compare both on random
populations, and `python -m services.selection verify-run` recomputes a finished run's result hash from the
database with it. Read it as the specification.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.selection.lottery import lottery_number
from services.selection.models import Applicant, Application, ExclusionHit, ExclusionList, Recipient
from services.selection.policy import AgeBounds, tier_of
from services.selection.ranking_sql import RankingInputs
from services.selection.reasons import CATEGORIES, ORDER


@dataclass
class Candidate:
    application_id: uuid.UUID
    account_id: uuid.UUID
    nik_hash: bytes | None = None
    kk_hash: bytes | None = None
    birth_date: date | None = None
    province_code: str | None = None
    employment_status: str | None = None
    is_student: bool | None = None
    profile_completed_at: datetime | None = None
    identity_revoked_at: datetime | None = None
    test_total: float | None = None
    has_applicant: bool = True
    categories: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Outcome:
    application_id: uuid.UUID
    account_id: uuid.UUID
    selected: bool
    reasons: tuple[str, ...]
    tier: int | None
    rank: int | None


def _base_reasons(c: Candidate, inputs: RankingInputs, prior_niks: set[bytes]) -> list[str]:
    bounds = AgeBounds.of(inputs.rules, inputs.reference_date)
    found: list[str] = []
    complete = (
        c.has_applicant
        and c.profile_completed_at is not None
        and (c.identity_revoked_at is None or c.identity_revoked_at < c.profile_completed_at)
    )
    if not complete:
        found.append("profile_incomplete")
    if c.test_total is None:
        found.append("test_incomplete")
    if c.profile_completed_at is not None and c.kk_hash is None:
        found.append("kk_not_linked")
    if c.birth_date is not None and not bounds.allows(c.birth_date):
        found.append("age_out_of_range")
    if c.is_student or "student" in c.categories:
        found.append("student")
    if "earlier_recipient" in c.categories or (c.nik_hash is not None and c.nik_hash in prior_niks):
        found.append("earlier_recipient")
    for category in c.categories:
        reason = CATEGORIES[category]
        if reason.startswith("excluded_"):
            found.append(reason)
    if c.test_total is not None and c.test_total < inputs.rules.pass_mark:
        found.append("test_below_pass_mark")
    return sorted(set(found), key=ORDER.__getitem__)


def _seats(quota: int, counts: dict[str, int]) -> dict[str, int]:
    """Largest remainder: each province's share of min(quota, eligible), remainders to the largest, ties by code."""
    total = sum(counts.values())
    if total == 0:
        return {}
    q = min(quota, total)
    base = {p: q * n // total for p, n in counts.items()}
    left = q - sum(base.values())
    by_remainder = sorted(counts, key=lambda p: (-(q * counts[p] % total), p))
    for p in by_remainder[:left]:
        base[p] += 1
    return base


def decide(
    candidates: list[Candidate], inputs: RankingInputs, prior_niks: set[bytes], prior_kk: dict[bytes, int]
) -> list[Outcome]:
    reasons = {c.application_id: _base_reasons(c, inputs, prior_niks) for c in candidates}
    tiers = {c.application_id: tier_of(inputs.policy, c.employment_status) for c in candidates}
    keys = {c.account_id: lottery_number(inputs.seed, c.account_id) for c in candidates}

    def order(c: Candidate) -> tuple[int, int, str]:
        return tiers[c.application_id], keys[c.account_id], str(c.account_id)

    eligible = sorted((c for c in candidates if not reasons[c.application_id]), key=order)
    per_kk: Counter[bytes] = Counter()
    contenders = []
    for c in eligible:
        assert c.kk_hash is not None
        per_kk[c.kk_hash] += 1
        if prior_kk.get(c.kk_hash, 0) + per_kk[c.kk_hash] > inputs.rules.max_per_kk:
            reasons[c.application_id] = ["kk_quota_reached"]
        else:
            contenders.append(c)
    rank = {c.application_id: i + 1 for i, c in enumerate(contenders)}
    chosen: set[uuid.UUID] = set()
    if inputs.province_quotas:
        groups: dict[str, list[Candidate]] = defaultdict(list)
        for c in contenders:
            groups[c.province_code or ""].append(c)
        seats = _seats(inputs.quota, {p: len(g) for p, g in groups.items()})
        for p, group in groups.items():
            chosen.update(c.application_id for c in group[: seats[p]])
    else:
        chosen.update(c.application_id for c in contenders[: inputs.quota])
    outcomes = []
    for c in candidates:
        selected = c.application_id in chosen
        if c.application_id in rank and not selected:
            reasons[c.application_id] = ["quota_full"]
        outcomes.append(
            Outcome(
                application_id=c.application_id,
                account_id=c.account_id,
                selected=selected,
                reasons=tuple(reasons[c.application_id]),
                tier=tiers[c.application_id] if c.has_applicant else None,
                rank=rank.get(c.application_id),
            )
        )
    return outcomes


def result_hash(outcomes: list[Outcome]) -> str:
    selected = sorted((o for o in outcomes if o.selected), key=lambda o: o.rank or 0)
    return hashlib.sha256("".join(f"{o.account_id}\n" for o in selected).encode()).hexdigest()


async def load(session: AsyncSession, batch_id: uuid.UUID) -> tuple[list[Candidate], set[bytes], dict[bytes, int]]:
    """The batch's candidates as the database holds them now (hits of lists in force), and earlier recipients."""
    p = Applicant
    query = (
        select(
            Application.id,
            Application.account_id,
            p.account_id.label("known"),
            p.nik_hash,
            p.kk_hash,
            p.birth_date,
            p.province_code,
            p.employment_status,
            p.is_student,
            p.profile_completed_at,
            p.identity_revoked_at,
            p.test_total,
        )
        .outerjoin(p, p.account_id == Application.account_id)
        .where(Application.batch_id == batch_id)
    )
    candidates = [
        Candidate(
            application_id=r.id,
            account_id=r.account_id,
            nik_hash=r.nik_hash,
            kk_hash=r.kk_hash,
            birth_date=r.birth_date,
            province_code=r.province_code,
            employment_status=r.employment_status,
            is_student=r.is_student,
            profile_completed_at=r.profile_completed_at,
            identity_revoked_at=r.identity_revoked_at,
            test_total=r.test_total,
            has_applicant=r.known is not None,
        )
        for r in (await session.execute(query)).all()
    ]
    hits: dict[bytes, set[str]] = defaultdict(set)
    for nik, category in await session.execute(
        select(ExclusionHit.nik_hash, ExclusionList.category)
        .join(ExclusionList, ExclusionList.id == ExclusionHit.list_id)
        .where(ExclusionList.status == "active")
    ):
        hits[bytes(nik)].add(category)
    for c in candidates:
        if c.nik_hash is not None:
            nik = bytes(c.nik_hash)
            c.nik_hash = nik
            c.categories = hits.get(nik, set())
        if c.kk_hash is not None:
            c.kk_hash = bytes(c.kk_hash)
    prior_niks: set[bytes] = set()
    prior_kk: Counter[bytes] = Counter()
    for prior_nik, prior_kk_hash in await session.execute(
        select(Recipient.nik_hash, Recipient.kk_hash).where(Recipient.batch_id != batch_id)
    ):
        if prior_nik is not None:
            prior_niks.add(bytes(prior_nik))
        if prior_kk_hash is not None:
            prior_kk[bytes(prior_kk_hash)] += 1
    return candidates, prior_niks, dict(prior_kk)
