"""selection's request and response models (they are the OpenAPI docs frontends and ops read).

Times are stored and sent in UTC; every time also comes as `*_wib`, the same moment in Asia/Jakarta, which
is how the programme announces them ("pukul 12.00 WIB").
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.selection.policy import CURRENT_POLICY, Rules
from shared.errors import FieldMessage
from shared.events.selection import CardAmounts
from shared.i18n import Text

JAKARTA = ZoneInfo("Asia/Jakarta")
TIMES_ORDER = Text(
    "Waktu buka harus sebelum waktu tutup, dan waktu tutup tidak setelah waktu pengumuman.",
    "The opening time must be before the closing time, and the closing time not after the announcement.",
)
BatchStateName = Literal["scheduled", "open", "closed", "decided", "announced"]


def wib(moment: datetime | None) -> str | None:
    return moment.astimezone(JAKARTA).isoformat() if moment else None


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


DEFAULT_CARD = CardAmounts(
    training_balance=3_500_000,
    incentive_amount=600_000,
    incentive_months=4,
    survey_incentive_amount=50_000,
    survey_incentive_count=3,
)


class CardAmountsIn(StrictBody):
    """What a card of the batch carries, integer rupiah."""

    training_balance: int = Field(default=3_500_000, ge=0, le=100_000_000)
    incentive_amount: int = Field(default=600_000, ge=0, le=100_000_000, description="Per month")
    incentive_months: int = Field(default=4, ge=0, le=24)
    survey_incentive_amount: int = Field(default=50_000, ge=0, le=100_000_000, description="Per survey")
    survey_incentive_count: int = Field(default=3, ge=0, le=12)


class BatchCreate(StrictBody):
    """A new batch (gelombang). Times need an offset, e.g. `2026-03-11T12:00:00+07:00` for 12.00 WIB."""

    number: int = Field(ge=1, le=10_000, examples=[14])
    opens_at: AwareDatetime = Field(examples=["2026-03-11T12:00:00+07:00"])
    closes_at: AwareDatetime = Field(examples=["2026-03-14T12:00:00+07:00"])
    announce_at: AwareDatetime = Field(examples=["2026-03-18T12:00:00+07:00"])
    quota: int = Field(ge=1, le=10_000_000, examples=[600_000])
    policy_version: str = Field(default=CURRENT_POLICY, description="Selection policy (see GET /v1/policies)")
    province_quotas: bool = Field(
        default=False, description="Share the quota among provinces in proportion to their eligible applicants"
    )
    rules: Rules = Field(default_factory=Rules)
    card: CardAmountsIn = Field(default_factory=CardAmountsIn)

    @model_validator(mode="after")
    def _order(self) -> BatchCreate:
        if not self.opens_at < self.closes_at <= self.announce_at:
            raise FieldMessage("batch_times_order", TIMES_ORDER)
        self.opens_at = self.opens_at.astimezone(UTC)
        self.closes_at = self.closes_at.astimezone(UTC)
        self.announce_at = self.announce_at.astimezone(UTC)
        return self


class OpenBatch(BaseModel):
    """The batch applicants can join now."""

    id: uuid.UUID
    number: int
    closes_at: datetime
    closes_at_wib: str


class BatchView(BaseModel):
    """A batch as anyone sees it. `seed` stays hidden until the batch closes; `seed_hash` commits to it."""

    id: uuid.UUID
    number: int
    state: BatchStateName
    opens_at: datetime
    opens_at_wib: str
    closes_at: datetime
    closes_at_wib: str
    announce_at: datetime
    announce_at_wib: str
    quota: int
    policy_version: str
    province_quotas: bool
    rules: Rules
    card: CardAmounts
    seed_hash: str = Field(description="SHA-256 (hex) of the lottery seed, published before anyone can join")
    seed: str | None = Field(default=None, description="The lottery seed, revealed when the batch closes")
    applications: int | None = Field(default=None, description="Applications so far (on GET /v1/batches/{id})")
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    decided_at: datetime | None = None
    announced_at: datetime | None = None


class BatchList(BaseModel):
    open_batch: OpenBatch | None = Field(description="The batch open for applications now, and until when")
    items: list[BatchView]


class ApplicationOut(BaseModel):
    """An application to a batch."""

    id: uuid.UUID
    batch_id: uuid.UUID
    batch_number: int
    joined_at: datetime
    status: Literal["joined", "awaiting_announcement", "selected", "not_selected"]


class Problemish(BaseModel):
    code: str
    message: str


class ReasonOut(BaseModel):
    code: str = Field(examples=["excluded_civil_servant"])
    message: str = Field(description="The sentence the applicant reads (Indonesian, or English on request)")


class ResultOut(BaseModel):
    selected: bool
    label: str = Field(description="`Lolos` or `Tidak Lolos` (English: `Selected` / `Not selected`)")
    reasons: list[ReasonOut] = Field(description="Why not selected (empty when selected)")
    card: CardAmounts | None = Field(description="What the card carries, when selected")


class DashboardApplication(BaseModel):
    id: uuid.UUID
    batch_id: uuid.UUID
    batch_number: int
    joined_at: datetime
    status: Literal["joined", "awaiting_announcement", "selected", "not_selected"]
    status_label: str
    closes_at: datetime
    announce_at: datetime
    announce_at_wib: str
    result: ResultOut | None = Field(description="Present once the batch is announced")


class Dashboard(BaseModel):
    """Everything the applicant's dashboard shows about batches."""

    open_batch: OpenBatch | None
    can_join: bool = Field(description="True when joining the open batch would succeed now")
    join_blocker: Problemish | None = Field(description="Why joining would not succeed (None when it would)")
    applications: list[DashboardApplication] = Field(description="Newest batch first")


class DecideAccepted(BaseModel):
    run_id: uuid.UUID
    state: str
    status_url: str


class RunOut(BaseModel):
    """A decide run: its inputs and result, enough for anyone to re-run and check it.

    Selection order: tier (from the policy version), then lottery key SHA-256(seed || account_id) by its first
    8 bytes, smallest first, then account id. `result_hash` = SHA-256 of the selected account ids in that order,
    one per line.
    """

    id: uuid.UUID
    batch_id: uuid.UUID
    batch_number: int
    state: str
    started_at: datetime
    finished_at: datetime | None
    policy_version: str
    rules: Rules
    quota: int
    province_quotas: bool
    reference_date: date = Field(description="The day (Asia/Jakarta) ages are counted on: the closing day")
    seed: str
    seed_hash: str
    counts: dict[str, Any] | None
    result_hash: str | None
    last_error: str | None = Field(default=None, description="Kind of the last failure of an unfinished run")


class SimulationRequest(StrictBody):
    """What-if values for the dry run; anything left out is the batch's own."""

    quota: int | None = Field(default=None, ge=1, le=10_000_000)
    province_quotas: bool | None = None
    rules: dict[str, Any] | None = Field(default=None, description="Any of min_age, max_age, max_per_kk, pass_mark")

    @model_validator(mode="after")
    def _rules(self) -> SimulationRequest:
        if self.rules:
            Rules.model_validate({**Rules().model_dump(), **self.rules})
        return self


class SimulationOut(BaseModel):
    """What deciding would do: counts per reason, tier, province, sex and age band, and the cut-off."""

    batch_id: uuid.UUID
    quota: int
    policy_version: str
    rules: Rules
    province_quotas: bool
    reference_date: date
    applications: int
    eligible: int
    selected: int
    reasons: dict[str, int]
    cutoff: dict[str, int] | None = Field(description="The last tier reached, and how much of it got in")
    by_tier: dict[str, dict[str, Any]]
    by_province: dict[str, dict[str, Any]]
    by_sex: dict[str, dict[str, Any]]
    by_age_band: dict[str, dict[str, Any]]
    simulated_at: datetime


class ApprovalOut(BaseModel):
    batch_id: uuid.UUID
    approved_by: uuid.UUID
    approved_at: datetime


class HistoryEntry(BaseModel):
    at: datetime
    actor: str = Field(description="Ops account id, or `scheduler`")
    action: str
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any] | None


ExclusionCategory = Literal[
    "state_official",
    "legislator",
    "civil_servant",
    "military",
    "police",
    "village_official",
    "soe_executive",
    "social_aid",
    "wage_subsidy",
    "micro_business_aid",
    "earlier_recipient",
    "student",
]


class BadLine(BaseModel):
    line: int
    value: str = Field(description="The cell, masked")
    code: str
    message: str


class ExclusionListOut(BaseModel):
    """An imported list; NIKs are stored only as their blind index and are never shown."""

    id: int
    category: str
    category_label: str
    source: str
    as_of: date
    mode: Literal["append", "replace"]
    status: Literal["importing", "active", "replaced", "removed"]
    entries: int = Field(description="Distinct NIKs stored")
    rows: int = Field(description="Data rows read (header and empty lines not counted)")
    duplicates: int
    bad_rows: int
    bad_lines: list[BadLine] = Field(description="The first bad lines, when the file was stored with on_bad_rows=skip")
    matched_applicants: int | None = Field(default=None, description="Applicants found on it at import")
    imported_at: datetime
    imported_by: uuid.UUID
    removed_at: datetime | None
    replaced_by: int | None


class ExclusionSummary(BaseModel):
    entries_by_category: dict[str, int]
    lists: list[ExclusionListOut]
