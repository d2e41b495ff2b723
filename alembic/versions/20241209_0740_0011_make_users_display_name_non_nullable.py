"""Make users.display_name non-nullable

Contract step: every row was backfilled by 0007 and the application now always sets it.

Revision ID: 0011
Revises: 0010
Create Date: 2024-12-09 07:40:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Apply migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('display_name',
               existing_type=sa.String(length=255),
               nullable=False)


def downgrade() -> None:
    """Revert migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('display_name',
               existing_type=sa.String(length=255),
               nullable=True)
