"""Databases at an older schema revision, for the tests of a migration: bring a bare database
(the `bare_engine` fixture) to the revision before it, write rows as they were then in plain SQL
(the store's queries speak the newest schema), and upgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, Engine, text

from proactive_sms.store.engine import alembic_config

# Tenant 1, its BU 1 and its code 55501 (registration 1), as every revision since 0001 has them.
_UNIT = (
    "INSERT INTO tenant (id, name, created_at) VALUES (1, 't', '2026-03-01 10:00:00')",
    "INSERT INTO business_unit (id, tenant_id, name, default_region, created_at) "
    "VALUES (1, 1, 'b', 'US', '2026-03-01 10:00:00')",
    "INSERT INTO sms_registration (id, business_unit_id, code, kind, status, "
    "throughput_per_s, throughput_unit, solution, keyword_responses, created_at) "
    "VALUES (1, 1, '55501', 'short', 'active', 10, 'segments', :solution, '{}', "
    "'2026-03-01 10:00:00')",
)


def upgrade_to(engine: Engine, revision: str) -> None:
    """Apply the migrations up to `revision` ("head": all of them)."""
    command.upgrade(alembic_config(engine), revision)


def write(engine: Engine, *statements: str, solution: str = "external") -> None:
    """Write tenant 1, BU 1 and its code 55501 (with this SMS solution), then `statements`,
    in one transaction."""
    with engine.begin() as conn:
        write_unit(conn, solution)
        for statement in statements:
            conn.execute(text(statement))


def write_unit(conn: Connection, solution: str = "external") -> None:
    for statement in _UNIT:
        conn.execute(text(statement), {"solution": solution})
