"""Users (chapter 02), and what later chapters add to them.

- ``phone_number``: added in chapter 04 (revision 0002), shortened to 15 characters (0003).
- ``is_active``: gets a server default in chapter 04 (0003); ``default=True`` alone is
  Python-side only and never reaches the database.
- ``display_name``: chapter 05's expand / backfill / contract sequence (0007, 0011).
- ``bio``: one of chapter 06's two parallel branches (0009), merged in 0010.
"""

from typing import TYPE_CHECKING, List, Optional

from sqlalchemy import String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:  # the guide's answer to circular imports: names only for type checkers
    from app.models.book import Book


class User(Base, TimestampMixin):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    email: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[Optional[str]] = mapped_column(String(255), default=None)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    phone_number: Mapped[Optional[str]] = mapped_column(String(15), default=None)
    bio: Mapped[Optional[str]] = mapped_column(Text, default=None)

    books: Mapped[List["Book"]] = relationship(
        secondary="user_books", back_populates="users", init=False, default_factory=list
    )
