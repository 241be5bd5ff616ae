"""assessment's request and response models (they are the OpenAPI docs frontends and ops read).

What applicants get never contains a correct answer, a reverse-scoring key or a score.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from services.assessment.bank_format import LocalizedText

Status = Literal["not_started", "in_progress", "finished"]
Kind = Literal["likert", "choice"]


class AnswerIn(BaseModel):
    """One answer: the option key of a choice item (`"B"`) or the scale value of a likert item (`4`)."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=40, examples=["NUM-007"], description="Item code from the session")
    answer: StrictStr | StrictInt = Field(examples=["B", 4])


class AnswersIn(BaseModel):
    """Answers to save now (autosave): any subset of the session's items; a later save overwrites an earlier one."""

    model_config = ConfigDict(extra="forbid")

    answers: list[AnswerIn] = Field(min_length=1, max_length=200)


class TestStatus(BaseModel):
    """Where the applicant stands with the test. Scores are for the programme only and are not shown here."""

    __test__ = False  # not a pytest class

    status: Status
    started_at: datetime | None = None
    deadline_at: datetime | None = None
    finished_at: datetime | None = None


class OptionView(BaseModel):
    key: str = Field(description="What to send as the answer")
    text: str


class ScaleChoice(BaseModel):
    value: int = Field(description="What to send as the answer")
    label: str


class ItemView(BaseModel):
    code: str
    text: str
    options: list[OptionView] | None = Field(default=None, description="Choice items, in this applicant's order")
    selected: str | int | None = Field(default=None, description="The answer saved so far, if any")


class SectionView(BaseModel):
    code: str
    kind: Kind
    title: str
    instructions: str
    scale: list[ScaleChoice] | None = Field(default=None, description="Likert sections: the answers to choose from")
    items: list[ItemView]


class SessionView(BaseModel):
    """The applicant's open test: the drawn items in their language and the time left."""

    id: uuid.UUID
    status: Literal["in_progress"] = "in_progress"
    bank_version: str
    title: str
    locale: Literal["id", "en"]
    started_at: datetime
    deadline_at: datetime
    time_left_s: int = Field(description="Seconds until the deadline (0 when it has passed)")
    answered: int
    total_items: int
    sections: list[SectionView]


class AnswersSaved(BaseModel):
    saved: int = Field(description="Answers stored by this request")
    answered: int = Field(description="Items answered so far")
    total_items: int
    time_left_s: int


class SectionSummary(BaseModel):
    code: str
    kind: Kind
    draw: int
    items: int


class BankVersionOut(BaseModel):
    """A question bank version as ops see it (without the items)."""

    version: str
    title: LocalizedText
    active: bool
    imported_at: datetime
    imported_by: uuid.UUID | None
    activated_at: datetime | None = Field(default=None, description="When it became active, if it is")
    sections: list[SectionSummary]


class ItemStats(BaseModel):
    """How one item fared. Choices and correctness count finished sessions only (their answers are final)."""

    code: str
    section: str
    kind: Kind
    drawn: int = Field(description="Sessions this item was drawn for (finished or not)")
    drawn_finished: int = Field(description="Finished sessions this item was drawn for")
    answered: int = Field(description="Finished sessions that answered it")
    chosen: dict[str, int] = Field(description="Option key (choice) or scale value (likert) -> times chosen")
    correct: int | None = Field(description="Choice items: finished sessions that answered correctly")
    share_correct: float | None = Field(
        description="Choice items: correct / drawn_finished (0-1, unanswered counts as wrong); null if never finished"
    )


class BankStats(BaseModel):
    version: str
    sessions_started: int
    sessions_finished: int
    items: list[ItemStats]


class SectionScoreOut(BaseModel):
    section: str
    kind: Kind
    score: float = Field(description="0-100")
    items: int
    answered: int
    correct: int | None = None


class TestResult(BaseModel):
    """An applicant's test with its scores (ops only). Formula: see the service description."""

    __test__ = False  # not a pytest class

    account_id: uuid.UUID
    status: Status
    bank_version: str | None = None
    started_at: datetime | None = None
    deadline_at: datetime | None = None
    finished_at: datetime | None = None
    finish_reason: Literal["submitted", "deadline"] | None = None
    total: float | None = Field(default=None, description="Mean of the section scores, 0-100")
    sections: list[SectionScoreOut] = Field(default_factory=list)
