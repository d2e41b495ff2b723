"""Import every model here, so ``Base.metadata`` knows all tables when Alembic reads it.

A model module that nothing imports is invisible to autogenerate (the guide's first
troubleshooting item; chapter 02 shows it happening).
"""

from app.models.base import Base, TimestampMixin
from app.models.book import Book, user_books
from app.models.category import Category
from app.models.publisher import Publisher
from app.models.user import User

__all__ = ["Base", "TimestampMixin", "User", "Book", "user_books", "Publisher", "Category"]
