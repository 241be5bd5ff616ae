"""selection's settings (env prefix SELECTION_); nothing else in the service reads the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

MIB = 1024 * 1024


class SelectionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SELECTION_", extra="ignore", populate_by_name=True)

    service_name: str = "selection"
    port: int = 8004

    blind_index_key: SecretStr = Field(
        default=SecretStr(""),
        description="base64 key of the NIK blind index, the SAME key as PROFILE_BLIND_INDEX_KEY; empty = "
        "profile's development key file under var/ (embedded default only)",
    )
    require_keys: bool = Field(default=False, description="Refuse to start without SELECTION_BLIND_INDEX_KEY")

    run_scheduler: bool = Field(
        default=True, description="Move batches by time (open, close, announce) and purge removed lists here"
    )
    scheduler_interval_s: float = Field(default=5.0, gt=0, description="How often the scheduler looks at batches")
    run_decider: bool = Field(
        default=True, description="Run decide runs as background tasks here, and resume unfinished ones at start"
    )
    decide_parallel_writes: int = Field(
        default=2, ge=1, le=16, description="PostgreSQL connections writing a decided batch's events side by side"
    )
    decide_work_mem: str = Field(
        default="64MB",
        description="PostgreSQL work_mem of the decide transactions (window sorts, CTEs, hash joins of a batch). "
        "Measured on the benchmark: 64MB decides a million applications a second faster than 1GB (the sorts and "
        "hash joins split into pieces that stay in the CPU caches; a little goes through temporary files)",
    )

    exclusion_max_bytes: int = Field(default=2048 * MIB, description="Largest exclusion-list CSV accepted")
    exclusion_chunk_rows: int = Field(default=50_000, ge=100, description="NIKs hashed and written per chunk")
    exclusion_report_lines: int = Field(default=100, ge=1, description="Bad lines listed in an import report")
    exclusion_purge_rows: int = Field(default=100_000, ge=100, description="Entries deleted per purge transaction")

    batches_cache_ttl_s: float = Field(
        default=1.0, ge=0, description="GET /v1/batches may serve a list this old (batch-opening traffic spikes)"
    )


@lru_cache
def get_settings() -> SelectionSettings:
    return SelectionSettings()
