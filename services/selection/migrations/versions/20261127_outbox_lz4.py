"""outbox: payloads compressed with lz4 (PostgreSQL)

Revision ID: 4c1d8e2f6a93
Revises: 7b3e9f1c2a40
Create Date: 2026-11-27 03:00:00

The decide run writes a batch's events as bulk rows of about a thousand events each; their compression with
pglz was half the time of that step. Existing rows keep their compression until rewritten.
"""

from collections.abc import Sequence

from shared.messaging.migrations import compress_outbox_payload_default, compress_outbox_payload_lz4

revision: str = "4c1d8e2f6a93"
down_revision: str | None = "7b3e9f1c2a40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    compress_outbox_payload_lz4()


def downgrade() -> None:
    compress_outbox_payload_default()
