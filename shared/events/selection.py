"""Events published by selection: batch (gelombang) state changes and each application's decision.

Batch events are keyed by the batch id; `application.decided` by the account id. No NIK, KK or contact data.
The lottery is commit-reveal: `batch.opened` carries the SHA-256 of the seed, `batch.closed` the seed itself,
so anyone can check one against the other and recompute every lottery key (see the selection README).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload, catalogue


class CardAmounts(BaseModel):
    """What a card of this batch carries, in integer rupiah."""

    model_config = ConfigDict(frozen=True)

    training_balance: int = Field(description="Training balance, e.g. 3500000", examples=[3_500_000])
    incentive_amount: int = Field(description="Post-training incentive per month, e.g. 600000", examples=[600_000])
    incentive_months: int = Field(description="Months the incentive is paid, e.g. 4", examples=[4])
    survey_incentive_amount: int = Field(description="Incentive per completed survey, e.g. 50000", examples=[50_000])
    survey_incentive_count: int = Field(description="Surveys that pay the survey incentive, e.g. 3", examples=[3])


@catalogue
class BatchOpened(EventPayload):
    """A batch opened for applications. `seed_hash` commits to the lottery seed revealed at close."""

    event_type = "batch.opened"
    batch_id: uuid.UUID
    number: int
    opened_at: datetime
    closes_at: datetime
    announce_at: datetime
    quota: int
    seed_hash: str = Field(description="SHA-256 (hex) of the lottery seed")
    policy_version: str
    card: CardAmounts


@catalogue
class BatchClosed(EventPayload):
    """A batch closed: no more applications. The lottery seed is revealed."""

    event_type = "batch.closed"
    batch_id: uuid.UUID
    number: int
    closed_at: datetime
    applications: int
    seed: str = Field(description="The lottery seed; SHA-256(seed) equals the seed_hash of batch.opened")
    seed_hash: str


@catalogue
class BatchDecided(EventPayload):
    """Every application of the batch has its decision (not yet announced to applicants)."""

    event_type = "batch.decided"
    batch_id: uuid.UUID
    number: int
    decided_at: datetime
    run_id: uuid.UUID
    applications: int
    selected: int
    result_hash: str = Field(description="SHA-256 of the selected account ids in selection order, one per line")


@catalogue
class BatchAnnounced(EventPayload):
    """The batch's results are public: applicants see them on the dashboard and are notified."""

    event_type = "batch.announced"
    batch_id: uuid.UUID
    number: int
    announced_at: datetime
    selected: int
    not_selected: int


@catalogue
class ApplicationDecided(EventPayload):
    """One application's decision, published once per application when the batch is decided.

    Results are public only from `batch.announced` on: a card issued for a selected applicant must stay out of
    sight until its batch is announced. `reason_codes` name every rule that failed (empty when selected);
    `quota_full` means eligible but beyond the quota.
    """

    event_type = "application.decided"
    application_id: uuid.UUID
    account_id: uuid.UUID
    batch_id: uuid.UUID
    batch_number: int
    selected: bool
    reason_codes: list[str] = Field(default_factory=list)
    card: CardAmounts | None = Field(default=None, description="Present when selected")
    decided_at: datetime
