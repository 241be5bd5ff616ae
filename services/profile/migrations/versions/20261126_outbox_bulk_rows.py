"""outbox bulk rows: the records column

Revision ID: b09f4544beb6
Revises: 987f6b5088b0
Create Date: 2026-11-26 15:30:00
"""

from collections.abc import Sequence

from shared.messaging.migrations import add_outbox_records, drop_outbox_records

revision: str = "b09f4544beb6"
down_revision: str | None = "987f6b5088b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_records()


def downgrade() -> None:
    drop_outbox_records()
