"""applications: the lottery number, drawn when joining

Revision ID: 7b3e9f1c2a40
Revises: cd2109a15d2a
Create Date: 2026-11-26 19:30:00

Existing applications get theirs from their batch's seed (the same function the service uses when joining).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.selection.lottery import lottery_number
from shared.db import GUID

revision: str = "7b3e9f1c2a40"
down_revision: str | None = "cd2109a15d2a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 10_000


def upgrade() -> None:
    op.add_column("applications", sa.Column("lottery", sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    applications = sa.table(
        "applications",
        sa.column("id", GUID()),
        sa.column("batch_id", GUID()),
        sa.column("account_id", GUID()),
        sa.column("lottery", sa.BigInteger()),
    )
    batches = sa.table("batches", sa.column("id", GUID()), sa.column("seed", sa.String()))
    seeds = {row.id: row.seed for row in conn.execute(sa.select(batches.c.id, batches.c.seed))}
    while True:
        rows = conn.execute(
            sa.select(applications.c.id, applications.c.batch_id, applications.c.account_id)
            .where(applications.c.lottery.is_(None))
            .limit(_PAGE)
        ).all()
        if not rows:
            break
        for row in rows:
            number = lottery_number(seeds[row.batch_id], row.account_id)
            conn.execute(applications.update().where(applications.c.id == row.id).values(lottery=number))
    with op.batch_alter_table("applications") as batch:
        batch.alter_column("lottery", existing_type=sa.BigInteger(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("lottery")
