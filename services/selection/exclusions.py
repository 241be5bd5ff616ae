"""Importing the exclusion lists ministries and agencies provide: a CSV of NIKs, streamed, validated, stored
only as the NIK's blind index.

The file is read as a stream of lines and handled in chunks (validate, hash, COPY into a staging table), so
memory stays flat for files of millions of rows. Bad rows are never dropped silently:

* `on_bad_rows=refuse` (the default): one bad row refuses the whole file; the answer lists the first bad
  lines (line number, masked value, what is wrong) and the count; nothing is stored.
* `on_bad_rows=skip`: the good rows are stored and the list keeps a report of the bad lines (first ones
  listed, all counted), shown wherever the list is.

A row is the NIK in the first column (`,` or `;` separated, quotes and spaces ignored); an optional header
row starting with `nik` and empty lines are skipped. A NIK is checked exactly as profile checks one typed by
an applicant (16 digits, a real district code, a birth date, a serial other than 0000).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from services.selection.config import SelectionSettings
from shared.blind_index import blind_index, index_key
from shared.i18n import Locale, Text
from shared.nik import district_exists, parse_nik

HEADER = "nik"
NOT_UTF8 = Text("Baris ini bukan teks UTF-8.", "This line is not UTF-8 text.")


def blind_index_key(settings: SelectionSettings) -> bytes:
    """The NIK blind-index key: SELECTION_BLIND_INDEX_KEY, or (embedded default) the key profile uses."""
    return index_key(
        settings.blind_index_key.get_secret_value(),
        setting="SELECTION_BLIND_INDEX_KEY",
        require=settings.require_keys,
        var_dir=settings.var_dir,
    )


def _valid_ddmm() -> frozenset[str]:
    days = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
    return frozenset(
        f"{day + offset:02d}{month:02d}"
        for month, last in days.items()
        for day in range(1, last + 1)
        for offset in (0, 40)
    )


_DDMM = _valid_ddmm()


@lru_cache(maxsize=20_000)
def _district(code6: str) -> bool:
    return district_exists(code6)


def nik_issue(value: str) -> tuple[str, Text] | None:
    """None when `value` is a structurally valid NIK, else profile's issue code and message.

    The fast path accepts what parse_nik accepts; anything else goes to parse_nik itself, the authority.
    """
    if (
        len(value) == 16
        and value.isdigit()
        and value.isascii()
        and value[12:] != "0000"
        and value[6:10] in _DDMM
        and _district(value[:6])
    ):
        return None
    _parts, issues = parse_nik(value)
    return (issues[0].code, issues[0].text) if issues else None


def _normalise(value: str) -> str:
    return value.replace(" ", "").replace(".", "").replace("-", "")


def mask(value: str) -> str:
    value = value[:32]
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


@dataclass
class ChunkResult:
    hashes: list[bytes]
    bad: list[dict[str, Any]]
    bad_count: int = 0
    header_skipped: bool = False


def check_chunk(lines: list[tuple[int, bytes]], key: bytes, locale: Locale, keep_bad: int, first: bool) -> ChunkResult:
    """Validate and hash one chunk of lines (run in a worker thread: it is CPU work)."""
    out = ChunkResult(hashes=[], bad=[])
    for number, raw in lines:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            out.bad_count += 1
            if len(out.bad) < keep_bad:
                out.bad.append({"line": number, "value": "", "code": "not_utf8", "message": NOT_UTF8.get(locale)})
            continue
        if first and number == 1:
            line = line.lstrip("\ufeff")
        cell = line.replace(";", ",").split(",", 1)[0].strip().strip('"').strip()
        if not cell:
            continue
        if first and number == 1 and cell.lower() == HEADER:
            out.header_skipped = True
            continue
        nik = _normalise(cell)
        issue = nik_issue(nik)
        if issue is not None:
            out.bad_count += 1
            if len(out.bad) < keep_bad:
                code, text = issue
                out.bad.append({"line": number, "value": mask(cell), "code": code, "message": text.get(locale)})
            continue
        out.hashes.append(bytes.fromhex(blind_index(key, nik)))
    return out


@dataclass
class ImportTally:
    rows: int = 0
    bad_rows: int = 0
    bad_lines: list[dict[str, Any]] = field(default_factory=list)


async def lines_of(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """(line number, bytes without the line break) from a byte stream, never holding more than one chunk."""
    tail = b""
    number = 0
    async for chunk in chunks:
        if not chunk:
            continue
        parts = (tail + chunk).split(b"\n")
        tail = parts.pop()
        for part in parts:
            number += 1
            yield number, part.rstrip(b"\r")
    if tail.strip():
        yield number + 1, tail.rstrip(b"\r")


async def batched(lines: AsyncIterator[tuple[int, bytes]], size: int) -> AsyncIterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    async for item in lines:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def check_in_thread(
    lines: list[tuple[int, bytes]], key: bytes, locale: Locale, keep_bad: int, first: bool
) -> ChunkResult:
    return await asyncio.to_thread(check_chunk, lines, key, locale, keep_bad, first)


async def import_csv(
    session: Any,
    *,
    key: bytes,
    chunks: AsyncIterator[bytes],
    category: str,
    source: str,
    as_of: date,
    mode: str,
    on_bad_rows: str,
    imported_by: Any,
    chunk_rows: int,
    report_lines: int,
    locale: Locale,
) -> Any:
    """Stream, check, hash and store one list; raises ImportRefused / ImportEmpty (nothing stored then)."""
    from services.selection import errors
    from services.selection import repository_exclusions as repo

    row = repo.new_list_row(category=category, source=source, as_of=as_of, mode=mode, imported_by=imported_by)
    session.add(row)
    await session.flush()
    await repo.start_staging(session)
    tally = ImportTally()
    valid = 0
    first = True
    async for lines in batched(lines_of(chunks), chunk_rows):
        result = await check_in_thread(lines, key, locale, max(0, report_lines - len(tally.bad_lines)), first)
        first = False
        data_lines = sum(1 for _n, raw in lines if raw.strip()) - (1 if result.header_skipped else 0)
        tally.rows += data_lines
        tally.bad_rows += result.bad_count
        tally.bad_lines.extend(result.bad)
        valid += len(result.hashes)
        await repo.stage(session, result.hashes)
    if tally.rows == 0:
        raise errors.ImportEmpty()
    if tally.bad_rows and on_bad_rows == "refuse":
        raise errors.ImportRefused(
            extra={"bad_rows": tally.bad_rows, "bad_lines": tally.bad_lines}, bad_rows=tally.bad_rows
        )
    if valid == 0:
        raise errors.ImportEmpty()
    await repo.match_lock(session)
    row.entries = await repo.store_staged(session, row.id)
    matched = await repo.match_list(session, row.id)
    if mode == "replace":
        older = [other.id for other in await repo.active_lists(session, category, source) if other.id != row.id]
        await repo.supersede(session, older, row.id)
    row.rows = tally.rows
    row.bad_rows = tally.bad_rows
    row.duplicates = valid - row.entries
    row.report = tally.bad_lines or None
    row.status = "active"
    await session.flush()
    return row, matched
