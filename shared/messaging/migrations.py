"""Schema steps of the messaging tables, shared by every service's Alembic history (each service has its own
outbox, so each service's migrations call these)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def add_outbox_records() -> None:
    """The outbox's `records` column: NULL on a plain row, the event count of a bulk row."""
    op.add_column("outbox", sa.Column("records", sa.Integer(), nullable=True))


def drop_outbox_records() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("records")
