"""Scoring a finished test: per-section scores and the total, each 0 to 100.

- **Ability sections** (`choice`): the share of the section's drawn items answered correctly, times 100.
  An unanswered item counts as wrong.
- **Motivation** (`likert`, scale `lo..hi`): each drawn item earns `(v - lo) / (hi - lo)` for the chosen value
  `v`; a reverse-scored item first flips the value to `lo + hi - v`. The section score is the mean over the
  drawn items, times 100. An unanswered item earns 0, so skipping statements never raises the score.
- **Total**: the plain mean of the section scores (every section weighs the same, whatever its number of items).

Scores are computed exactly (fractions) and rounded half-up to two decimals only when stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


@dataclass(frozen=True)
class SectionSpec:
    code: str
    kind: str
    scale_min: int | None = None
    scale_max: int | None = None


@dataclass(frozen=True)
class DrawnItem:
    """One drawn item with the applicant's saved answer and the bank's scoring key."""

    code: str
    section: str
    answer: str | None
    correct_key: str | None = None
    reverse: bool | None = None


@dataclass(frozen=True)
class SectionResult:
    code: str
    kind: str
    score: float
    items: int
    answered: int
    correct: int | None


@dataclass(frozen=True)
class Result:
    sections: list[SectionResult]
    total: float

    def by_section(self) -> dict[str, float]:
        return {section.code: section.score for section in self.sections}


def rounded(value: Fraction) -> float:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def likert_points(answer: str | None, *, reverse: bool, lo: int, hi: int) -> Fraction:
    """What one statement earns, 0 to 1."""
    if answer is None:
        return Fraction(0)
    value = int(answer)
    if reverse:
        value = lo + hi - value
    return Fraction(value - lo, hi - lo)


def score(sections: Sequence[SectionSpec], items: Sequence[DrawnItem]) -> Result:
    exact: list[Fraction] = []
    results: list[SectionResult] = []
    for spec in sections:
        drawn = [item for item in items if item.section == spec.code]
        if not drawn:
            raise ValueError(f"section {spec.code} has no drawn items")
        answered = sum(item.answer is not None for item in drawn)
        correct: int | None = None
        if spec.kind == "choice":
            correct = sum(item.answer is not None and item.answer == item.correct_key for item in drawn)
            value = Fraction(100 * correct, len(drawn))
        else:
            assert spec.scale_min is not None and spec.scale_max is not None
            earned = sum(
                (
                    likert_points(item.answer, reverse=bool(item.reverse), lo=spec.scale_min, hi=spec.scale_max)
                    for item in drawn
                ),
                Fraction(0),
            )
            value = 100 * earned / len(drawn)
        exact.append(value)
        results.append(SectionResult(spec.code, spec.kind, rounded(value), len(drawn), answered, correct))
    total = sum(exact, Fraction(0)) / len(exact) if exact else Fraction(0)
    return Result(results, rounded(total))
