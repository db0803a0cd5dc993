"""partial index on message (registration_id, state, id): only texts that have a code

Only system texts (confirmations, help answers, agent replies) have a registration_id; a
skill's text reaches its code through its skill. Every query of this index names a code
(`registration_id = ?`, `IN (...)`, `IS NOT NULL`), which both databases know implies IS NOT
NULL, so a partial index serves them all, and a launch no longer writes an entry for each of
its million texts (measured with bench/launch.py's schema floor: ~10-20% of the CPU SQLite
spends writing the records and texts of a list).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_HAS_CODE = sa.text("registration_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_message_registration_state", table_name="message")
    op.create_index("ix_message_registration_state", "message",
                    ["registration_id", "state", "id"],
                    sqlite_where=_HAS_CODE, postgresql_where=_HAS_CODE)


def downgrade() -> None:
    op.drop_index("ix_message_registration_state", table_name="message")
    op.create_index("ix_message_registration_state", "message",
                    ["registration_id", "state", "id"])
