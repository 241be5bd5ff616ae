"""outbox bulk rows: the records column

Revision ID: 2e5d78c08413
Revises: 3217daef1b2d
Create Date: 2026-11-26 15:30:00
"""

from collections.abc import Sequence

from shared.messaging.migrations import add_outbox_records, drop_outbox_records

revision: str = "2e5d78c08413"
down_revision: str | None = "3217daef1b2d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_records()


def downgrade() -> None:
    drop_outbox_records()
