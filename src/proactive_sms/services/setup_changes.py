"""Changing and removing what an administrator sets up: registrations (transport codes), carrier
connections and templates. `services.administration` creates them; this module is the rest.

Every change:
- is checked like a creation (the same functions of `administration`), so a PATCH cannot store
  what a POST would refuse;
- is written against the version the caller read when it gives one (`expected_version`, from
  the API's If-Match): of two changes made from the same read one wins, the other is
  StaleVersion (store.versions);
- is audited in its own transaction, scoped to the business unit.

Removal never breaks history or running work:
- a registration, connection or template that a skill not yet over uses (draft, launching,
  running, paused) is refused with InUse, naming the skills (a connection: the codes sending
  through it), so nothing stops half-way and no draft is left pointing at nothing;
- otherwise the row is deleted when nothing refers to it, and archived when texts, skills or
  conversations already do. Archiving rather than deleting those keeps every report, message
  and conversation readable (they join to the row) and keeps the foreign keys whole; an archived
  row is left out of lists and look-ups, so for people it is gone. Saving a template or a
  connection of the same name later brings that row back with the new settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from proactive_sms.domain.bidi_marks import MARK_CHOICES
from proactive_sms.domain.clock import Clock
from proactive_sms.services import audit
from proactive_sms.services.administration import (
    InvalidRequest,
    check_connection_settings,
    check_registration_settings,
    code_key,
    route_names,
)
from proactive_sms.store import dnc, notice_schedules, registrations, versions
from proactive_sms.store import templates as template_store
from proactive_sms.store.calling_lists import find_list
from proactive_sms.store.errors import InUse, StaleVersion
from proactive_sms.store.schema import (
    cadence,
    carrier_connection,
    carrier_link_status,
    code_pace,
    registration_connection,
    route_status,
    skill,
    sms_registration,
    template,
    transport_lease,
)
from proactive_sms.store.skills import SkillStatus
from proactive_sms.store.tenancy import BusinessUnit

# A skill in one of these still needs what it names; stopped and finished ones are history.
NOT_OVER = (SkillStatus.DRAFT, SkillStatus.SCHEDULED, SkillStatus.LAUNCHING, SkillStatus.RUNNING,
            SkillStatus.PAUSED)

REGISTRATION_FIELDS = ("status", "throughput_per_s", "throughput_unit", "solution",
                       "connection", "connections", "dnc_group")
CONNECTION_FIELDS = ("host", "port", "system_id", "password", "window_size", "enquire_link_s")
# An HTTP provider connection's: its token is its "password" (sealed alike)
HTTP_CONNECTION_FIELDS = ("account", "password", "base_url", "callback_url", "window_size",
                          "signature_secret")
TEMPLATE_FIELDS = ("body", "direction", "smart_encoding", "bidi_marks", "calling_list")


@dataclass(frozen=True)
class Removal:
    """What a removal did: `archived` when history refers to the row (`kept_for` names the
    tables that do), else the row is deleted."""

    kind: str
    key: str
    archived: bool
    kept_for: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key,
                "outcome": "archived" if self.archived else "deleted",
                "kept_for": self.kept_for}


def in_use(kind: str, key: str, users: list[str]) -> InUse:
    """The refusal of a removal, naming each thing that still needs the row."""
    return InUse(kind, key, f"is in use by {', '.join(users)}: stop or change "
                            f"{'it' if len(users) == 1 else 'them'} first")


def _known(changes: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidRequest(f"cannot change {', '.join(unknown)}: the fields that can be "
                             f"changed are {', '.join(allowed)}", unknown[0])


def _skills_using(conn: Connection, column, row_id: int) -> list[str]:
    """Names (with status) of the skills not yet over that name the row."""
    rows = conn.execute(select(skill.c.name, skill.c.status).where(
        column == row_id, skill.c.status.in_([s.value for s in NOT_OVER]))
        .order_by(skill.c.name))
    return [f"{name} ({status})" for name, status in rows]


def _schedules_using(conn: Connection, **refs: int) -> list[str]:
    """The recurring notices that send this template, or from this code (they would start
    skills with it at their next occurrence)."""
    return [f"schedule {s.name} ({s.status})" for s in notice_schedules.using(conn, **refs)]


def _remove_or_archive(conn: Connection, table, row_id: int, expected: int | None, clock: Clock,
                       *, kind: str, key: str, ignore: tuple = ()) -> Removal:
    kept_for = versions.referenced(conn, table, row_id, ignore=ignore)
    if kept_for:
        versions.archive(conn, table, row_id, expected, clock.now(), kind=kind, key=key)
    else:
        versions.remove(conn, table, row_id, expected, kind=kind, key=key)
    return Removal(kind, key, bool(kept_for), kept_for)


# --- registrations ----------------------------------------------------------------------------

def change_registration(engine: Engine, bu: BusinessUnit, clock: Clock, code: str,
                        changes: Mapping[str, Any], expected_version: int | None = None, *,
                        actor: str = audit.CLI_USERNAME) -> registrations.Registration:
    """Change a code's status, limit, unit, solution, connection or DNC group (None for
    `connection`/`dnc_group`: none, the tenant default list). The code and its kind are what
    it is: to change those, add another registration."""
    _known(changes, REGISTRATION_FIELDS)
    with engine.begin() as conn:
        reg = registrations.find_registration(conn, bu.id, code_key(code, bu))
        merged = {"status": reg.status, "throughput_per_s": reg.throughput_per_s,
                  "throughput_unit": reg.throughput_unit, "solution": reg.solution,
                  "dnc_group": None, **changes}
        check_registration_settings(kind=reg.kind, solution=merged["solution"],
                                    throughput_unit=merged["throughput_unit"],
                                    throughput_per_s=float(merged["throughput_per_s"]),
                                    status=merged["status"], dnc_group=merged["dnc_group"])
        values = {k: changes[k] for k in ("status", "throughput_per_s", "throughput_unit",
                                          "solution") if k in changes}
        route = _route_change(conn, bu, changes)
        if "dnc_group" in changes:
            values["dnc_list_id"] = (
                dnc.ensure_group(conn, bu.tenant_id, changes["dnc_group"], clock.now()).id
                if changes["dnc_group"] else None)
        versions.change(conn, sms_registration, reg.id, expected_version, "registration",
                        reg.code, **values)
        if route is not None:
            registrations.set_route(conn, reg.id, route)
        audit.record(conn, None, "registration.changed", reg.code, dict(changes), bu=bu,
                     now=clock.now(), username=actor)
        return registrations.registration_by_id(conn, reg.id)


def _route_change(conn: Connection, bu: BusinessUnit,
                  changes: Mapping[str, Any]) -> list[int] | None:
    """The connection ids a change gives the code, first first (None: the route stays).
    `connection` (one name, or None for none) and `connections` (names in order) say the same
    thing two ways; both at once would be two answers."""
    if "connection" in changes and "connections" in changes:
        raise InvalidRequest("give either connection or connections, not both", "connections")
    if "connection" in changes:
        names = [changes["connection"]] if changes["connection"] else []
    elif "connections" in changes:
        names = route_names(changes["connections"])
    else:
        return None
    return [registrations.find_connection(conn, bu.tenant_id, name).id for name in names]


def remove_registration(engine: Engine, bu: BusinessUnit, clock: Clock, code: str,
                        expected_version: int | None = None, *,
                        actor: str = audit.CLI_USERNAME) -> Removal:
    """Remove a code the unit no longer uses (archived when texts or skills refer to it)."""
    with engine.begin() as conn:
        reg = registrations.find_registration(conn, bu.id, code_key(code, bu))
        users = [f"skill {u}" for u in _skills_using(conn, skill.c.registration_id, reg.id)]
        users += _schedules_using(conn, registration_id=reg.id)
        if users:
            raise in_use("registration", reg.code, users)
        # Its pace and lease are the dispatcher's working state, not history.
        conn.execute(delete(code_pace).where(code_pace.c.registration_id == reg.id))
        conn.execute(delete(transport_lease).where(transport_lease.c.registration_id == reg.id))
        conn.execute(delete(route_status).where(route_status.c.registration_id == reg.id))
        # Its route is part of the row: kept with an archived code, gone with a deleted one
        # (first, or the foreign key would refuse the delete; a refused delete rolls it back).
        if not versions.referenced(conn, sms_registration, reg.id,
                                   ignore=(registration_connection,)):
            conn.execute(delete(registration_connection)
                         .where(registration_connection.c.registration_id == reg.id))
        removal = _remove_or_archive(conn, sms_registration, reg.id, expected_version, clock,
                                     kind="registration", key=reg.code,
                                     ignore=(registration_connection,))
        audit.record(conn, None, "registration.removed", reg.code, removal.as_dict(), bu=bu,
                     now=clock.now(), username=actor)
        return removal


# --- carrier connections ----------------------------------------------------------------------

def change_connection(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                      changes: Mapping[str, Any], expected_version: int | None = None, *,
                      actor: str = audit.CLI_USERNAME) -> registrations.CarrierConnection:
    """Change a connection's address, account, window or keep-alive. The password is sealed
    like at creation and never returned; the audit names that it changed, not what to."""
    with engine.begin() as conn:
        found = registrations.find_connection(conn, bu.tenant_id, name)
        if found.kind == "http":
            return _change_http_connection(conn, bu, clock, found, changes, expected_version,
                                           actor)
        _known(changes, CONNECTION_FIELDS)
        merged = {"host": found.host, "port": found.port, "system_id": found.system_id,
                  "window_size": found.window_size, "enquire_link_s": found.enquire_link_s,
                  **changes}
        check_connection_settings(name=found.name, window_size=int(merged["window_size"]),
                                  enquire_link_s=merged["enquire_link_s"],
                                  system_id=str(merged["system_id"]),
                                  password=changes.get("password"))
        if not str(merged["host"]).strip():
            raise InvalidRequest("host must not be empty", "host")
        if not 1 <= int(merged["port"]) <= 65535:
            raise InvalidRequest(f"port must be 1..65535, got {merged['port']}", "port")
        values = {k: v for k, v in changes.items() if k != "password"}
        if "password" in changes:
            values["password"] = registrations.seal(conn, changes["password"])
        versions.change(conn, carrier_connection, found.id, expected_version,
                        "carrier connection", found.name, **values)
        shown = {k: ("(changed)" if k == "password" else v) for k, v in changes.items()}
        audit.record(conn, None, "connection.changed", found.name, shown, bu=bu,
                     now=clock.now(), username=actor)
        return registrations.connection_by_id(conn, found.id)


def _change_http_connection(conn: Connection, bu: BusinessUnit, clock: Clock,
                            found: registrations.CarrierConnection, changes: Mapping[str, Any],
                            expected_version: int | None,
                            actor: str) -> registrations.CarrierConnection:
    """An HTTP provider connection's account, token ("password"), URLs or window: checked as
    at creation (administration.add_http_connection), the token sealed."""
    from proactive_sms.services.administration import check_http_settings, provider_token

    _known(changes, HTTP_CONNECTION_FIELDS)
    changes = dict(changes)
    if "signature_secret" in changes or ("password" in changes and found.provider == "vonage"):
        # Vonage's token holds its API secret and signature secret: change one, keep the other.
        changes["password"] = provider_token(found.provider or "", changes.get("password"),
                                             changes.pop("signature_secret", None),
                                             keep=found.password)
    merged = {"account": found.account or "", "base_url": found.base_url or "",
              "callback_url": found.callback_url or "", "window_size": found.window_size,
              **changes}
    check_http_settings(provider=found.provider or "", account=str(merged["account"]),
                        token=changes.get("password", found.password),
                        base_url=str(merged["base_url"]),
                        callback_url=str(merged["callback_url"]),
                        window_size=int(merged["window_size"]))
    values = {k: (str(v).strip().rstrip("/") if k.endswith("_url") else v)
              for k, v in changes.items() if k != "password"}
    if "password" in changes:
        values["password"] = registrations.seal(conn, changes["password"])
    versions.change(conn, carrier_connection, found.id, expected_version,
                    "carrier connection", found.name, **values)
    shown = {k: ("(changed)" if k == "password" else v) for k, v in changes.items()}
    audit.record(conn, None, "connection.changed", found.name, shown, bu=bu, now=clock.now(),
                 username=actor)
    return registrations.connection_by_id(conn, found.id)


def remove_connection(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                      expected_version: int | None = None, *,
                      actor: str = audit.CLI_USERNAME) -> Removal:
    """Remove a connection no registration sends through (the tenant's: codes of other units
    count too, named only by their number)."""
    with engine.begin() as conn:
        found = registrations.find_connection(conn, bu.tenant_id, name)
        # A code that has it anywhere in its route (a fallback too) still needs it.
        rows = registrations.registrations_routed_through(conn, found.id)
        if rows:
            own = [f"registration {code}" for code, unit in rows if unit == bu.id]
            others = sum(1 for _, unit in rows if unit != bu.id)
            raise in_use("carrier connection", found.name,
                        own + ([f"{others} registration(s) of other units"] if others else []))
        # What dispatchers last saw of the link is working state, not history.
        conn.execute(delete(carrier_link_status)
                     .where(carrier_link_status.c.connection_id == found.id))
        removal = _remove_or_archive(conn, carrier_connection, found.id, expected_version, clock,
                                     kind="carrier connection", key=found.name)
        audit.record(conn, None, "connection.removed", found.name, removal.as_dict(), bu=bu,
                     now=clock.now(), username=actor)
        return removal


# --- templates --------------------------------------------------------------------------------

def change_template(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                    changes: Mapping[str, Any], expected_version: int | None = None, *,
                    actor: str = audit.CLI_USERNAME) -> template_store.StoredTemplate:
    """Change a template's body, direction or smart encoding; `calling_list` checks the body's
    fields against that list first (as when saving), and is not stored."""
    from proactive_sms.domain import template as template_rules

    _known(changes, TEMPLATE_FIELDS)
    with engine.begin() as conn:
        found = template_store.find_template(conn, bu.id, name)
        body = changes.get("body", found.body)
        direction = changes.get("direction", found.direction)
        if direction not in ("ltr", "rtl", "auto"):
            raise InvalidRequest(f"direction must be ltr, rtl or auto, got '{direction}'",
                                 "direction")
        if "bidi_marks" in changes and changes["bidi_marks"] not in MARK_CHOICES:
            raise InvalidRequest(f"bidi_marks must be auto or off, got '{changes['bidi_marks']}'",
                                 "bidi_marks")
        parsed = template_rules.parse(body)  # TemplateError says what and where
        if changes.get("calling_list"):
            problems = template_rules.validate(
                parsed, find_list(conn, bu.id, changes["calling_list"]).fields)
            if problems:
                raise problems[0]
        values = {k: changes[k] for k in ("body", "direction", "smart_encoding", "bidi_marks")
                  if k in changes}
        if not values:  # only a check against a list: nothing is written, no version moves
            if expected_version is not None and expected_version != found.version:
                raise StaleVersion("template", found.name, expected_version, found.version)
            return found
        versions.change(conn, template, found.id, expected_version, "template", found.name,
                        **values, updated_at=clock.now())
        audit.record(conn, None, "template.changed", found.name, values, bu=bu,
                     now=clock.now(), username=actor)
        return template_store.template_by_id(conn, found.id)


def remove_template(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                    expected_version: int | None = None, *,
                    actor: str = audit.CLI_USERNAME) -> Removal:
    """Remove a template no skill still to send uses (archived when past skills name it)."""
    with engine.begin() as conn:
        found = template_store.find_template(conn, bu.id, name)
        users = [f"skill {u}" for u in _skills_using(conn, skill.c.template_id, found.id)]
        users += [f"cadence of skill {u}" for u in _cadences_using(conn, bu, found.name)]
        users += _schedules_using(conn, template_id=found.id)
        if users:
            raise in_use("template", found.name, users)
        removal = _remove_or_archive(conn, template, found.id, expected_version, clock,
                                     kind="template", key=found.name)
        audit.record(conn, None, "template.removed", found.name, removal.as_dict(), bu=bu,
                     now=clock.now(), username=actor)
        return removal


def _cadences_using(conn: Connection, bu: BusinessUnit, name: str) -> list[str]:
    """Agent skills not yet over whose cadence texts this template (steps name it)."""
    rows = conn.execute(select(skill.c.name, skill.c.status, cadence.c.definition)
                        .join(cadence, cadence.c.skill_id == skill.c.id)
                        .where(skill.c.business_unit_id == bu.id,
                               skill.c.status.in_([s.value for s in NOT_OVER]))
                        .order_by(skill.c.name))
    return [f"{skill_name} ({status})" for skill_name, status, definition in rows
            if any(isinstance(step, dict) and step.get("template") == name
                   for step in (definition or {}).get("steps", []))]
