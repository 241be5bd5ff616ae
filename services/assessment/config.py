"""assessment's settings (env prefix ASSESSMENT_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

BANK_DIR = Path(__file__).resolve().parent / "bank"


class AssessmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENT_", extra="ignore", populate_by_name=True)

    service_name: str = "assessment"
    port: int = 8003
    test_duration_s: int = Field(default=900, ge=60, description="Time to take the test (15 minutes)")
    answer_grace_s: int = Field(
        default=5,
        ge=0,
        description="Answers and submits this many seconds after the deadline still count (network latency)",
    )
    shuffle_options: bool = Field(default=True, description="Show each applicant the options in their own order")
    run_sweeper: bool = Field(default=True, description="Finish sessions past their deadline in this process")
    sweep_interval_s: float = Field(default=10.0, gt=0, description="How often the sweeper looks for late sessions")
    sweep_batch_size: int = Field(default=100, ge=1, description="Sessions the sweeper finishes per round")
    bank_max_bytes: int = Field(default=5_242_880, description="Largest question bank accepted by POST /v1/banks")
    seed_bank_path: Path = Field(
        default=BANK_DIR / "v1.json", description="Bank loaded (and activated if none is) by `dev-data`"
    )


@lru_cache
def get_settings() -> AssessmentSettings:
    return AssessmentSettings()
