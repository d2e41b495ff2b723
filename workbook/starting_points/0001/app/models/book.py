"""Books and the ``user_books`` association table, as the guide defines them (chapter 02)."""

from datetime import date
from typing import TYPE_CHECKING, List, Optional

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.user import User

user_books = Table(
    "user_books",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id", ondelete="CASCADE"), primary_key=True),
)


class Book(Base, TimestampMixin):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    title: Mapped[str] = mapped_column(String(255), index=True)
    author: Mapped[str] = mapped_column(String(255), index=True)
    isbn: Mapped[Optional[str]] = mapped_column(String(13), unique=True, default=None)
    published_date: Mapped[Optional[date]] = mapped_column(default=None)
    description: Mapped[Optional[str]] = mapped_column(Text, default=None)

    users: Mapped[List["User"]] = relationship(
        secondary=user_books, back_populates="books", init=False, default_factory=list
    )
