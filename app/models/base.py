"""The declarative Base and the timestamp mixin (chapter 02).

- ``Base`` is a dataclass Base, as in the guide: models get ``__init__``/``__repr__``/``__eq__``.
- Its MetaData carries a naming convention, so every index and constraint has a name
  that a later migration can drop (SQLite cannot drop an unnamed constraint).
- ``TimestampMixin`` must itself be ``MappedAsDataclass``: SQLAlchemy 2.1 rejects a plain
  mixin with mapped attributes under a dataclass Base (error code ``dcmx``).
- Timestamps use ``server_default``: the database fills them, and migrations carry them.
"""

from datetime import datetime

from sqlalchemy import MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(MappedAsDataclass, DeclarativeBase):
    """Base class for all models: dataclass behaviour and named constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin(MappedAsDataclass):
    """``created_at`` and ``updated_at``, filled in by the database."""

    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), init=False)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), onupdate=func.now(), init=False
    )
