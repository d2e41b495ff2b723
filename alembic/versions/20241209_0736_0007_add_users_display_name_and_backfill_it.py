"""Add users.display_name and backfill it

Expand step of expand / migrate / contract: the column arrives nullable, so old code keeps
working; one set-based UPDATE fills the rows that exist now (old code's later rows: NULL).
0011 makes it non-nullable a release later, once every writer sets it and no row is NULL.

Revision ID: 0007
Revises: 0006
Create Date: 2024-12-09 07:36:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Apply migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=255), nullable=True))

    users = sa.table('users', sa.column('display_name'), sa.column('full_name'), sa.column('email'))
    op.execute(
        users.update()
        .where(users.c.display_name.is_(None))
        .values(display_name=sa.func.coalesce(users.c.full_name, users.c.email))
    )


def downgrade() -> None:
    """Revert migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('display_name')
