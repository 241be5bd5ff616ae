"""decisions: partitioned by batch (PostgreSQL)

Revision ID: 9e5a7c3b1d24
Revises: 4c1d8e2f6a93
Create Date: 2026-11-27 03:10:00

A decide run writes its batch's decisions into a table of their own, builds the primary key after they are
in and attaches the table as the batch's partition (one transaction). Existing decisions move to one
partition per batch. SQLite keeps one plain table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.selection.models import decisions_partition

revision: str = "9e5a7c3b1d24"
down_revision: str | None = "4c1d8e2f6a93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = """batch_id uuid NOT NULL,
  application_id uuid NOT NULL,
  account_id uuid NOT NULL,
  selected boolean NOT NULL,
  reasons varchar(400) NOT NULL,
  tier smallint,
  rank integer,
  province_code varchar(2),
  nik_hash bytea,
  kk_hash bytea,
  CONSTRAINT pk_decisions PRIMARY KEY (batch_id, application_id)"""


def _batches(table: str) -> list[str]:
    rows = op.get_bind().execute(sa.text(f"SELECT DISTINCT batch_id FROM {table}"))  # noqa: S608 - our table
    return [str(row[0]) for row in rows]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE decisions RENAME TO decisions_plain")
    op.execute("ALTER TABLE decisions_plain RENAME CONSTRAINT pk_decisions TO pk_decisions_plain")
    op.execute(f"CREATE TABLE decisions (\n  {_COLUMNS}\n) PARTITION BY LIST (batch_id)")
    for batch_id in _batches("decisions_plain"):
        name = decisions_partition(batch_id)
        op.execute(f"CREATE TABLE {name} PARTITION OF decisions FOR VALUES IN ('{batch_id}')")
        op.execute(f"INSERT INTO {name} SELECT * FROM decisions_plain WHERE batch_id = '{batch_id}'")  # noqa: S608
    op.execute("DROP TABLE decisions_plain")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE decisions RENAME TO decisions_partitioned")
    op.execute("ALTER TABLE decisions_partitioned RENAME CONSTRAINT pk_decisions TO pk_decisions_partitioned")
    op.execute(f"CREATE TABLE decisions (\n  {_COLUMNS}\n)")
    op.execute("INSERT INTO decisions SELECT * FROM decisions_partitioned")
    op.execute("DROP TABLE decisions_partitioned")  # and its partitions
