"""Bulk outbox rows: many events of one type in one outbox row, for set-based writers (a batch decision).

A million events as a million outbox rows means writing each envelope (the same few hundred constant bytes
around a few values) and three index entries per event. A bulk row instead holds one template and one line
of values per event; the relay renders the events when it publishes them. It is written in the same
transaction as the state change like any outbox row, so the outbox guarantee is unchanged.

Payload format (UTF-8 text):

    line 0        the template: a JSON array of constant fragments (strings) and slots (integers)
    lines 1 ..    one event each: its fields separated by TAB, field 0 being the event's Kafka key

and an event is its template with each slot replaced by that field of its line (a field may fill several
slots: an id that is both the envelope's subject and a data field is written once). Fields are JSON
snippets that contain neither TAB nor newline (compact JSON never does; `line()` guards fields built in
Python). The `records` column holds the number of events (NULL on a plain row), so the relay can size its
rounds in events rather than rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

TAB = "\t"
NEWLINE = "\n"

Item = str | int


class BulkFormatError(ValueError):
    """A bulk outbox row that does not follow the format above (a bug in its writer)."""


def header(items: list[Item]) -> str:
    """Line 0 of a bulk payload, newline included."""
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")) + NEWLINE


def _checked(field: str) -> str:
    if TAB in field or NEWLINE in field:
        raise BulkFormatError("a bulk field may not contain TAB or newline")
    return field


def line(key: str, fields: list[str]) -> str:
    """One event's line (without its newline), for writers that build rows in Python."""
    return TAB.join([_checked(key), *(_checked(f) for f in fields)])


def _compile(head: str) -> tuple[str, int]:
    """The template as a str.format() pattern, and the number of fields a line must have."""
    try:
        items = json.loads(head)
    except ValueError as exc:
        raise BulkFormatError(f"bulk template is not JSON: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise BulkFormatError("bulk template must be a non-empty JSON array of strings and slot numbers")
    pattern: list[str] = []
    width = 1  # the key is always there
    for item in items:
        if isinstance(item, str):
            pattern.append(item.replace("{", "{{").replace("}", "}}"))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 1000:
            pattern.append(f"{{{item}}}")
            width = max(width, item + 1)
        else:
            raise BulkFormatError("bulk template must be a non-empty JSON array of strings and slot numbers")
    return "".join(pattern), width


def records(payload: str, expected: int | None = None) -> Iterator[tuple[str, str]]:
    """(key, event JSON) for every event of a bulk payload, in order; `expected` is its `records` count."""
    head, _, body = payload.partition(NEWLINE)
    pattern, width = _compile(head)
    lines = body.split(NEWLINE) if body else []
    if expected is not None and len(lines) != expected:
        raise BulkFormatError(f"bulk row holds {len(lines)} events, its records column says {expected}")
    for number, text in enumerate(lines, start=1):
        fields = text.split(TAB)
        if len(fields) != width:
            raise BulkFormatError(f"bulk line {number} has {len(fields)} fields, the template takes {width}")
        yield fields[0], pattern.format(*fields)


def events_of(key: str, payload: str, count: int | None) -> Iterator[tuple[str, str]]:
    """(key, event JSON) for any outbox row: itself when plain (`records` NULL), its records when bulk."""
    if count is None:
        yield key, payload
    else:
        yield from records(payload, count)


class BulkTemplate:
    """One event type's JSON as constant fragments around SQL expressions, for writing bulk rows in SQL.

    `lit()` appends constant text, `sql()` an SQL expression whose value is a JSON snippet with nothing to
    escape (uuids, numbers, true/false, codes of [a-z_], or JSON text built by the database). The same
    expression used twice is one field of the line; the key expression is field 0.
    """

    def __init__(self, key_sql: str) -> None:
        self.key_sql = key_sql
        self.items: list[Item] = []
        self.expressions: list[str] = [key_sql]

    def lit(self, fragment: str) -> BulkTemplate:
        if self.items and isinstance(self.items[-1], str):
            self.items[-1] += fragment
        else:
            self.items.append(fragment)
        return self

    def sql(self, expression: str) -> BulkTemplate:
        if expression not in self.expressions:
            self.expressions.append(expression)
        self.items.append(self.expressions.index(expression))
        return self

    def header(self) -> str:
        return header(self.items)

    def line_sql(self, dialect: str, tab_param: str) -> str:
        """SQL for one event's line. On SQLite a NULL field makes the line NULL, which `aggregate_sql` then
        skips: the row's `records` (count(*)) no longer matches and the relay refuses the row, loudly."""
        fields = [f"({e})" for e in self.expressions]
        if dialect == "postgresql":
            return "concat(" + f", {tab_param}, ".join(fields) + ")"
        return f" || {tab_param} || ".join(fields)


def aggregate_sql(dialect: str, line_sql: str, newline_param: str) -> str:
    """SQL aggregate joining a group's lines with newlines, in the order the rows arrive (give it an ordered
    subquery when order matters; within a bulk row of one event per person it does not, and an ORDER BY in
    the aggregate would sort every group again)."""
    if dialect == "postgresql":
        return f"string_agg({line_sql}, {newline_param})"
    return f"group_concat({line_sql}, {newline_param})"
