"""spend: prices per segment, each text's cost, kept spend per skill, budgets

- `code_price`: a transport code's price per segment (country '' = every destination), and
  prices per destination country that override it; one currency per code.
- `message.cost_micros`: what the text costs (segments x the price of its destination), fixed
  when the text is decided (launch, a cadence step); None when its code had no price.
- `skill_spend`: (skill, quarter hour, shard) -> texts, segments and cost counted as spent. A
  trigger on `message` adds a text in the transaction that moves it from `submitting` to `sent`
  (the carrier took it) or to `uncertain` (it may have): the write of the result itself, so the
  dispatcher's budget check reads a counter, never the message rows. The quarter hour is the
  one the text was submitted in: a unit's calendar month in any zone (all zones are whole
  quarter hours from UTC) is a range of quarters. Shards as in `skill_counter` (0011).
- `skill.budget_micros`, `skill.pause_reason`: a skill's budget, and why it was paused by the
  system (a budget reached), cleared on resume.
- `unit_budget`: a business unit's monthly budget, its currency and the zone of its months.

Plain ADD COLUMN on `message` (no table rebuild: the triggers of 0011 are untouched).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# --- SQLite: a row trigger ----------------------------------------------------------------------

# The quarter hour a stored DateTime falls in, spelled as SQLAlchemy stores one on SQLite
# ("2026-03-04 16:07:12.000000" -> "2026-03-04 16:00:00.000000").
SQLITE_QUARTER = ("substr({c}, 1, 14) || printf('%02d', (CAST(substr({c}, 15, 2) AS INTEGER) "
                  "/ 15) * 15) || ':00.000000'")
SQLITE_TRIGGER_NAME = "psms_count_message_spend"
SQLITE_TRIGGER = (
    f"CREATE TRIGGER {SQLITE_TRIGGER_NAME} AFTER UPDATE OF state ON message "
    "WHEN NEW.skill_id IS NOT NULL AND NEW.cost_micros IS NOT NULL "
    "AND OLD.state = 'submitting' AND NEW.state IN ('sent', 'uncertain') BEGIN "
    "INSERT INTO skill_spend (skill_id, quarter, shard, texts, segments, cost_micros) "
    "SELECT NEW.skill_id, " + SQLITE_QUARTER.format(c="NEW.submitted_at")
    + ", 0, 1, NEW.segments, NEW.cost_micros WHERE NEW.submitted_at IS NOT NULL "
    "ON CONFLICT (skill_id, quarter, shard) DO UPDATE SET texts = texts + 1, "
    "segments = segments + excluded.segments, "
    "cost_micros = cost_micros + excluded.cost_micros; END")

# --- PostgreSQL: a statement trigger over transition tables -------------------------------------

PG_FUNCTION = "psms_count_message_spend"
PG_BODY = """
    INSERT INTO skill_spend AS s (skill_id, quarter, shard, texts, segments, cost_micros)
    SELECT n.skill_id, to_timestamp(floor(extract(epoch FROM n.submitted_at) / 900) * 900),
           pg_backend_pid(), count(*), sum(n.segments), sum(n.cost_micros)
    FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
    WHERE n.skill_id IS NOT NULL AND n.cost_micros IS NOT NULL
          AND n.submitted_at IS NOT NULL AND o.state = 'submitting'
          AND n.state IN ('sent', 'uncertain')
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (skill_id, quarter, shard) DO UPDATE
    SET texts = s.texts + excluded.texts, segments = s.segments + excluded.segments,
        cost_micros = s.cost_micros + excluded.cost_micros;
"""


def create_trigger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {PG_BODY} RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {PG_FUNCTION} AFTER UPDATE ON message "
                   "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()")
    else:
        # As written: the quarter's spelling has colons text() would read as parameters.
        op.get_bind().exec_driver_sql(SQLITE_TRIGGER)


def drop_trigger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {PG_FUNCTION} ON message")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER_NAME}")


def upgrade() -> None:
    op.create_table(
        "code_price",
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price_micros", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["sms_registration.id"],
                                name=op.f("fk_code_price_registration_id_sms_registration")),
        sa.PrimaryKeyConstraint("registration_id", "country", name=op.f("pk_code_price")),
    )
    op.create_table(
        "unit_budget",
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("monthly_micros", sa.BigInteger(), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"],
                                name=op.f("fk_unit_budget_business_unit_id_business_unit")),
        sa.PrimaryKeyConstraint("business_unit_id", name=op.f("pk_unit_budget")),
    )
    op.create_table(
        "skill_spend",
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shard", sa.BigInteger(), nullable=False),
        sa.Column("texts", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_skill_spend_skill_id_skill")),
        sa.PrimaryKeyConstraint("skill_id", "quarter", "shard", name=op.f("pk_skill_spend")),
    )
    op.add_column("message", sa.Column("cost_micros", sa.BigInteger(), nullable=True))
    op.add_column("skill", sa.Column("budget_micros", sa.BigInteger(), nullable=True))
    op.add_column("skill", sa.Column("pause_reason", sa.Text(), nullable=True))
    create_trigger()


def downgrade() -> None:
    drop_trigger()
    with op.batch_alter_table("skill") as batch:
        batch.drop_column("pause_reason")
        batch.drop_column("budget_micros")
    # Not batch: a rebuild of `message` would drop the counting triggers of 0011.
    op.drop_column("message", "cost_micros")
    op.drop_table("skill_spend")
    op.drop_table("unit_budget")
    op.drop_table("code_price")
