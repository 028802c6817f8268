"""At most one on-demand solver run waits or runs (a partial unique index on both databases).

Before the index is created, on-demand runs left queued or running by a stopped process are
marked failed, all but the newest one (the index could not be built over them).

Revision ID: 0005_one_active_on_demand_run
Revises: 0004_audit_append_only
Create Date: 2026-11-22

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0005_one_active_on_demand_run'
down_revision: str | None = '0004_audit_append_only'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_ON_DEMAND = "kind = 'on_demand' AND status IN ('queued', 'running')"


def upgrade() -> None:
    op.execute(
        "UPDATE solver_run SET status = 'failed', "
        "error = 'Beim Update beendet: ein weiterer Abgleich wartete oder lief gleichzeitig.' "
        f"WHERE {ACTIVE_ON_DEMAND} AND id < (SELECT MAX(id) FROM solver_run WHERE {ACTIVE_ON_DEMAND})")
    op.create_index('uq_solver_run_one_active_on_demand', 'solver_run', ['kind'], unique=True,
                    sqlite_where=sa.text(ACTIVE_ON_DEMAND), postgresql_where=sa.text(ACTIVE_ON_DEMAND))


def downgrade() -> None:
    op.drop_index('uq_solver_run_one_active_on_demand', table_name='solver_run')
