"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Connection, Table


def insert(connection: Connection, table: Table):
    """An INSERT that supports on_conflict_do_nothing/do_update on the connection's database."""
    # Each dialect's package is imported when first used: importing PostgreSQL's (with all its
    # drivers' modules) cost every CLI command on SQLite about 20 ms.
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"
