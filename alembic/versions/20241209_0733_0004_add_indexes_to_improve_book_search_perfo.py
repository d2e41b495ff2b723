"""Add indexes to improve book search performance

Revision ID: 0004
Revises: 0003
Create Date: 2024-12-09 07:33:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Apply migration."""
    with op.batch_alter_table('books', schema=None) as batch_op:
        batch_op.create_index('ix_books_author_title', ['author', 'title'], unique=False)
        batch_op.create_index(batch_op.f('ix_books_published_date'), ['published_date'], unique=False)


def downgrade() -> None:
    """Revert migration."""
    with op.batch_alter_table('books', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_books_published_date'))
        batch_op.drop_index('ix_books_author_title')
