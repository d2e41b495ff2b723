"""Add publishers and books.publisher_id

The foreign key and its index get their names from the naming convention, so a later
migration (and this downgrade) can drop them on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2024-12-09 07:34:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None



def books_as_of_0004() -> sa.Table:
    """The books table before this revision.

    Batch mode recreates the table to change it. Online it reflects the live table; with
    ``--sql`` there is no database to reflect, so this description is used instead.
    """
    return sa.Table(
        'books', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('author', sa.String(length=255), nullable=False),
        sa.Column('isbn', sa.String(length=13), nullable=True),
        sa.Column('published_date', sa.Date(), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_books'),
        sa.UniqueConstraint('isbn', name='uq_books_isbn'),
        sa.Index('ix_books_author', 'author'),
        sa.Index('ix_books_title', 'title'),
        sa.Index('ix_books_published_date', 'published_date'),
        sa.Index('ix_books_author_title', 'author', 'title'),
    )


def upgrade() -> None:
    """Apply migration."""
    op.create_table('publishers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publishers')),
    sa.UniqueConstraint('name', name=op.f('uq_publishers_name'))
    )
    offline = op.get_context().as_sql
    with op.batch_alter_table('books', schema=None,
                              copy_from=books_as_of_0004() if offline else None) as batch_op:
        batch_op.add_column(sa.Column('publisher_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_books_publisher_id'), ['publisher_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_books_publisher_id_publishers'), 'publishers', ['publisher_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    """Revert migration."""
    with op.batch_alter_table('books', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_books_publisher_id_publishers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_books_publisher_id'))
        batch_op.drop_column('publisher_id')

    op.drop_table('publishers')
