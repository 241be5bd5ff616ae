"""Events published by assessment."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from shared.events.envelope import EventPayload, catalogue


@catalogue
class AssessmentCompleted(EventPayload):
    """An applicant's one test is finished and scored (published exactly once per account).

    Scores are 0 to 100. Ability sections: share of drawn items answered correctly. Motivation: mean of the
    likert values (reverse items flipped) scaled to 0-100. `total`: plain mean of the section scores.
    """

    event_type = "assessment.completed"
    account_id: uuid.UUID
    bank_version: str = Field(description="Question bank version the items were drawn from")
    scores: dict[str, float] = Field(description="Section code -> score 0-100, e.g. {'motivation': 72.5, ...}")
    total: float = Field(description="Mean of the section scores, 0-100")
    finished_at: datetime
