"""Add phone_number to users

Revision ID: 0002
Revises: 0001
Create Date: 2024-12-09 07:31:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Apply migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_number', sa.String(length=20), nullable=True))


def downgrade() -> None:
    """Revert migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone_number')
