"""The guide's example application: users, books and the reading list between them.

``app.models`` holds the final models (the state after every chapter of the workbook);
``app.core`` holds configuration and the async engine. The reference migrations in
``alembic/versions`` build exactly these tables.
"""
