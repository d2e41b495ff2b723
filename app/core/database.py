"""The async engine and session factory the application uses.

SQLite enforces foreign keys only when each connection asks for it, so every new
connection runs ``PRAGMA foreign_keys=ON``. (``alembic/env.py`` turns them off while a
migration runs, even on this engine: a batch "recreate" must run with foreign keys off.)
"""

from __future__ import annotations

import weakref

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import get_settings


def _enable_sqlite_foreign_keys(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_TRANSACTIONAL_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_sqlite_transactional(sync_engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.

    The sqlite3 module opens a transaction only before INSERT/UPDATE/DELETE/REPLACE, so
    DDL runs outside any transaction and is committed at once: a migration that fails
    halfway leaves partial DDL behind. With isolation_level=None and an explicit BEGIN,
    DDL rolls back like everything else. (Used by alembic/env.py and the workbook.)
    Once per engine: one engine may serve many Alembic commands, and a second BEGIN
    fails ("cannot start a transaction within a transaction").
    """
    if sync_engine in _TRANSACTIONAL_ENGINES:
        return
    _TRANSACTIONAL_ENGINES.add(sync_engine)

    @event.listens_for(sync_engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(sync_engine, "begin")
    def _explicit_begin(connection):
        connection.exec_driver_sql("BEGIN")


def create_engine(url: URL | str | None = None, **kwargs) -> AsyncEngine:
    """An async engine for ``url`` (default: the configured one) with SQLite FKs enforced."""
    engine = create_async_engine(url or get_settings().database_url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reload in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)
