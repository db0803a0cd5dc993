"""kept counters of each skill's texts: by state and skip reason, and sent/delivered per minute

The dashboard and the skill report read these instead of counting a million message rows at every
look. They are kept by triggers on `message`, so every change of a message's state (launch,
claims, results, receipts, stops, expiries, resend-uncertain, cadence texts, and any writer added
later) updates them in its own transaction, and none can be forgotten.

- `skill_counter`: (skill, counted state, skip reason, shard) -> messages, segments. The counted
  state is the message's state, except that a pending text held until a later moment
  (next_attempt_at set: calling window, frequency cap, retry) counts as `waiting`.
- `skill_minute`: (skill, minute, shard) -> texts that became sent in that minute (by sent_at),
  became delivered (by finished_at), and the first and last sent_at seen (for the achieved rate).

Shards: on PostgreSQL each backend adds to rows of its own (shard = pg_backend_pid()), so two
transactions never wait for each other's counter row nor deadlock on them, and readers sum the
shards; `store.skill_counters.fold` folds the shards of ended backends into shard 0. PostgreSQL
counts per statement (transition tables), so a batch of a thousand texts costs one upsert per key,
not one per text. SQLite has one writer at a time: one shard (0), changes counted per row; inserts are counted by
their writers (launch's decisions and a cadence's step texts, see store.skill_counters.add), as a
per-row insert trigger cost launch several microseconds for each of a million rows.

Warning for later revisions: SQLite's table rebuild (batch_alter_table on `message`) drops these
triggers; such a revision must create them again (tests/store/test_skill_counters.py checks that
they exist at head).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"  # 0009 as given; 0010 (the console, merged from h-web) since the merge
branch_labels = None
depends_on = None

_WAITING = sa.text("state = 'pending' AND next_attempt_at IS NOT NULL")

# --- SQLite: row triggers ------------------------------------------------------------------------

_SQLITE_KEY = ("CASE WHEN {r}.state = 'pending' AND {r}.next_attempt_at IS NOT NULL "
               "THEN 'waiting' ELSE {r}.state END")
_SQLITE_ADD = (
    "INSERT INTO skill_counter (skill_id, state, skip_reason, shard, messages, segments) "
    "SELECT {r}.skill_id, " + _SQLITE_KEY + ", coalesce({r}.skip_reason, ''), 0, {sign}1, "
    "{sign}{r}.segments WHERE {r}.skill_id IS NOT NULL "
    "ON CONFLICT (skill_id, state, skip_reason, shard) DO UPDATE SET "
    "messages = messages + excluded.messages, segments = segments + excluded.segments;"
)
# The minute a stored DateTime falls in, spelled as SQLAlchemy stores a DateTime on SQLite.
_SQLITE_MINUTE = "substr({c}, 1, 16) || ':00.000000'"
_SQLITE_SENT = (
    "INSERT INTO skill_minute (skill_id, minute, shard, sent, delivered, first_sent_at, "
    "last_sent_at) SELECT NEW.skill_id, " + _SQLITE_MINUTE.format(c="NEW.sent_at")
    + ", 0, 1, 0, NEW.sent_at, NEW.sent_at WHERE NEW.skill_id IS NOT NULL "
    "AND NEW.sent_at IS NOT NULL {also} "
    "ON CONFLICT (skill_id, minute, shard) DO UPDATE SET sent = sent + 1, "
    "first_sent_at = min(coalesce(first_sent_at, excluded.first_sent_at), "
    "excluded.first_sent_at), "
    "last_sent_at = max(coalesce(last_sent_at, excluded.last_sent_at), excluded.last_sent_at);"
)
_SQLITE_DELIVERED = (
    "INSERT INTO skill_minute (skill_id, minute, shard, sent, delivered) "
    "SELECT NEW.skill_id, " + _SQLITE_MINUTE.format(c="NEW.finished_at")
    + ", 0, 0, 1 WHERE NEW.skill_id IS NOT NULL AND NEW.state = 'delivered' "
    "AND NEW.finished_at IS NOT NULL {also} "
    "ON CONFLICT (skill_id, minute, shard) DO UPDATE SET delivered = delivered + 1;"
)
_KEY_CHANGED = ("(OLD.state IS NOT NEW.state OR OLD.skip_reason IS NOT NEW.skip_reason "
                "OR OLD.segments IS NOT NEW.segments OR OLD.skill_id IS NOT NEW.skill_id "
                "OR (OLD.next_attempt_at IS NULL) <> (NEW.next_attempt_at IS NULL))")

# Each trigger does one thing and says when in its WHEN clause, so that SQLite runs nothing for
# a row it does not concern (a launch's pending rows never touch the per-minute figures).
SQLITE_TRIGGERS = {
    # No per-row trigger counts an insert on SQLite: the machinery alone cost ~3-10 us a row
    # (a million-record launch pays it a million times). The two writers that insert a skill's
    # texts count their rows themselves in the same transaction (store.skill_counters.add);
    # inserts of sent or delivered texts (none today) are counted here all the same.
    "psms_count_message_insert_minute": (
        "CREATE TRIGGER psms_count_message_insert_minute AFTER INSERT ON message "
        "WHEN NEW.skill_id IS NOT NULL AND (NEW.sent_at IS NOT NULL OR NEW.state = 'delivered') "
        "BEGIN "
        + _SQLITE_SENT.format(also="")
        + _SQLITE_DELIVERED.format(also="")
        + " END"),
    "psms_count_message_update": (
        "CREATE TRIGGER psms_count_message_update AFTER UPDATE OF state, skip_reason, segments, "
        "skill_id, next_attempt_at ON message "
        "WHEN coalesce(OLD.skill_id, NEW.skill_id) IS NOT NULL AND " + _KEY_CHANGED + " BEGIN "
        + _SQLITE_ADD.format(r="OLD", sign="-")
        + _SQLITE_ADD.format(r="NEW", sign="")
        + " END"),
    "psms_count_message_sent": (
        "CREATE TRIGGER psms_count_message_sent AFTER UPDATE OF sent_at ON message "
        "WHEN NEW.skill_id IS NOT NULL AND NEW.sent_at IS NOT NULL AND OLD.sent_at IS NULL "
        "BEGIN "
        + _SQLITE_SENT.format(also="")
        + " END"),
    "psms_count_message_delivered": (
        "CREATE TRIGGER psms_count_message_delivered AFTER UPDATE OF state ON message "
        "WHEN NEW.skill_id IS NOT NULL AND NEW.state = 'delivered' "
        "AND OLD.state IS NOT 'delivered' BEGIN "
        + _SQLITE_DELIVERED.format(also="")
        + " END"),
    "psms_count_message_delete": (
        "CREATE TRIGGER psms_count_message_delete AFTER DELETE ON message "
        "WHEN OLD.skill_id IS NOT NULL BEGIN "
        + _SQLITE_ADD.format(r="OLD", sign="-")
        + " END"),
}

# --- PostgreSQL: statement triggers over transition tables -------------------------------------

_PG_KEY = ("CASE WHEN {r}.state = 'pending' AND {r}.next_attempt_at IS NOT NULL "
           "THEN 'waiting' ELSE {r}.state END")
_PG_UPSERT_COUNTS = """
    INSERT INTO skill_counter AS c (skill_id, state, skip_reason, shard, messages, segments)
    SELECT skill_id, state, skip_reason, pg_backend_pid(), sum(n), sum(seg)
    FROM ({deltas}) AS d
    GROUP BY skill_id, state, skip_reason
    HAVING sum(n) <> 0 OR sum(seg) <> 0
    ORDER BY skill_id, state, skip_reason
    ON CONFLICT (skill_id, state, skip_reason, shard) DO UPDATE
    SET messages = c.messages + excluded.messages, segments = c.segments + excluded.segments;
"""
_PG_ROWS = ("SELECT {r}.skill_id, " + _PG_KEY + " AS state, coalesce({r}.skip_reason, '') "
            "AS skip_reason, {sign}1 AS n, {sign}{r}.segments AS seg FROM {table} AS {r} "
            "{join} WHERE {r}.skill_id IS NOT NULL")
_PG_UPSERT_MINUTES = """
    INSERT INTO skill_minute AS m (skill_id, minute, shard, sent, delivered, first_sent_at,
                                   last_sent_at)
    SELECT skill_id, minute, pg_backend_pid(), sum(sent), sum(delivered), min(first_at),
           max(last_at)
    FROM (
        SELECT n.skill_id, date_trunc('minute', n.sent_at) AS minute, 1 AS sent,
               0 AS delivered, n.sent_at AS first_at, n.sent_at AS last_at
        FROM new_rows AS n {join}
        WHERE n.skill_id IS NOT NULL AND n.sent_at IS NOT NULL {sent_also}
        UNION ALL
        SELECT n.skill_id, date_trunc('minute', n.finished_at), 0, 1, NULL, NULL
        FROM new_rows AS n {join}
        WHERE n.skill_id IS NOT NULL AND n.state = 'delivered'
              AND n.finished_at IS NOT NULL {delivered_also}
    ) AS d
    GROUP BY skill_id, minute
    ORDER BY skill_id, minute
    ON CONFLICT (skill_id, minute, shard) DO UPDATE
    SET sent = m.sent + excluded.sent, delivered = m.delivered + excluded.delivered,
        first_sent_at = LEAST(m.first_sent_at, excluded.first_sent_at),
        last_sent_at = GREATEST(m.last_sent_at, excluded.last_sent_at);
"""
_PG_JOIN = "JOIN {other} AS {o} ON {o}.id = {r}.id"
_PG_CHANGED = (" AND (o.state IS DISTINCT FROM n.state "
               "OR o.skip_reason IS DISTINCT FROM n.skip_reason "
               "OR o.segments IS DISTINCT FROM n.segments "
               "OR o.skill_id IS DISTINCT FROM n.skill_id "
               "OR (o.next_attempt_at IS NULL) <> (n.next_attempt_at IS NULL))")

_PG_INSERT_BODY = (
    _PG_UPSERT_COUNTS.format(deltas=_PG_ROWS.format(r="n", sign="", table="new_rows", join=""))
    + _PG_UPSERT_MINUTES.format(join="", sent_also="", delivered_also=""))
_PG_UPDATE_BODY = (
    _PG_UPSERT_COUNTS.format(deltas=(
        _PG_ROWS.format(r="o", sign="-", table="old_rows",
                        join=_PG_JOIN.format(other="new_rows", o="n", r="o"))
        + _PG_CHANGED + " UNION ALL "
        + _PG_ROWS.format(r="n", sign="", table="new_rows",
                          join=_PG_JOIN.format(other="old_rows", o="o", r="n"))
        + _PG_CHANGED))
    + _PG_UPSERT_MINUTES.format(join=_PG_JOIN.format(other="old_rows", o="o", r="n"),
                                sent_also="AND o.sent_at IS NULL",
                                delivered_also="AND o.state IS DISTINCT FROM 'delivered'"))
_PG_DELETE_BODY = _PG_UPSERT_COUNTS.format(
    deltas=_PG_ROWS.format(r="o", sign="-", table="old_rows", join=""))

POSTGRES_FUNCTIONS = {
    "psms_count_message_insert": _PG_INSERT_BODY,
    "psms_count_message_update": _PG_UPDATE_BODY,
    "psms_count_message_delete": _PG_DELETE_BODY,
}
_PG_REFERENCING = {
    "psms_count_message_insert": ("INSERT", "NEW TABLE AS new_rows"),
    "psms_count_message_update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "psms_count_message_delete": ("DELETE", "OLD TABLE AS old_rows"),
}


def _run(statement: str) -> None:
    """A statement as written: SQLite's minute spelling has colons that text() would read as
    bound parameters."""
    op.get_bind().exec_driver_sql(statement)


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, body in POSTGRES_FUNCTIONS.items():
            event, referencing = _PG_REFERENCING[name]
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {body} RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON message "
                       f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    else:
        for statement in SQLITE_TRIGGERS.values():
            _run(statement)


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON message")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


_BACKFILL_COUNTS = """
    INSERT INTO skill_counter (skill_id, state, skip_reason, shard, messages, segments)
    SELECT skill_id, CASE WHEN state = 'pending' AND next_attempt_at IS NOT NULL
                          THEN 'waiting' ELSE state END,
           coalesce(skip_reason, ''), 0, count(*), coalesce(sum(segments), 0)
    FROM message WHERE skill_id IS NOT NULL
    GROUP BY 1, 2, 3
"""


def upgrade() -> None:
    op.create_table(
        "skill_counter",
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("skip_reason", sa.String(30), nullable=False),
        sa.Column("shard", sa.BigInteger(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_skill_counter_skill_id_skill")),
        sa.PrimaryKeyConstraint("skill_id", "state", "skip_reason", "shard",
                                name=op.f("pk_skill_counter")),
    )
    op.create_table(
        "skill_minute",
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shard", sa.BigInteger(), nullable=False),
        sa.Column("sent", sa.BigInteger(), nullable=False),
        sa.Column("delivered", sa.BigInteger(), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_skill_minute_skill_id_skill")),
        sa.PrimaryKeyConstraint("skill_id", "minute", "shard", name=op.f("pk_skill_minute")),
    )
    # The next opening of a calling window: the earliest moment a held text may go, found in
    # the index instead of among a million pending rows. Launch's pending rows are not in it.
    op.create_index("ix_message_skill_waiting", "message", ["skill_id", "next_attempt_at"],
                    sqlite_where=_WAITING, postgresql_where=_WAITING)
    _run(_BACKFILL_COUNTS)
    postgres = op.get_bind().dialect.name == "postgresql"
    minute_of = ((lambda c: f"date_trunc('minute', {c})") if postgres
                 else (lambda c: _SQLITE_MINUTE.format(c=c)))
    _run(
        "INSERT INTO skill_minute (skill_id, minute, shard, sent, delivered, first_sent_at, "
        "last_sent_at) "
        f"SELECT skill_id, minute, 0, sum(sent), sum(delivered), min(first_at), max(last_at) "
        f"FROM (SELECT skill_id, {minute_of('sent_at')} AS minute, 1 AS sent, 0 AS delivered, "
        "sent_at AS first_at, sent_at AS last_at FROM message "
        "WHERE skill_id IS NOT NULL AND sent_at IS NOT NULL "
        f"UNION ALL SELECT skill_id, {minute_of('finished_at')}, 0, 1, NULL, NULL FROM message "
        "WHERE skill_id IS NOT NULL AND state = 'delivered' AND finished_at IS NOT NULL) AS d "
        "GROUP BY skill_id, minute")
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index("ix_message_skill_waiting", table_name="message")
    op.drop_table("skill_minute")
    op.drop_table("skill_counter")
