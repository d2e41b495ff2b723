"""Users, after chapter 04."""

from typing import TYPE_CHECKING, List, Optional

from sqlalchemy import String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:  # the guide's answer to circular imports: names only for type checkers
    from app.models.book import Book


class User(Base, TimestampMixin):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    email: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[Optional[str]] = mapped_column(String(255), default=None)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    phone_number: Mapped[Optional[str]] = mapped_column(String(15), default=None)

    books: Mapped[List["Book"]] = relationship(
        secondary="user_books", back_populates="users", init=False, default_factory=list
    )
