"""Add bio to users

Feature B: made in parallel with 0008 from the same parent, merged by 0010.

Revision ID: 0009
Revises: 0007
Create Date: 2024-12-09 07:38:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Apply migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bio', sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('bio')
