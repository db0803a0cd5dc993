"""The database schema (SQLAlchemy Core). Alembic migrations under migrations/ create it.

One schema serves SQLite (the embedded default) and PostgreSQL (several workers sharing the work).
Invariant 1 of the design lives here: one message per (skill, record), by a unique constraint.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

# Names for constraints so that migrations can refer to them on every database.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Large tables get 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and
# must stay spelled INTEGER to be the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _created() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False)


tenant = Table(
    "tenant",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    _created(),
)

business_unit = Table(
    "business_unit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("default_region", String(2), nullable=False),  # ISO 3166 region for local numbers
    # Texts per recipient per rolling 24 h across the BU's skills; stricter state rules add on.
    Column("frequency_cap_per_24h", Integer, nullable=True),
    _created(),
    # The zone its recurring notices are read in when they name none (migration 0032).
    Column("time_zone", String(64), nullable=True),
    # Where `psms serve` answers short links (migration 0035): "https://go.example.com". With
    # one, each web link of a text is replaced at launch by <domain>/l/<code> (docs/links.md).
    Column("link_domain", String(200), nullable=True),
    UniqueConstraint("tenant_id", "name"),
)

dnc_list = Table(
    "dnc_list",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("is_default", Boolean, nullable=False),  # the tenant default list, used when a
    _created(),  # registration names no DNC group
    UniqueConstraint("tenant_id", "name"),
)

dnc_entry = Table(
    "dnc_entry",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("dnc_list_id", ForeignKey("dnc_list.id"), nullable=False),
    Column("phone", String(20), nullable=False),  # E.164
    Column("source", String(20), nullable=False),  # manual | import | opt_out | api | carrier
    Column("note", Text, nullable=False, default=""),
    _created(),
    UniqueConstraint("dnc_list_id", "phone"),
)

carrier_connection = Table(
    "carrier_connection",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),  # smpp | http
    Column("host", String(200), nullable=False),
    Column("port", Integer, nullable=False),
    Column("system_id", String(16), nullable=False),
    Column("password", String(500), nullable=False),  # sealed (store.secret_box)
    Column("window_size", Integer, nullable=False),
    # Idle seconds before an enquire_link (None: the dispatcher's default, 30 s)
    Column("enquire_link_s", Float, nullable=True),
    _created(),
    # Its link state and last error are not kept here but in carrier_link_status (migration
    # 0023): settings are an administrator's, observations the dispatchers'.
    # Raised by one on every change (optimistic concurrency: the API's ETag, migration 0025).
    Column("version", Integer, nullable=False, server_default="1"),
    # Set when removed while history refers to it: hidden from lists and look-ups, kept
    # for the texts, skills and reports that name it (migration 0025).
    Column("archived_at", DateTime(timezone=True), nullable=True),
    # An HTTP provider's account (migration 0026; null on SMPP connections): which API shape
    # (carriers/http/providers), its account id, its API's base URL, and the public base URL
    # of our `psms serve` that the provider posts callbacks to (signatures cover the full URL,
    # so it must be the one the provider uses). The auth token is `password` (sealed).
    Column("provider", String(30), nullable=True),
    Column("account", String(100), nullable=True),
    Column("base_url", String(300), nullable=True),
    Column("callback_url", String(300), nullable=True),
    UniqueConstraint("tenant_id", "name"),
)

sms_registration = Table(
    "sms_registration",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("code", String(20), nullable=False, unique=True),  # the transport code itself
    Column("kind", String(20), nullable=False),  # long | short | toll_free
    Column("status", String(20), nullable=False),  # provisioning | active
    Column("throughput_per_s", Float, nullable=False),
    Column("throughput_unit", String(10), nullable=False),  # segments | messages
    Column("connection_id", ForeignKey("carrier_connection.id"), nullable=True),
    Column("dnc_list_id", ForeignKey("dnc_list.id"), nullable=True),  # else the tenant default
    Column("solution", String(20), nullable=False),  # sms_messaging | external
    Column("keyword_responses", JSON, nullable=False),
    _created(),
    # Raised by one on every change (optimistic concurrency: the API's ETag, migration 0025).
    Column("version", Integer, nullable=False, server_default="1"),
    # Set when removed while history refers to it: hidden from lists and look-ups, kept
    # for the texts, skills and reports that name it (migration 0025).
    Column("archived_at", DateTime(timezone=True), nullable=True),
)

calling_list = Table(
    "calling_list",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("fields", JSON, nullable=False),  # every field name the list's records may carry
    _created(),
    # Raised by every user edit (migration 0020; store.errors.StaleVersion)
    Column("version", Integer, nullable=False, server_default="1"),
    # Removed while finished skills still report on it: hidden, kept (migration 0020)
    Column("archived_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("business_unit_id", "name"),
)

calling_record = Table(
    "calling_record",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("calling_list_id", ForeignKey("calling_list.id"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("phone", String(20), nullable=True),  # PhoneNumber, E.164
    Column("sms_destination", String(20), nullable=True),  # where a text goes, E.164
    Column("sms_problem", String(30), nullable=True),  # no_mobile_number | invalid_number
    Column("expiration_date", Date, nullable=True),
    Column("time_zone", String(64), nullable=True),
    Column("postal_code", String(20), nullable=True),
    Column("fields", JSON, nullable=False),  # every mapped value, standard and custom, as text
    Column("source_line", Integer, nullable=False),  # line in the file it last came from
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("calling_list_id", "external_id"),
    # A number's history finds the records that carry it (migration 0022): without these it
    # reads every record of the unit's lists (0.4-0.7 s at 200,000 records, bench/why.py).
    Index("ix_calling_record_sms_destination", "sms_destination"),
    Index("ix_calling_record_phone", "phone"),
)

template = Table(
    "template",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("direction", String(4), nullable=False),  # ltr | rtl | auto
    Column("smart_encoding", Boolean, nullable=False),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # auto: merged values fenced by isolates only where they would be reordered; off: never
    # (domain.bidi_marks, migration 0034).
    Column("bidi_marks", String(4), nullable=False, server_default="auto"),
    # Raised by one on every change (optimistic concurrency: the API's ETag, migration 0025).
    Column("version", Integer, nullable=False, server_default="1"),
    # Set when removed while history refers to it: hidden from lists and look-ups, kept
    # for the texts, skills and reports that name it (migration 0025).
    Column("archived_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("business_unit_id", "name"),
)

campaign = Table(
    "campaign",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("name", String(200), nullable=False),
    _created(),
    # Raised by every user edit (migration 0020; store.errors.StaleVersion)
    Column("version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("business_unit_id", "name"),
)

skill = Table(
    "skill",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # agentless_sms | agent
    Column("registration_id", ForeignKey("sms_registration.id"), nullable=False),
    Column("calling_list_id", ForeignKey("calling_list.id"), nullable=False),
    Column("campaign_id", ForeignKey("campaign.id"), nullable=True),
    Column("template_id", ForeignKey("template.id"), nullable=True),  # a saved template, or
    Column("message_text", Text, nullable=True),  # the text typed when the skill started
    Column("direction", String(4), nullable=False),  # for typed text: ltr | rtl | auto
    Column("status", String(20), nullable=False),
    Column("max_segments", Integer, nullable=False),
    Column("pacing_per_s", Float, nullable=True),  # below the registration's limit, if set
    Column("validity_hours", Float, nullable=True),
    # {"weekday": "08:00-21:00", "weekend": "...", "forbidden_days": [...]} (SkillWindow)
    Column("calling_window", JSON, nullable=True),
    Column("no_zone_policy", String(10), nullable=False, server_default="skip"),  # or default
    Column("default_time_zone", String(64), nullable=True),
    Column("launch_cursor", BigInteger, nullable=False),  # last record id decided by launch
    # Reply-aware pacing (migration 0024): texts that invite replies go no faster than the
    # skill's agents can answer them (domain/reply_pacing.py); the prior is the reply rate
    # assumed until the skill shows its own (None: DEFAULT_PRIOR_REPLY_RATE).
    Column("reply_pacing", Boolean, nullable=False, server_default=text("true")),
    Column("reply_rate_prior", Float, nullable=True),
    _created(),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # User edits only (settings, archiving): launch and the dispatcher never raise it.
    # Raised by every user edit (migration 0020; store.errors.StaleVersion)
    Column("version", Integer, nullable=False, server_default="1"),
    # A finished or stopped skill removed from the lists: still reportable (migration 0020)
    Column("archived_at", DateTime(timezone=True), nullable=True),
    # Spend (migration 0033): the most its texts may cost (micros of its code's currency), and
    # why the system paused it (a budget reached; None for a person's pause), until resumed.
    Column("budget_micros", BigInteger, nullable=True),
    Column("pause_reason", Text, nullable=True),
    UniqueConstraint("business_unit_id", "name"),
)

message = Table(
    "message",
    metadata,
    Column("id", BigId, primary_key=True),
    # A skill's text has a skill and a record; a system text (an opt-out confirmation, a help
    # answer, an agent's reply) has neither, only the code it leaves from.
    Column("skill_id", ForeignKey("skill.id"), nullable=True),
    Column("record_id", ForeignKey("calling_record.id"), nullable=True),
    Column("kind", String(20), nullable=False, server_default="skill"),  # see MessageKind
    Column("registration_id", ForeignKey("sms_registration.id"), nullable=True),
    Column("priority", Integer, nullable=False, server_default="1"),  # 0 goes before bulk (1)
    Column("conversation_id", ForeignKey("conversation.id"), nullable=True),
    Column("destination", String(20), nullable=True),
    Column("body", Text, nullable=True),
    Column("encoding", String(4), nullable=True),  # gsm7 | ucs2
    Column("segments", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("skip_reason", String(30), nullable=True),
    Column("error_code", Integer, nullable=True),
    Column("detail", Text, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    _created(),
    Column("submitted_at", DateTime(timezone=True), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # Agentless texts are step 0, attempt 0; a cadence's SMS step numbers both (migration 0009).
    Column("cadence_step", Integer, nullable=False, server_default="0"),
    Column("step_attempt", Integer, nullable=False, server_default="0"),
    # The carrier connection that carried it, set when the carrier accepted it (migration
    # 0022): a code's connection may change later, the text's history must not. No foreign key:
    # SQLite adds the column without rebuilding `message` (and its triggers of 0011).
    Column("connection_id", Integer, nullable=True),
    # What it costs (segments x its destination's price per segment, in micros of the code's
    # currency), fixed when it is decided; None when its code had no price (migration 0033).
    Column("cost_micros", BigInteger, nullable=True),
    # invariant 1: one message per (skill, record), per SMS step attempt of a cadence
    UniqueConstraint("skill_id", "record_id", "cadence_step", "step_attempt"),
    Index("ix_message_skill_state", "skill_id", "state", "id"),
    # Partial: only system texts have a code of their own (migration 0030); a launch's texts
    # reach theirs through the skill, and so write no entry here.
    Index("ix_message_registration_state", "registration_id", "state", "id",
          sqlite_where=text("registration_id IS NOT NULL"),
          postgresql_where=text("registration_id IS NOT NULL")),
    # Partial: only submitted texts are looked up by number (who texted this number last, how
    # often in 24 h), and launch writes a million pending rows without paying for this index.
    Index("ix_message_destination_submitted", "destination", "submitted_at",
          sqlite_where=text("submitted_at IS NOT NULL"),
          postgresql_where=text("submitted_at IS NOT NULL")),
    # The earliest moment a held text may go (the next window opening), without reading every
    # pending row; launch's pending rows (no next_attempt_at) are not in it (migration 0011).
    Index("ix_message_skill_waiting", "skill_id", "next_attempt_at",
          sqlite_where=text("state = 'pending' AND next_attempt_at IS NOT NULL"),
          postgresql_where=text("state = 'pending' AND next_attempt_at IS NOT NULL")),
)

message_part = Table(
    "message_part",
    metadata,
    Column("message_id", ForeignKey("message.id"), primary_key=True),
    Column("part_no", Integer, primary_key=True),
    # As the carrier gave it (ids are case-sensitive strings); rows stored before revision 0012
    # hold the folded form, which their carrier_id_folded repeats.
    Column("carrier_message_id", String(80), nullable=False),
    # Upper case, no leading zeros (carriers.base.normalize_message_id): matched only when no
    # receipt id matches carrier_message_id exactly.
    Column("carrier_id_folded", String(80), nullable=False, server_default=""),
    Column("receipt_state", String(20), nullable=True),
    Column("receipt_error", Integer, nullable=True),
    Column("receipt_at", DateTime(timezone=True), nullable=True),
    Index("ix_message_part_carrier_id", "carrier_message_id"),
    Index("ix_message_part_carrier_id_folded", "carrier_id_folded"),
)

early_receipt = Table(
    # A receipt whose carrier id is not yet recorded (it overtook its submit_sm_resp): held here,
    # matched as soon as the id is stored; or one of a text whose submit answer never came
    # (`uncertain`), settled by number, time and text (store.receipt_reconciling). Pruned
    # after a set age.
    "early_receipt",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("carrier_message_id", String(80), nullable=False, index=True),
    Column("carrier_id_folded", String(80), nullable=False, server_default="", index=True),
    Column("state", String(20), nullable=False),
    Column("error_code", Integer, nullable=True),
    Column("raw", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # What the receipt says of its text, for a text without an id (null on older rows)
    Column("connection_id", Integer, nullable=True),  # the connection it came on
    Column("recipient", String(20), nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=True),  # as the SMSC's clock says
    Column("done_at", DateTime(timezone=True), nullable=True),  # the same clock
    Column("text_prefix", String(40), nullable=True),
)

transport_lease = Table(
    # Which process owns a transport code's pacer; a lapsed lease can be taken by another worker
    # (store.leases says who may take it, and how workers share the codes).
    "transport_lease",
    metadata,
    Column("registration_id", ForeignKey("sms_registration.id"), primary_key=True),
    Column("worker_id", String(100), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # Random per dispatcher process: a second live process with the same worker id is refused.
    Column("process_token", String(32), nullable=False, server_default=""),
    # Raised each time the lease changes hands; claims check it (a lost lease cannot send).
    Column("fence", BigInteger, nullable=False, server_default="0"),
    Column("renewed_at", DateTime(timezone=True), nullable=True),  # the holder's heartbeat
    # Set when the holder handed the code back (a SIGTERM, or rebalancing): free at once, and
    # `recent_sends` (JSON [[epoch seconds, weight], ...]: its pacer's last window) seeds the
    # next holder's pacer so the limit holds across the handover (store.leases).
    Column("released_at", DateTime(timezone=True), nullable=True),
    Column("recent_sends", Text, nullable=True),
)

dispatch_worker = Table(
    # Each live dispatcher process announces itself here (seen_at, every housekeeping tick), so
    # that workers know how many share the codes before they hold any (store.leases).
    "dispatch_worker",
    metadata,
    Column("process_token", String(32), primary_key=True),
    Column("worker_id", String(100), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)


code_pace = Table(
    # What each transport code may send now, as its dispatching worker last wrote it: the rate
    # after carrier throttling (below the limit) and the throttle events, for status and metrics.
    "code_pace",
    metadata,
    Column("registration_id", ForeignKey("sms_registration.id"), primary_key=True),
    Column("limit_per_s", Float, nullable=False),
    Column("rate_per_s", Float, nullable=False),
    Column("throttle_events", Integer, nullable=False),
    Column("last_throttle_at", DateTime(timezone=True), nullable=True),
    Column("paused", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

skill_reply_pace = Table(
    # The bound a skill's agents set on its texts, as the dispatching worker last wrote it
    # (migration 0024): agents, free places, reply rate, the pace it allows, whether texts wait.
    "skill_reply_pace",
    metadata,
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Column("available_agents", Integer, nullable=False),
    Column("free_places", Integer, nullable=False),
    Column("reply_rate", Float, nullable=False),
    Column("texts_per_min", Float, nullable=False),
    Column("replies_in_flight", Float, nullable=False),
    Column("waiting", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

conversation = Table(
    # The thread of replies from one number to one transport code (sms_messaging codes only),
    # routed to the skill that last texted the number.
    "conversation",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("registration_id", ForeignKey("sms_registration.id"), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("skill_id", ForeignKey("skill.id"), nullable=True),
    Column("record_id", ForeignKey("calling_record.id"), nullable=True),
    Column("status", String(10), nullable=False),  # open | closed
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("last_inbound_at", DateTime(timezone=True), nullable=False),
    Column("last_answer_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    # Agents (migration 0008): the customer's first reply that no one has answered yet (None:
    # nothing is waiting), and the first answer of all, for time-to-first-answer reports.
    Column("unanswered_since", DateTime(timezone=True), nullable=True),
    Column("first_answer_at", DateTime(timezone=True), nullable=True),
    Index("ix_conversation_open", "registration_id", "phone", "status"),
    Index("ix_conversation_skill_status", "skill_id", "status"),  # those waiting for agents
)

inbound_message = Table(
    # Every text received, whatever it turned out to be; stored before it is acknowledged.
    "inbound_message",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("sender", String(32), nullable=False),
    Column("recipient", String(32), nullable=False),  # the code as the carrier gave it
    Column("registration_id", ForeignKey("sms_registration.id"), nullable=True),  # None: unknown
    Column("carrier_message_id", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("classification", String(20), nullable=False),  # domain.keywords.InboundClass
    Column("reason", Text, nullable=False),
    Column("skill_id", ForeignKey("skill.id"), nullable=True),  # the skill that last texted them
    Column("record_id", ForeignKey("calling_record.id"), nullable=True),
    Column("conversation_id", ForeignKey("conversation.id"), nullable=True),
    # possible_opt_out only: pending | accepted | rejected
    Column("review_state", String(10), nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Index("ix_inbound_sender", "sender", "received_at"),
    Index("ix_inbound_skill", "skill_id", "classification"),
)

api_key = Table(
    # A key for the HTTP API. It belongs to one business unit and sees nothing of another. Only
    # the SHA-256 of the secret is kept: the secret is shown once, when the key is created.
    "api_key",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex of the secret
    _created(),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # Raised by one on every change (optimistic concurrency: the API's ETag, migration 0025).
    Column("version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("business_unit_id", "name"),
)


# ---- Webhooks (migration 0006): per-BU endpoints, events, delivery log. ----

webhook_endpoint = Table(
    # Where a BU's events go (one URL per BU). The secret signs every delivery, so it is kept as
    # it is (it cannot be a hash); it is shown when created or rotated, never read back by the API.
    "webhook_endpoint",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False, unique=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(500), nullable=False),  # sealed (store.secret_box)
    Column("active", Boolean, nullable=False),
    Column("event_types", JSON, nullable=True),  # the types sent; None: every type
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Raised by one on every change (optimistic concurrency: the API's ETag, migration 0025).
    Column("version", Integer, nullable=False, server_default="1"),
)

webhook_event = Table(
    # The outbox: one row per event, written in the transaction of the change it reports, and
    # its delivery's state. `body` is the JSON exactly as sent, so every retry signs the same bytes.
    "webhook_event",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("public_id", String(40), nullable=False, unique=True),  # evt_…, receivers dedupe on it
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("type", String(40), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(12), nullable=False),  # pending | delivered | given_up | cancelled
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),  # a sender's lease
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ix_webhook_event_due", "state", "next_attempt_at"),
    Index("ix_webhook_event_bu", "business_unit_id", "id"),
)

webhook_attempt = Table(
    # The delivery log: every POST of an event, what came back and what happens next.
    "webhook_attempt",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("event_id", ForeignKey("webhook_event.id"), nullable=False),
    Column("attempt_no", Integer, nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("http_status", Integer, nullable=True),  # None: no answer (timeout, refused, …)
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(12), nullable=False),  # delivered | retrying | given_up
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Index("ix_webhook_attempt_event", "event_id", "attempt_no"),
)
# (end of the webhook tables)


# ---- Idempotency keys of the HTTP API (migration 0007). ----
idempotency_key = Table(
    # A POST's Idempotency-Key and the answer it got, per business unit, kept 24 h: the same key
    # again replays the answer. A row without a status is a request still running (a claim).
    "idempotency_key",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the request it answered
    Column("status_code", Integer, nullable=True),  # None: the first request is still running
    Column("response_body", JSON, nullable=True),
    _created(),
    UniqueConstraint("business_unit_id", "key"),
    Index("ix_idempotency_key_created_at", "created_at"),  # for the purge of expired keys
)
# (end of the idempotency tables)


# ---- Agents (migration 0008): agents, their skills and availability. ----
agent = Table(
    # A person who answers conversations, in one business unit.
    "agent",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("name", String(100), nullable=False),  # the handle used in the CLI and the API
    Column("display_name", String(200), nullable=False),
    Column("availability", String(10), nullable=False),  # available | away | offline
    Column("max_open_conversations", Integer, nullable=True),  # None: no limit
    # When a conversation last came to them: among equally busy agents the longest idle wins.
    Column("last_assigned_at", DateTime(timezone=True), nullable=True),
    _created(),
    # Raised by one on every change (optimistic concurrency: the API's ETag, migration 0025).
    Column("version", Integer, nullable=False, server_default="1"),
    # Set when removed while history refers to it: hidden from lists and look-ups, kept
    # for the texts, skills and reports that name it (migration 0025).
    Column("archived_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("business_unit_id", "name"),
)

agent_skill = Table(
    # Which agents answer the replies to which skills.
    "agent_skill",
    metadata,
    Column("agent_id", ForeignKey("agent.id"), primary_key=True),
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Index("ix_agent_skill_skill", "skill_id"),
)

conversation_assignment = Table(
    # The agent a conversation is assigned to (no row: it waits for one). A table of its own
    # rather than a column: SQLite cannot add a foreign-key column to a table that others
    # reference without copying it.
    "conversation_assignment",
    metadata,
    Column("conversation_id", ForeignKey("conversation.id"), primary_key=True),
    Column("agent_id", ForeignKey("agent.id"), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Index("ix_conversation_assignment_agent", "agent_id"),
)

agent_answer = Table(
    # Which agent wrote which answer (a supervisor's answer from the inbox has no row here).
    "agent_answer",
    metadata,
    Column("message_id", ForeignKey("message.id"), primary_key=True),
    Column("agent_id", ForeignKey("agent.id"), nullable=False),
    Column("conversation_id", ForeignKey("conversation.id"), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Index("ix_agent_answer_conversation", "conversation_id", "answered_at"),
    Index("ix_agent_answer_agent", "agent_id", "answered_at"),
)
# (end of the agent tables)


# ---- Cadences of agent skills (migration 0009). ----
# (message.cadence_step and message.step_attempt, in the unique constraint, are also 0009's.)

cadence = Table(
    # An agent skill's cadence: its steps (domain.cadence.Cadence as JSON, validated before it is
    # stored) and the outcomes that end a record.
    "cadence",
    metadata,
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Column("definition", JSON, nullable=False),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

cadence_record = Table(
    # Where one record of an agent skill stands in its cadence.
    "cadence_record",
    metadata,
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Column("record_id", ForeignKey("calling_record.id"), primary_key=True),
    Column("step", Integer, nullable=False),  # 1-based
    Column("attempts", Integer, nullable=False),  # attempts already made at this step
    Column("due_at", DateTime(timezone=True), nullable=True),  # next attempt not before
    # A voice attempt handed to the dialer: not handed out again before this moment.
    Column("in_call_until", DateTime(timezone=True), nullable=True),
    Column("done_reason", String(40), nullable=True),  # None while the cadence goes on
    Column("done_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_cadence_record_due", "skill_id", "done_reason", "due_at"),
)

cadence_outcome = Table(
    # Every attempt's outcome: a call's (reported by the dialer) or an SMS step's (texted or
    # skipped). One per attempt: a repeated report is recognized, never counted twice.
    "cadence_outcome",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("skill_id", ForeignKey("skill.id"), nullable=False),
    Column("record_id", ForeignKey("calling_record.id"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("detail", String(200), nullable=True),  # a skip reason, a note from the dialer
    Column("reported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("skill_id", "record_id", "step", "attempt"),
)
# (end of the cadence tables)


# ---- Kept counters of each skill's texts (migration 0011). ----
# Kept by triggers on `message` in the transaction of every state change (the migration's
# docstring says how); read by store.skill_counters, never counted over the message rows.

skill_counter = Table(
    # Texts of a skill by counted state (a message's state, or `waiting` for a pending text held
    # until a later moment) and skip reason ('' for none). Several shards per key on PostgreSQL
    # (one per backend that wrote), summed on read.
    "skill_counter",
    metadata,
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Column("state", String(20), primary_key=True),
    Column("skip_reason", String(30), primary_key=True),
    Column("shard", BigInteger, primary_key=True),
    Column("messages", BigInteger, nullable=False),
    Column("segments", BigInteger, nullable=False),
)

skill_minute = Table(
    # Per minute: texts of a skill that became sent (by sent_at) and delivered (by finished_at),
    # and the first and last sent_at (for the achieved rate). Shards as in skill_counter.
    "skill_minute",
    metadata,
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Column("minute", DateTime(timezone=True), primary_key=True),
    Column("shard", BigInteger, primary_key=True),
    Column("sent", BigInteger, nullable=False),
    Column("delivered", BigInteger, nullable=False),
    Column("first_sent_at", DateTime(timezone=True), nullable=True),
    Column("last_sent_at", DateTime(timezone=True), nullable=True),
)
# (end of the kept counters)

# ---- The web console (migration 0010): its users, their sessions, sign-in attempts, audit. ----
console_user = Table(
    # A person who signs in to the web console, in one business unit. The username is unique
    # across the whole installation (kept in lower case): the sign-in form asks for a username
    # and a password only, so a username must name one person whatever their unit.
    "console_user",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),  # Argon2id, with its parameters
    Column("role", String(12), nullable=False),  # admin | supervisor | agent
    Column("agent_id", ForeignKey("agent.id"), nullable=True),  # an agent user's agent
    Column("disabled_at", DateTime(timezone=True), nullable=True),  # None: may sign in
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    _created(),
    # Raised by one on every change (optimistic concurrency: the API's ETag, migration 0025).
    Column("version", Integer, nullable=False, server_default="1"),
)

console_session = Table(
    # A signed-in browser. Only the SHA-256 of the cookie's random token is kept, so a copy of
    # the database opens no session. Idle and absolute expiry are checked against the times here.
    "console_session",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("console_user.id"), nullable=False),
    Column("address", String(64), nullable=True),  # where it signed in from
    _created(),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_console_session_user", "user_id"),
)

login_attempt = Table(
    # Every sign-in attempt, by the username typed (known or not) and the address: throttling
    # counts the failures of each. Unknown usernames are counted the same way as known ones, so
    # the answers do not tell which usernames exist.
    "login_attempt",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("username", String(64), nullable=False),  # as typed, lower-cased
    Column("address", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Index("ix_login_attempt_username", "username", "attempted_at"),
    Index("ix_login_attempt_address", "address", "attempted_at"),
)

audit_log = Table(
    # Who did what, when: sign-ins, user changes, and the actions people take in the console
    # (started, paused, stopped, sent...). The username is copied so the entry reads the same
    # after the user changes.
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("user_id", ForeignKey("console_user.id"), nullable=True),  # None: no user (the CLI)
    Column("username", String(64), nullable=False),
    Column("action", String(40), nullable=False),  # e.g. login, logout, user.created, skill.started
    Column("target", String(200), nullable=False),  # what it was done to ('' if nothing)
    Column("detail", Text, nullable=False),  # a sentence or JSON; '' if nothing more
    Column("address", String(64), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_audit_log_bu_at", "business_unit_id", "at"),
)
# (end of the console tables)

# ---- Carrier link status (migration 0017). ----
carrier_link_status = Table(
    # What each dispatcher sees of each carrier connection it runs: bound or not since when, and
    # the last error (a refused bind, a connection that could not be opened, a lost link). One row
    # per (connection, worker): two workers may hold sessions to one account. Written by the
    # dispatcher when something changes (and every heartbeat), read by every reader of a
    # connection's status: the console, the API and the CLI. It is the one place a connection's
    # status is kept: a column on carrier_connection would be last-writer-wins between workers
    # (one worker's bind would wipe another's refusal) and could not tell a live link from a
    # dead worker's last word.
    "carrier_link_status",
    metadata,
    Column("connection_id", ForeignKey("carrier_connection.id"), primary_key=True),
    Column("worker_id", String(100), primary_key=True),
    Column("state", String(10), nullable=False),  # bound | unbound | stopped
    Column("since", DateTime(timezone=True), nullable=False),  # in this state since
    Column("last_error", Text, nullable=True),
    Column("last_error_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # This worker's circuit breaker of the connection (migration 0027, domain.circuit_breaker):
    # closed | open | half_open, since when and why; None before its first report.
    Column("breaker", String(10), nullable=True),
    Column("breaker_since", DateTime(timezone=True), nullable=True),
    Column("breaker_reason", Text, nullable=True),
)
# (end of the carrier link status)

# ---- Routes: a registration's ordered carrier connections (migration 0027). ----
registration_connection = Table(
    # The connections a code sends through, in order: the first whose breaker lets texts
    # through carries them (services.carrier_route). sms_registration.connection_id is always
    # position 0's (store.registrations.set_route writes both).
    "registration_connection",
    metadata,
    Column("registration_id", ForeignKey("sms_registration.id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # 0 first
    Column("connection_id", ForeignKey("carrier_connection.id"), nullable=False),
    UniqueConstraint("registration_id", "connection_id", name="uq_registration_connection_once"),
    Index("ix_registration_connection_connection", "connection_id"),
)

route_status = Table(
    # Which connection carries a code's texts now, as the dispatcher holding its lease sees it,
    # and how often it failed over (left the first) and came back: the one place the console,
    # the API and /metrics read it from. Working state: deleted with the code's lease.
    "route_status",
    metadata,
    Column("registration_id", ForeignKey("sms_registration.id"), primary_key=True),
    Column("connection_id", Integer, nullable=True),  # None: no connection can carry now
    Column("since", DateTime(timezone=True), nullable=False),
    Column("failovers", Integer, nullable=False, server_default="0"),
    Column("returns", Integer, nullable=False, server_default="0"),
    Column("worker_id", String(100), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
# (end of 0027)

# ---- What a number's history needs and nothing else kept (migration 0022). ----
message_wait = Table(
    # Each time a due text was put back to wait: for its recipient's calling window, a frequency
    # cap, or a possible opt-out under review. Written when the wait begins (a transition), not
    # at every re-check of the same wait: the hot path pays one row per real deferral.
    "message_wait",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("message_id", ForeignKey("message.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # domain.number_history.WaitKind
    Column("reason", Text, nullable=False),  # in words, as the decision gave it
    Column("until", DateTime(timezone=True), nullable=True),  # when it is looked at again
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_message_wait_message", "message_id", "id"),
)

dnc_removal = Table(
    # A number taken off a DNC list, with the entry it removed (a dnc_entry row is deleted, so
    # its source and time would otherwise be lost): who added it, and who took it off.
    "dnc_removal",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("dnc_list_id", ForeignKey("dnc_list.id"), nullable=False),
    Column("phone", String(20), nullable=False),  # E.164
    Column("added_source", String(20), nullable=False),  # the removed entry's source
    Column("added_note", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("removed_by", String(20), nullable=False),  # manual | api | opt_in
    Column("removed_at", DateTime(timezone=True), nullable=False),
    Index("ix_dnc_removal_phone", "phone", "dnc_list_id"),
)
# (end of 0022)


# A skill started at a moment (migration 0032): one row per skill, its status `scheduled`
# until the dispatcher fires it. The conditional UPDATE of `state` (waiting -> firing) is the
# claim: of several dispatchers exactly one fires it; `heartbeat_at` is renewed after each
# launch batch, so a firing whose process died is taken over and its launch resumed.
skill_start = Table(
    "skill_start",
    metadata,
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Column("start_at", DateTime(timezone=True), nullable=False),
    Column("time_zone", String(64), nullable=True),  # the zone it was given in (for showing)
    # waiting | firing | started | missed | failed | cancelled
    Column("state", String(12), nullable=False),
    Column("detail", Text, nullable=True),  # why it failed or was missed
    Column("claimed_by", String(200), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("fired_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),  # raised by moves
    _created(),
    Index("ix_skill_start_state_start_at", "state", "start_at"),
)

# A recurring notice (migration 0032): a template sent to a calling list from a code at each
# occurrence of a cron expression read in a zone; each occurrence starts a fresh skill.
notice_schedule = Table(
    "notice_schedule",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("template_id", ForeignKey("template.id"), nullable=False),
    Column("calling_list_id", ForeignKey("calling_list.id"), nullable=False),
    Column("registration_id", ForeignKey("sms_registration.id"), nullable=False),
    Column("campaign_id", ForeignKey("campaign.id"), nullable=True),
    Column("max_segments", Integer, nullable=False),
    Column("calling_window", JSON, nullable=True),
    Column("cron", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("status", String(12), nullable=False),  # active | paused
    # The occurrence to fire next; moved on by the claim (a conditional UPDATE on its value).
    Column("next_run_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    _created(),
    UniqueConstraint("business_unit_id", "name"),
    Index("ix_notice_schedule_status_next_run_at", "status", "next_run_at"),
)

# Each occurrence of a recurring notice: when it was due, the skill it started, the outcome.
notice_schedule_run = Table(
    "notice_schedule_run",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("schedule_id", ForeignKey("notice_schedule.id"), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("state", String(12), nullable=False),  # firing | started | missed | failed
    Column("skill_id", ForeignKey("skill.id"), nullable=True),
    Column("detail", Text, nullable=True),
    Column("claimed_by", String(200), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("fired_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("schedule_id", "due_at"),
    # Every dispatcher looks for runs left firing each second: found without reading history.
    Index("ix_notice_schedule_run_state_heartbeat_at", "state", "heartbeat_at"),
)
# ---- Spend (migration 0033): prices, spend kept per skill, budgets. ----
code_price = Table(
    # A transport code's price per segment: country '' for every destination, and ISO regions
    # whose own price overrides it. One currency per code (services.spend checks it).
    "code_price",
    metadata,
    Column("registration_id", ForeignKey("sms_registration.id"), primary_key=True),
    Column("country", String(2), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("price_micros", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

unit_budget = Table(
    # A business unit's spend settings: the currency its prices and budgets are in, its monthly
    # budget (None: no cap), and the zone its calendar months begin in.
    "unit_budget",
    metadata,
    Column("business_unit_id", ForeignKey("business_unit.id"), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("monthly_micros", BigInteger, nullable=True),
    Column("time_zone", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

skill_spend = Table(
    # What a skill's texts cost once they left (sent, or uncertain: they may have), by the
    # quarter hour they were submitted in. Kept by a trigger on `message` in the transaction of
    # the result (the migration says how); shards as in skill_counter.
    "skill_spend",
    metadata,
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Column("quarter", DateTime(timezone=True), primary_key=True),
    Column("shard", BigInteger, primary_key=True),
    Column("texts", BigInteger, nullable=False),
    Column("segments", BigInteger, nullable=False),
    Column("cost_micros", BigInteger, nullable=False),
)
# (end of 0033)
# Tracked links (migration 0035, docs/links.md). A launch writes no row per link: the code in
# <domain>/l/<code> carries (skill, record, link index) and its own MAC (domain/short_links.py).
skill_link = Table(
    # The target of each tracked link of a skill's text, written once when the skill starts.
    "skill_link",
    metadata,
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
    Column("link_index", Integer, primary_key=True),
    Column("target_url", Text, nullable=False),
)

link_click = Table(
    # One row per recipient and link, written at the first counted click (bots are not
    # counted); later clicks raise `clicks`. No foreign keys: the redirect's hot path inserts
    # here and the code's MAC already vouches for the ids.
    "link_click",
    metadata,
    Column("skill_id", Integer, primary_key=True),
    Column("record_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("link_index", Integer, primary_key=True),
    Column("first_clicked_at", DateTime(timezone=True), nullable=False),
    Column("last_clicked_at", DateTime(timezone=True), nullable=False),
    Column("clicks", Integer, nullable=False),
    Column("agent_class", String(10), nullable=False),  # first click: mobile, desktop, other
)

carrier_callback = Table(
    # A provider's callback (status report or inbound text), stored as received before it is
    # acknowledged (migration 0026); the dispatcher turns it into a receipt or an inbound text
    # and marks it processed (services/carrier_callbacks.py). A provider that posts again
    # finds its first copy: duplicates are recorded, then applied as receipts are (first wins).
    "carrier_callback",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("connection_id", ForeignKey("carrier_connection.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # status | inbound
    Column("provider_message_id", String(80), nullable=False),  # as the provider gave it
    Column("event", String(30), nullable=False),  # the status reported ("" for inbound)
    Column("payload", JSON, nullable=False),  # the form fields as posted
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(200), nullable=True),  # what processing did, for the record
    Index("ix_carrier_callback_unprocessed", "processed_at", "id"),
    # A provider that posts one callback twice (a retry, a duplicate) finds the first copy.
    UniqueConstraint("connection_id", "kind", "provider_message_id", "event",
                     name="uq_carrier_callback_event"),
)


# ---- Console uploads (migration 0036): files people upload to the console, kept in the database
# so that any API server can serve any step of a list's upload, mapping and report. ----
console_upload = Table(
    # One upload of a unit, found by its unguessable token; swept a day after it came
    # (store/console_uploads.py). `state`: receiving (chunks still coming: never shown),
    # ready (waiting for its mapping), imported (the file is gone; the report remains).
    "console_upload",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("business_unit_id", ForeignKey("business_unit.id"), nullable=False),
    Column("token", String(40), nullable=False, unique=True),
    Column("state", String(10), nullable=False),
    Column("file_bytes", BigInteger, nullable=False),
    Column("details", JSON, nullable=False),  # what the upload said (list, file name, format)
    Column("report", JSON, nullable=True),  # the import's report, once imported
    _created(),
    Index("ix_console_upload_created_at", "created_at"),  # for the sweep
)

console_upload_chunk = Table(
    # The bytes of an upload's parts ("file": the file as uploaded; "rejected": the import's
    # rejected rows as CSV), in chunks of store/console_uploads.CHUNK_BYTES, `seq` from 0.
    "console_upload_chunk",
    metadata,
    Column("upload_id", BigId, ForeignKey("console_upload.id"), primary_key=True),
    Column("part", String(10), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
