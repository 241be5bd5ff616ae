"""outbox bulk rows: the records column

Revision ID: da9afd5a03b1
Revises: f75371f47e86
Create Date: 2026-11-26 15:30:00
"""

from collections.abc import Sequence

from shared.messaging.migrations import add_outbox_records, drop_outbox_records

revision: str = "da9afd5a03b1"
down_revision: str | None = "f75371f47e86"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_records()


def downgrade() -> None:
    drop_outbox_records()
