"""The outbox and inbox tables, declared in a service's own metadata."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, text

from shared.db import UTCDateTime, dialect_insert

# BIGSERIAL on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
_ID = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime(), nullable=True),
        # NULL: `payload` is one event. A number: a bulk row (shared.messaging.bulk) of that many events.
        Column("records", Integer, nullable=True),
        Index(
            "ix_outbox_pending",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(100), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("handled_at", UTCDateTime(), nullable=False),
    )
    return MessagingTables(outbox=outbox, inbox=inbox)


def insert_ignore(table: Table, dialect_name: str):
    """INSERT ... ON CONFLICT DO NOTHING for the two supported backends."""
    return dialect_insert(table, dialect_name).on_conflict_do_nothing()
