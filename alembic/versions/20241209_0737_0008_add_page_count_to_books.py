"""Add page_count to books

Feature A: made in parallel with 0009 from the same parent, merged by 0010.

Revision ID: 0008
Revises: 0007
Create Date: 2024-12-09 07:37:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Apply migration."""
    with op.batch_alter_table('books', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_count', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert migration."""
    with op.batch_alter_table('books', schema=None) as batch_op:
        batch_op.drop_column('page_count')
