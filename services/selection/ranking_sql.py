"""The eligibility and ranking query, one set-based statement over a whole batch, on both backends.

The query is a chain of CTEs ending in `ranked`, one row per application:

  excl        per NIK on a list in force or among an earlier batch's recipients, the bits of the rules that
              puts it under (one lookup table for both sources);
  cand        every application joined with the applicant projection and `excl`; `failed` has a bit set
              for every rule that fails on its own (profile, test, KK link, age, student, earlier recipient,
              each exclusion category, pass mark), bit k for the k-th of those in the order of
              reasons.REASONS (integer arithmetic: building the reasons text for a million rows here cost a
              second); the lottery number drawn at joining, and `draw`, the selection order in one integer;
  kk          those that fail no rule, each marked `kk_over` when past `max_per_kk` within its family card,
              counting the KK's earlier recipients and then this batch's members in selection order (one
              window over the family cards: no count, join-back or anti-join);
  ordered     the other contenders' rank in selection order (tier, lottery number, account id), overall and
              within the province; with province quotas, each province's seats (largest remainder,
              proportional to its contenders);
  ranked      every application once: chosen within the quota (or its province's seats), else why not
              ('code,code,', spelled out from `failed` only for the applications that failed a rule).

`decide` inserts `ranked` into decisions; `simulate` aggregates it. Both are the same CTE chain (a
simulation's rows also carry sex and birth date, which it breaks its shares down by), so a simulation shows
exactly what deciding would do. Parameters are bound, never formatted in; only the dialect's spelling
(hash function, booleans, the exclusion mask's aggregate) and the tier table's length vary the text.
"""

# SQL text here is composed from constants and table names only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Float, Integer, String, TextClause, bindparam, text

from services.selection.policy import AGE_BANDS, AgeBounds, Policy, Rules, born_on_or_before
from services.selection.reasons import CATEGORIES
from shared.db import GUID

# (reason code, SQL condition on the joined row or None) in the order of reasons.REASONS, up to the KK cap.
# The exclusion lists and earlier recipients are looked up per NIK in `excl`, which gives each NIK its rules'
# bits at once (a few hundred thousand rows); a rule with no condition here fails only through those bits.
_PROFILE_INCOMPLETE = (
    "p.account_id IS NULL OR p.profile_completed_at IS NULL "
    "OR (p.identity_revoked_at IS NOT NULL AND p.identity_revoked_at >= p.profile_completed_at)"
)


def _base_rules() -> list[tuple[str, str | None]]:
    excluded: list[tuple[str, str | None]] = [
        (reason, None) for reason in CATEGORIES.values() if reason.startswith("excluded_")
    ]
    return [
        ("profile_incomplete", _PROFILE_INCOMPLETE),
        ("test_incomplete", "p.test_total IS NULL"),
        ("kk_not_linked", "p.profile_completed_at IS NOT NULL AND p.kk_hash IS NULL"),
        ("age_out_of_range", "p.birth_date <= :oldest_excluded OR p.birth_date > :youngest_allowed"),
        ("student", "p.is_student"),  # and the students' list
        ("earlier_recipient", None),  # the list of earlier recipients, and this programme's own
        *excluded,
        ("test_below_pass_mark", "p.test_total < :pass_mark"),
    ]


def _bit(rules: list[tuple[str, str | None]], code: str) -> int:
    return 1 << next(k for k, (c, _) in enumerate(rules) if c == code)


@dataclass(frozen=True)
class RankingInputs:
    """Everything the ranking depends on; a run records these before it writes anything."""

    batch_id: Any
    seed: str
    rules: Rules
    policy: Policy
    quota: int
    province_quotas: bool
    reference_date: date  # the day the batch closed, in Asia/Jakarta

    def params(self) -> dict[str, Any]:
        bounds = AgeBounds.of(self.rules, self.reference_date)
        values: dict[str, Any] = {
            "batch_id": self.batch_id,
            "seed": self.seed,
            "max_per_kk": self.rules.max_per_kk,
            "pass_mark": float(self.rules.pass_mark),
            "oldest_excluded": bounds.oldest_birth_excluded,
            "youngest_allowed": bounds.youngest_birth_allowed,
            "quota": self.quota,
            "default_tier": self.policy.default_tier,
        }
        for i, (status, tier) in enumerate(sorted(self.policy.tiers.items())):
            values[f"tier_status_{i}"] = status
            values[f"tier_value_{i}"] = tier
        for i, years in enumerate(_band_floors()):
            values[f"band_{i}"] = born_on_or_before(self.reference_date, years)
        return values


def _band_floors() -> list[int]:
    """Ages at which each band starts, plus one past the last band's end."""
    return [low for _label, low, _high in AGE_BANDS] + [AGE_BANDS[-1][2] + 1]


def _tier_case(policy: Policy) -> str:
    whens = " ".join(f"WHEN :tier_status_{i} THEN :tier_value_{i}" for i in range(len(policy.tiers)))
    return f"CASE p.employment_status {whens} ELSE :default_tier END"


def draw_key(tier_sql: str, lottery_sql: str) -> str:
    """One integer whose order is the selection order up to the lottery number's first 56 bits: the tier
    (0..127) in the top bits, above the lottery number shifted into 0..2**56-1. Sorting a million rows on it
    compares integers; sorting on (tier, lottery) compared the tier first, equal for nearly every pair, then
    the lottery. Ties on it (equal tier and 56 bits) still go by the full lottery number, then account id."""
    return f"(CAST({tier_sql} AS BIGINT) * 72057594037927936 + ({lottery_sql} >> 8) + 36028797018963968)"


def _exclusions_cte(rules: list[tuple[str, str | None]], dialect: str) -> str:
    """Per NIK hash on a list in force or among an earlier batch's recipients: the bits of the rules that
    puts it under (`mask`). The lists' hits and the recipients are one table, so each application is looked
    up once. Each row gives one bit; PostgreSQL ORs them (bit_or: one aggregate per NIK); SQLite, which has
    no bit_or, adds up the max of each bit (two lists for one rule set it once either way)."""
    by_bit: dict[int, list[str]] = {}
    for category, reason in sorted(CATEGORIES.items()):
        by_bit.setdefault(_bit(rules, reason), []).append(category)
    prior_bit = _bit(rules, "earlier_recipient")
    conditions = []
    for bit, categories in sorted(by_bit.items()):
        names = ", ".join(f"'{c}'" for c in categories)
        conditions.append((f"h.category IN ({names})" + (" OR h.prior = 1" if bit == prior_bit else ""), bit))
    if dialect == "postgresql":
        whens = "\n      ".join(f"WHEN {condition} THEN {bit}" for condition, bit in conditions)
        mask = f"bit_or(CASE\n      {whens}\n      ELSE 0 END)"
    else:
        mask = "\n      + ".join(f"max(CASE WHEN {condition} THEN {bit} ELSE 0 END)" for condition, bit in conditions)
    return f"""excl AS (
  SELECT h.nik_hash,
    {mask} AS mask
  FROM (
    SELECT e.nik_hash, l.category, 0 AS prior
    FROM exclusion_hits e JOIN exclusion_lists l ON l.id = e.list_id AND l.status = 'active'
    UNION ALL
    SELECT r.nik_hash, NULL, 1 FROM recipients r WHERE r.batch_id <> :batch_id
  ) h
  GROUP BY h.nik_hash
)"""


def ranked_ctes(dialect: str, inputs: RankingInputs, *, profile: bool = False) -> str:
    """`WITH ... ranked AS (...)`: the CTE chain every run and simulation selects from. With `profile`, the
    rows also carry sex and birth date (what a simulation breaks its shares down by; a decide does not
    write them, and carrying them through its sorts costs a tenth of a second a million rows)."""
    rules = _base_rules()
    own = "\n      + ".join(
        f"CASE WHEN {cond} THEN {1 << k} ELSE 0 END" for k, (_code, cond) in enumerate(rules) if cond is not None
    )
    failed = f"({own}) | COALESCE(x.mask, 0)"
    reasons = " || ".join(
        f"CASE WHEN c.failed & {1 << k} <> 0 THEN '{code},' ELSE '' END" for k, (code, _) in enumerate(rules)
    )
    tier = _tier_case(inputs.policy)
    order = "ORDER BY e.draw, e.lottery, e.account_id"
    if inputs.province_quotas:
        seats = """,
prov AS (SELECT province, count(*) AS n FROM contenders GROUP BY province),
tot AS (
  SELECT total, CASE WHEN total < :quota THEN total ELSE :quota END AS q
  FROM (SELECT CAST(COALESCE(sum(n), 0) AS BIGINT) AS total FROM prov) s
),
alloc AS (
  SELECT prov.province, (tot.q * prov.n) / tot.total AS base, (tot.q * prov.n) % tot.total AS rem, tot.q AS q
  FROM prov CROSS JOIN tot
),
seats AS (
  SELECT province,
    base + CASE WHEN row_number() OVER (ORDER BY rem DESC, province) <= q - sum(base) OVER () THEN 1 ELSE 0 END
      AS seats
  FROM alloc
)"""
        prov_rank = f",\n    row_number() OVER (PARTITION BY e.province {order}) AS prov_rank"
        within = "o.prov_rank <= s.seats"
        seats_join = "LEFT JOIN seats s ON s.province = o.province"
    else:
        seats = prov_rank = seats_join = ""
        within = "o.rank <= :quota"
    shown = ["sex", "birth_date"] if profile else []
    carried = "".join(f" p.{c}," for c in shown)
    cols = ["application_id", "account_id", "nik_hash", "kk_hash", *shown, "province", "tier"]

    def select(alias: str) -> str:
        return ", ".join(f"{alias}.{c}" for c in cols)

    return f"""WITH {_exclusions_cte(rules, dialect)},
prior_kk AS (
  SELECT r.kk_hash, count(*) AS n FROM recipients r
  WHERE r.batch_id <> :batch_id AND r.kk_hash IS NOT NULL
  GROUP BY r.kk_hash
),
cand AS MATERIALIZED (
  SELECT a.id AS application_id, a.account_id, a.lottery, p.nik_hash, p.kk_hash,{carried}
    COALESCE(p.province_code, '') AS province,
    {tier} AS tier,
    {draw_key(tier, "a.lottery")} AS draw,
    ({failed}) AS failed
  FROM applications a
  LEFT JOIN applicants p ON p.account_id = a.account_id
  LEFT JOIN excl x ON x.nik_hash = p.nik_hash
  WHERE a.batch_id = :batch_id
),
kk AS MATERIALIZED (
  SELECT e.*,
    CASE WHEN e.kk_hash IS NOT NULL
      AND COALESCE(pk.n, 0) + row_number() OVER (PARTITION BY e.kk_hash {order}) > :max_per_kk
    THEN 1 ELSE 0 END AS kk_over
  FROM cand e LEFT JOIN prior_kk pk ON pk.kk_hash = e.kk_hash
  WHERE e.failed = 0
),
contenders AS (
  SELECT e.* FROM kk e WHERE e.kk_over = 0
){seats},
ordered AS (
  SELECT {select("e")}, row_number() OVER ({order}) AS rank{prov_rank}
  FROM contenders e
),
ranked AS (
  SELECT {select("o")}, o.rank,
    CASE WHEN {within} THEN 1 ELSE 0 END AS chosen,
    CASE WHEN {within} THEN '' ELSE 'quota_full,' END AS reasons
  FROM ordered o {seats_join}
  UNION ALL
  SELECT {select("e")}, NULL, 0, 'kk_quota_reached,'
  FROM kk e WHERE e.kk_over = 1
  UNION ALL
  SELECT {select("c")}, NULL, 0, {reasons}
  FROM cand c WHERE c.failed <> 0
)"""


def _bind(sql: str, inputs: RankingInputs) -> TextClause:
    types: dict[str, Any] = {
        "batch_id": GUID(),
        "seed": String(),
        "max_per_kk": Integer(),
        "pass_mark": Float(),
        "oldest_excluded": Date(),
        "youngest_allowed": Date(),
        "quota": Integer(),
        "default_tier": Integer(),
    }
    for i in range(len(inputs.policy.tiers)):
        types[f"tier_status_{i}"] = String()
        types[f"tier_value_{i}"] = Integer()
    for i in range(len(_band_floors())):
        types[f"band_{i}"] = Date()
    present = [bindparam(name, type_=type_) for name, type_ in types.items() if f":{name}" in sql]
    return text(sql).bindparams(*present)


def decide_statement(dialect: str, inputs: RankingInputs, table: str = "decisions") -> TextClause:
    """Insert every application's decision into `table` (decisions, or on PostgreSQL the batch's new partition),
    in primary-key order. A plain INSERT (no ON CONFLICT: its speculative insertion costs a fifth of the run):
    the decisions are written once, in the step's one transaction under the run's row lock, and writing them
    again fails (on the primary key, or on the partition that exists already)."""
    selected = "r.chosen = 1"
    sql = f"""{ranked_ctes(dialect, inputs)}
INSERT INTO {table} (batch_id, application_id, account_id, selected, reasons, tier, rank, province_code,
  nik_hash, kk_hash)
SELECT :batch_id, r.application_id, r.account_id, {_bool(dialect, selected)}, r.reasons, r.tier, r.rank,
  NULLIF(r.province, ''),
  CASE WHEN {selected} THEN r.nik_hash END, CASE WHEN {selected} THEN r.kk_hash END
FROM ranked r WHERE true ORDER BY r.application_id
"""
    return _bind(sql, inputs)


def _bool(dialect: str, condition: str) -> str:
    return f"({condition})" if dialect == "postgresql" else f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _age_band_case() -> str:
    """Band of the age on the reference date, by comparing birth dates with each band's floor."""
    labels = [f"<{AGE_BANDS[0][1]}"] + [label for label, _low, _high in AGE_BANDS]
    whens = " ".join(f"WHEN r.birth_date > :band_{i} THEN '{label}'" for i, label in enumerate(labels))
    return f"CASE WHEN r.birth_date IS NULL THEN NULL {whens} ELSE '>{AGE_BANDS[-1][2]}' END"


def simulate_statement(dialect: str, inputs: RankingInputs) -> TextClause:
    """The ranked rows aggregated by reasons, tier, province, sex and age band (a few thousand groups)."""
    sql = f"""{ranked_ctes(dialect, inputs, profile=True)}
SELECT r.reasons, r.tier, r.province, r.sex, {_age_band_case()} AS age_band, r.chosen,
  count(*) AS n, max(CASE WHEN r.chosen = 1 THEN r.rank END) AS last_rank
FROM ranked r
GROUP BY r.reasons, r.tier, r.province, r.sex, {_age_band_case()}, r.chosen"""
    return _bind(sql, inputs)
