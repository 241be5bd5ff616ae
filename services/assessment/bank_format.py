"""The question bank's JSON format and every check an import must pass (the body of `POST /v1/banks`).

A bank has a version, a bilingual title and sections. A `likert` section (motivation) has a scale and
statements, some reverse-scored; a `choice` section (ability) has questions with options A to D and exactly one
correct answer. Each section names how many of its items every applicant gets (`draw`). Every text is given in
Bahasa Indonesia (`id`) and English (`en`). Item codes are unique across the whole bank.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.errors import FieldMessage
from shared.i18n import Locale, Text

KINDS = ("likert", "choice")
LOCALES: tuple[Locale, ...] = ("id", "en")
OPTION_KEYS = ("A", "B", "C", "D")
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,49}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedText(_Strict):
    """A text in both languages."""

    id: str = Field(max_length=2000, description="Bahasa Indonesia")
    en: str = Field(max_length=2000, description="English")

    @field_validator("id", "en")
    @classmethod
    def _filled(cls, value: str) -> str:
        if not value.strip():
            raise FieldMessage(
                "text_empty",
                Text(
                    "Teks wajib diisi dalam bahasa Indonesia dan bahasa Inggris.",
                    "The text must be given in both Indonesian and English.",
                ),
            )
        return value.strip()

    def get(self, locale: Locale) -> str:
        return self.en if locale == "en" else self.id


class ScalePoint(_Strict):
    """One answer of a likert scale, e.g. 1 = "Sangat tidak setuju"."""

    value: int = Field(strict=True, ge=-100, le=100)
    label: LocalizedText


class LikertItem(_Strict):
    """A statement the applicant rates. `reverse`: agreeing shows less motivation, so the value is flipped."""

    code: str = Field(pattern=CODE_PATTERN, examples=["MOT-004"])
    text: LocalizedText
    reverse: bool = Field(strict=True)
    facet: str = Field(min_length=1, max_length=60, pattern=r"^\S(.*\S)?$", examples=["learning_drive"])


class ChoiceOption(_Strict):
    key: Literal["A", "B", "C", "D"]
    text: LocalizedText


class ChoiceItem(_Strict):
    """A question with four options, exactly one of them correct (`answer` is its key)."""

    code: str = Field(pattern=CODE_PATTERN, examples=["NUM-001"])
    text: LocalizedText
    options: list[ChoiceOption] = Field(max_length=10)
    answer: str = Field(examples=["B"])

    @field_validator("answer", mode="before")
    @classmethod
    def _single(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldMessage(
                "answer_not_single",
                Text(
                    "Jawaban benar harus tepat satu kunci pilihan (A, B, C atau D).",
                    "The correct answer must be exactly one option key (A, B, C or D).",
                ),
            )
        return value

    @model_validator(mode="after")
    def _options(self) -> ChoiceItem:
        keys = [option.key for option in self.options]
        if len(keys) != len(OPTION_KEYS) or sorted(keys) != list(OPTION_KEYS):
            raise FieldMessage(
                "options_invalid",
                Text(
                    f"Soal {self.code}: harus ada tepat 4 pilihan dengan kunci A, B, C, D (tertulis: {keys}).",
                    f"Item {self.code}: needs exactly 4 options keyed A, B, C, D (given: {keys}).",
                ),
            )
        for locale in LOCALES:
            shown = [option.text.get(locale) for option in self.options]
            if len(set(shown)) != len(shown):
                raise FieldMessage(
                    "options_duplicate_text",
                    Text(
                        f"Soal {self.code}: dua pilihan memiliki teks yang sama ({locale}).",
                        f"Item {self.code}: two options have the same text ({locale}).",
                    ),
                )
        if self.answer not in keys:
            raise FieldMessage(
                "answer_not_an_option",
                Text(
                    f"Soal {self.code}: jawaban benar '{self.answer}' bukan salah satu pilihan A, B, C, D.",
                    f"Item {self.code}: the correct answer '{self.answer}' is not one of the options A, B, C, D.",
                ),
            )
        return self


def _check_draw(code: str, draw: int, items: Sequence[Any]) -> None:
    if draw > len(items):
        raise FieldMessage(
            "draw_too_large",
            Text(
                f"Bagian {code}: draw {draw} lebih banyak dari {len(items)} soal yang ada.",
                f"Section {code}: draw {draw} is more than its {len(items)} items.",
            ),
        )


class LikertSection(_Strict):
    """Statements rated on a scale (the motivation part)."""

    code: str = Field(pattern=CODE_PATTERN, examples=["motivation"])
    kind: Literal["likert"]
    draw: int = Field(strict=True, ge=1, description="Items each applicant gets from this section")
    title: LocalizedText
    instructions: LocalizedText
    scale: list[ScalePoint] = Field(max_length=11)
    items: list[LikertItem] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _scale_and_draw(self) -> LikertSection:
        values = [point.value for point in self.scale]
        if len(values) < 2 or len(set(values)) != len(values) or values != sorted(values):
            raise FieldMessage(
                "scale_invalid",
                Text(
                    f"Bagian {self.code}: skala harus punya minimal 2 nilai bulat yang unik dan berurutan naik.",
                    f"Section {self.code}: the scale needs at least 2 unique integer values in ascending order.",
                ),
            )
        _check_draw(self.code, self.draw, self.items)
        return self


class ChoiceSection(_Strict):
    """Questions with one correct answer (numerical, verbal, logical ability)."""

    code: str = Field(pattern=CODE_PATTERN, examples=["numerical"])
    kind: Literal["choice"]
    draw: int = Field(strict=True, ge=1, description="Items each applicant gets from this section")
    title: LocalizedText
    instructions: LocalizedText
    items: list[ChoiceItem] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _draw(self) -> ChoiceSection:
        _check_draw(self.code, self.draw, self.items)
        return self


Section = Annotated[LikertSection | ChoiceSection, Field(discriminator="kind")]


class BankImport(_Strict):
    """A complete question bank version, as ops import it. Once imported, a version never changes."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "version": "2026.2",
                    "title": {"id": "Tes Motivasi dan Kemampuan Dasar", "en": "Motivation and Basic Ability Test"},
                    "sections": [
                        {
                            "code": "numerical",
                            "kind": "choice",
                            "draw": 1,
                            "title": {"id": "Numerik", "en": "Numerical"},
                            "instructions": {"id": "Pilih satu jawaban.", "en": "Choose one answer."},
                            "items": [
                                {
                                    "code": "NUM-101",
                                    "text": {"id": "2 + 3 = ...", "en": "2 + 3 = ..."},
                                    "options": [
                                        {"key": "A", "text": {"id": "4", "en": "4"}},
                                        {"key": "B", "text": {"id": "5", "en": "5"}},
                                        {"key": "C", "text": {"id": "6", "en": "6"}},
                                        {"key": "D", "text": {"id": "7", "en": "7"}},
                                    ],
                                    "answer": "B",
                                }
                            ],
                        }
                    ],
                }
            ]
        },
    )

    version: str = Field(pattern=VERSION_PATTERN, examples=["2026.2"], description="Used in URLs; never reused")
    title: LocalizedText
    sections: list[Section] = Field(min_length=1, max_length=20)

    @field_validator("sections", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        if isinstance(value, list):
            for index, section in enumerate(value):
                kind = section.get("kind") if isinstance(section, dict) else None
                if kind not in KINDS:
                    code = section.get("code") if isinstance(section, dict) else None
                    raise FieldMessage(
                        "section_kind_unknown",
                        Text(
                            f"Bagian ke-{index + 1} ({code}): kind harus 'likert' atau 'choice'.",
                            f"Section {index + 1} ({code}): kind must be 'likert' or 'choice'.",
                        ),
                    )
        return value

    @model_validator(mode="after")
    def _unique_codes(self) -> BankImport:
        sections = Counter(section.code for section in self.sections)
        twice = sorted(code for code, n in sections.items() if n > 1)
        if twice:
            raise FieldMessage(
                "section_code_duplicate",
                Text(
                    f"Kode bagian dipakai lebih dari sekali: {twice}.", f"Section codes used more than once: {twice}."
                ),
            )
        items = Counter(item.code for section in self.sections for item in section.items)
        twice = sorted(code for code, n in items.items() if n > 1)
        if twice:
            raise FieldMessage(
                "item_code_duplicate",
                Text(f"Kode soal dipakai lebih dari sekali: {twice}.", f"Item codes used more than once: {twice}."),
            )
        return self


def locations_with_codes(errors: Sequence[Any], body: Any) -> list[dict[str, Any]]:
    """Validation errors with each section and item index in `loc` replaced by its code, so ops can find the
    failing item in a file of hundreds (`body.sections.numerical.items.NUM-003.answer`). The discriminator
    step pydantic adds to the path (`likert`/`choice`) is dropped."""
    out: list[dict[str, Any]] = []
    sections = body.get("sections") if isinstance(body, dict) else None
    for error in errors:
        err = dict(error)
        loc = list(err.get("loc", ()))
        if loc[:2] == ["body", "sections"] and len(loc) > 2 and isinstance(loc[2], int) and isinstance(sections, list):
            index = loc[2]
            section = sections[index] if 0 <= index < len(sections) else None
            rest = loc[3:]
            if rest and rest[0] in KINDS:
                rest = rest[1:]
            loc = ["body", "sections", _code_of(section, index), *rest]
            items = section.get("items") if isinstance(section, dict) else None
            if loc[3:4] == ["items"] and len(loc) > 4 and isinstance(loc[4], int) and isinstance(items, list):
                item = items[loc[4]] if 0 <= loc[4] < len(items) else None
                loc[4] = _code_of(item, loc[4])
        err["loc"] = tuple(loc)
        out.append(err)
    return out


def _code_of(node: Any, index: int) -> str | int:
    code = node.get("code") if isinstance(node, dict) else None
    return code if isinstance(code, str) and code.strip() else index
