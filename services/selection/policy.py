"""The selection policy: eligibility rules as data (per batch) and versioned priority policies.

A batch stores its `rules` (numbers ops choose: age range, recipients per family card, test pass mark) and
the `policy_version` it is selected under. A policy version is immutable once published: changing how
applicants are prioritised means a new version, so an old batch's run can always be recomputed exactly.

Selection order, under every version: priority tier (lower first), then the lottery key
SHA-256(seed || account_id) ascending by its first 8 bytes (lottery.lottery_number), then account id.
Never first come, first served: the time of joining plays no part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.errors import FieldMessage
from shared.i18n import Text


class Rules(BaseModel):
    """Eligibility numbers of one batch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_age: int = Field(default=18, ge=0, le=120, description="Youngest age allowed, on the day the batch closes")
    max_age: int = Field(default=64, ge=0, le=120, description="Oldest age allowed, on the day the batch closes")
    max_per_kk: int = Field(
        default=2, ge=1, le=20, description="Recipients per family card (KK), earlier batches included"
    )
    pass_mark: float = Field(default=50.0, ge=0, le=100, description="Lowest test total (0-100) that passes")

    @model_validator(mode="after")
    def _ages(self) -> Rules:
        if self.min_age > self.max_age:
            raise FieldMessage(
                "age_range_order",
                Text("Usia minimal tidak boleh di atas usia maksimal.", "min_age must not be above max_age."),
            )
        return self


MAX_TIER = 127  # the ranking sorts on one integer with the tier in its top 7 bits (ranking_sql.draw_key)


@dataclass(frozen=True)
class Policy:
    version: str
    title: Text
    # Employment status -> tier (1 first). Statuses not named fall in `default_tier`.
    tiers: dict[str, int]
    default_tier: int
    tier_labels: dict[int, Text]

    def __post_init__(self) -> None:
        for tier in (*self.tiers.values(), self.default_tier):
            if not 0 <= tier <= MAX_TIER:
                raise ValueError(f"policy {self.version}: tier {tier} outside 0..{MAX_TIER}")


POLICIES: dict[str, Policy] = {
    "2026.1": Policy(
        version="2026.1",
        title=Text(
            "Prioritas korban PHK dan pekerja yang dirumahkan, lalu pencari kerja, lalu lainnya; undian di tiap "
            "tingkat prioritas.",
            "Laid-off and furloughed workers first, then job seekers, then everyone else; a lottery within each tier.",
        ),
        tiers={"laid_off": 1, "furloughed": 1, "not_working": 2},
        default_tier=3,
        tier_labels={
            1: Text("Korban PHK atau dirumahkan", "Laid off or furloughed"),
            2: Text("Tidak bekerja / pencari kerja", "Not working / job seeker"),
            3: Text("Bekerja atau usaha mikro", "Working or micro-business"),
        },
    ),
}
CURRENT_POLICY = "2026.1"


def tier_of(policy: Policy, employment_status: str | None) -> int:
    return policy.tiers.get(employment_status or "", policy.default_tier)


def age_on(birth: date, on: date) -> int:
    """Completed years on `on` (someone born on 29 February turns a year older on 1 March in common years)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def born_on_or_before(on: date, years: int) -> date:
    """The latest birth date of someone at least `years` old on `on`: age_on(b, on) >= years iff b <= this."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February in a common year
        return date(on.year - years, 2, 28)


@dataclass(frozen=True)
class AgeBounds:
    """`min_age <= age <= max_age` as two birth-date bounds, so SQL compares dates and never computes ages."""

    oldest_birth_excluded: date  # born on or before this: older than max_age
    youngest_birth_allowed: date  # born after this: younger than min_age

    @classmethod
    def of(cls, rules: Rules, on: date) -> AgeBounds:
        return cls(born_on_or_before(on, rules.max_age + 1), born_on_or_before(on, rules.min_age))

    def allows(self, birth: date) -> bool:
        return self.oldest_birth_excluded < birth <= self.youngest_birth_allowed


AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
)


def age_band(age: int) -> str:
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return "<18" if age < AGE_BANDS[0][1] else ">64"
