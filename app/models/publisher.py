"""Publishers (chapter 04, revision 0005): the target of ``books.publisher_id``."""

from typing import TYPE_CHECKING, List

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

if TYPE_CHECKING:
    from app.models.book import Book


class Publisher(Base):
    __tablename__ = "publishers"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    name: Mapped[str] = mapped_column(String(255), unique=True)

    books: Mapped[List["Book"]] = relationship(
        back_populates="publisher", init=False, default_factory=list
    )
