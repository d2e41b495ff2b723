"""Make users.display_name non-nullable

Contract step, a release after 0007: old code is gone; a row it left NULL would fail it.

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



def users_as_of_0010() -> sa.Table:
    """The users table before this revision.

    Batch mode recreates the table to change it. Online it reflects the live table; with
    ``--sql`` there is no database to reflect, so this description is used instead.
    """
    return sa.Table(
        'users', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=255), nullable=False),
        sa.Column('hashed_password', sa.String(length=255), nullable=False),
        sa.Column('full_name', sa.String(length=255), nullable=True),
        sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('phone_number', sa.String(length=15), nullable=True),
        sa.Column('display_name', sa.String(length=255), nullable=True),
        sa.Column('bio', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_users'),
        sa.Index('ix_users_email', 'email', unique=True),
    )


def upgrade() -> None:
    """Apply migration."""
    offline = op.get_context().as_sql
    with op.batch_alter_table('users', schema=None,
                              copy_from=users_as_of_0010() if offline else None) as batch_op:
        batch_op.alter_column('display_name',
               existing_type=sa.String(length=255),
               nullable=False)


def downgrade() -> None:
    """Revert migration."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('display_name',
               existing_type=sa.String(length=255),
               nullable=True)
