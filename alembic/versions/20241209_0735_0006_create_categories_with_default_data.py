"""Create categories with default data

A data migration: the table and its starting rows arrive together. The rows are written
through a lightweight sa.table(), not the app's models, which keep changing after today.

Revision ID: 0006
Revises: 0005
Create Date: 2024-12-09 07:35:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Apply migration."""
    categories = op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('name', name=op.f('uq_categories_name'))
    )
    op.bulk_insert(categories, [
        {'name': 'Fiction', 'description': 'Fiction books'},
        {'name': 'Non-Fiction', 'description': 'Non-fiction books'},
        {'name': 'Science', 'description': 'Science books'},
    ])


def downgrade() -> None:
    """Revert migration."""
    op.drop_table('categories')
