"""secrets at rest: carrier passwords and webhook secrets sealed with a key outside the database

The columns grow to hold a sealed value (`enc:v1:` and a Fernet token), and every plain value
already stored is sealed with the database's key (store.secret_box: PSMS_SECRET_KEY, a key file,
or a key file made beside the database now). Downgrading opens them again.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-05 04:30:00
"""

import sqlalchemy as sa
from alembic import op

from proactive_sms.store.secret_box import PREFIX, box_for

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

_COLUMNS = (("carrier_connection", "password", 9), ("webhook_endpoint", "secret", 100))


def _rewrite(change) -> None:
    bind = op.get_bind()
    for table, column, _ in _COLUMNS:
        rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table}")).all()  # noqa: S608
        for row_id, value in rows:
            new = change(value)
            if new != value:
                bind.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),  # noqa: S608
                             {"v": new, "id": row_id})


def upgrade() -> None:
    for table, column, old_length in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(500), existing_type=sa.String(old_length),
                               existing_nullable=False)
    box = box_for(op.get_bind().engine.url)
    _rewrite(lambda value: value if value.startswith(PREFIX) else box.seal(value))


def downgrade() -> None:
    box = box_for(op.get_bind().engine.url)
    _rewrite(box.open)
    for table, column, old_length in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(old_length),
                               existing_type=sa.String(500), existing_nullable=False)
