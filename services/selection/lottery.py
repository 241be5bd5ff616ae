"""The seeded lottery and its commit-reveal.

Each batch draws a random 256-bit seed when it is created. Its SHA-256 is published when the batch opens
(`batch.opened`, `GET /v1/batches/{id}`), the seed itself when it closes. An applicant's lottery key is

    lottery_key    = SHA-256( UTF-8( seed_hex || account_id ) )      (account_id: lowercase, hyphenated)
    lottery_number = the key's first 8 bytes as a big-endian unsigned integer, minus 2**63

and within a priority tier the smaller lottery number is drawn first (the order of the keys' first 8 bytes;
equal numbers, about one chance in 10**7 per million applicants, go by account id). Anyone holding the seed
can recompute every number; nobody could choose the order before the seed was fixed.

The seed is fixed before anyone can join and never changes, so the number is computed once, when the
applicant joins, and stored with the application (a signed 64-bit integer: the shift by 2**63 keeps
integer order equal to byte order). Deciding a batch then sorts integers instead of hashing and comparing
a million 32-byte keys. Verification recomputes each number from the revealed seed (`lottery_number`);
`lottery_number_sql` is the same function in PostgreSQL, for applications written in bulk.

SQLite has no hash function, so the service registers `sel_sha256(text)` and `sel_uuid(text)` (Python's
hashlib) on each SQLite connection for the event ids derived in SQL.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def new_seed() -> str:
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    """What is published before the draw: SHA-256 of the seed (hex)."""
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def lottery_key(seed: str, account_id: uuid.UUID | str) -> str:
    return hashlib.sha256(f"{seed}{str(account_id).lower()}".encode()).hexdigest()


def lottery_number(seed: str, account_id: uuid.UUID | str) -> int:
    """The applicant's place in the draw within its tier (smaller first); see the module's docstring."""
    digest = hashlib.sha256(f"{seed}{str(account_id).lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") - 2**63


def lottery_number_sql(seed_sql: str, account_col: str) -> str:
    """PostgreSQL for `lottery_number`: the first 64 bits of the key read as bigint (two's complement), with
    the sign bit flipped, which is the same as subtracting 2**63 from the unsigned value. (text -> bytea reads
    backslash escapes; a hex seed and a uuid have none, so the cast gives their UTF-8 bytes.)"""
    key = f"sha256(CAST({seed_sql} || CAST({account_col} AS text) AS bytea))"
    return f"(CAST(CAST('x' || encode(substr({key}, 1, 8), 'hex') AS bit(64)) AS bigint) # (-9223372036854775807 - 1))"


def _sha256_hex(value: Any) -> str | None:
    if value is None:
        return None
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _derived_uuid_or_none(value: Any) -> str | None:
    return None if value is None else derived_uuid(str(value))


def install_sqlite_functions(engine: AsyncEngine) -> None:
    """Register `sel_sha256` and `sel_uuid` on every new SQLite connection of `engine` (no-op on PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("sel_sha256", 1, _sha256_hex, deterministic=True)
        dbapi_connection.create_function("sel_uuid", 1, _derived_uuid_or_none, deterministic=True)


def sha256_hex_sql(dialect: str, expr: str) -> str:
    """SQL for the lowercase hex SHA-256 of the text `expr`."""
    if dialect == "postgresql":
        return f"encode(sha256(convert_to({expr}, 'UTF8')), 'hex')"
    return f"sel_sha256({expr})"


def derived_uuid_sql(dialect: str, expr: str) -> str:
    """A UUID-shaped text derived from `expr` (deterministic event ids: re-running a step adds no duplicate)."""
    if dialect == "postgresql":
        return f"CAST(CAST(substr({sha256_hex_sql(dialect, expr)}, 1, 32) AS uuid) AS text)"
    return f"sel_uuid({expr})"


def derived_uuid(text: str) -> str:
    """Python twin of `derived_uuid_sql`."""
    return str(uuid.UUID(hashlib.sha256(text.encode()).hexdigest()[:32]))
