"""Books and the ``user_books`` association table (chapter 02), and later additions.

- indexes ``ix_books_published_date`` and ``ix_books_author_title``: chapter 04 (0004).
- ``publisher_id`` with its foreign key and index: chapter 04 (0005).
- ``page_count``: the other of chapter 06's parallel branches (0008).
"""

from datetime import date
from typing import TYPE_CHECKING, List, Optional

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.publisher import Publisher
    from app.models.user import User

user_books = Table(
    "user_books",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id", ondelete="CASCADE"), primary_key=True),
)


class Book(Base, TimestampMixin):
    __tablename__ = "books"
    __table_args__ = (Index("ix_books_author_title", "author", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    title: Mapped[str] = mapped_column(String(255), index=True)
    author: Mapped[str] = mapped_column(String(255), index=True)
    isbn: Mapped[Optional[str]] = mapped_column(String(13), unique=True, default=None)
    published_date: Mapped[Optional[date]] = mapped_column(index=True, default=None)
    description: Mapped[Optional[str]] = mapped_column(Text, default=None)
    page_count: Mapped[Optional[int]] = mapped_column(default=None)
    publisher_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("publishers.id", ondelete="SET NULL"), index=True, default=None
    )

    users: Mapped[List["User"]] = relationship(
        secondary=user_books, back_populates="books", init=False, default_factory=list
    )
    publisher: Mapped[Optional["Publisher"]] = relationship(
        back_populates="books", init=False, default=None
    )
