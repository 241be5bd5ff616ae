"""outbox bulk rows: the records column

Revision ID: cd2109a15d2a
Revises: 58a617ce18c2
Create Date: 2026-11-26 15:30:00
"""

from collections.abc import Sequence

from shared.messaging.migrations import add_outbox_records, drop_outbox_records

revision: str = "cd2109a15d2a"
down_revision: str | None = "58a617ce18c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_records()


def downgrade() -> None:
    drop_outbox_records()
