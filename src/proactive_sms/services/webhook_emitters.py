"""The webhook events of the use cases, each added in the transaction of what it reports.

The services call these with one line each (inbound texts, opt-outs and opt-ins, started,
finished and stopped skills); message.status events come from store.messages.transition
itself. Each returns at once, without building anything, when the BU has no endpoint that
wants the type.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.webhook_events import EventType, StartedBy
from proactive_sms.store import links, skill_counters, skills, webhook_events, webhooks
from proactive_sms.store.registrations import Registration
from proactive_sms.store.schema import dnc_list


def inbound_received(conn: Connection, reg: Registration, *, inbound_id: int, sender: str,
                     text: str, classification: str, skill_id: int | None,
                     conversation_id: int | None, now: datetime) -> None:
    if not webhook_events.wants(conn, reg.business_unit_id, EventType.INBOUND_RECEIVED):
        return
    webhook_events.emit(conn, reg.business_unit_id, EventType.INBOUND_RECEIVED, {
        "inbound_id": inbound_id, "from": sender, "code": reg.code, "text": text,
        "classification": classification, "skill_id": skill_id,
        "conversation_id": conversation_id, "received_at": now,
    }, now)


def opt_changed(conn: Connection, reg: Registration, *, opted_out: bool, phone: str,
                dnc_list_id: int, inbound_id: int, now: datetime) -> None:
    """The number went on (opt_out) or off (opt_in) the DNC list that applies to the code."""
    kind = EventType.OPT_OUT if opted_out else EventType.OPT_IN
    if not webhook_events.wants(conn, reg.business_unit_id, kind):
        return
    list_name = conn.scalar(select(dnc_list.c.name).where(dnc_list.c.id == dnc_list_id))
    webhook_events.emit(conn, reg.business_unit_id, kind, {
        "phone": phone, "code": reg.code, "dnc_list": list_name, "inbound_id": inbound_id,
    }, now)


def skill_started(conn: Connection, skill: skills.Skill, status: str, started_by: StartedBy,
                  now: datetime) -> None:
    """A skill left its draft (in the transaction that moves it on, so a launch resumed after
    a crash does not tell it twice): its status now (`launching`; an agent skill `running`),
    what started it, and when it was due."""
    if not webhook_events.wants(conn, skill.business_unit_id, EventType.SKILL_STARTED):
        return
    webhook_events.emit(conn, skill.business_unit_id, EventType.SKILL_STARTED, {
        "skill_id": skill.id, "skill": skill.name, "kind": skill.kind, "status": status,
        "started_at": now, **started_by.as_data(),
    }, now)


def skill_finished(conn: Connection, skill_id: int, now: datetime) -> None:
    """A skill has nothing left to send: its counts by state come along."""
    _skill_ended(conn, skill_id, EventType.SKILL_FINISHED, "finished", now)


def skill_stopped(conn: Connection, skill_id: int, cancelled: int, now: datetime) -> None:
    """A person stopped the skill: how many pending texts that cancelled (one event, not one
    message.status per text: a stop can cancel a million), and the counts by state."""
    _skill_ended(conn, skill_id, EventType.SKILL_STOPPED, "stopped", now, cancelled=cancelled)


def _skill_ended(conn: Connection, skill_id: int, kind: EventType, status: str, now: datetime,
                 **extra) -> None:
    if not webhooks.watched(conn):  # no BU has a webhook: not even the skill is read
        return
    found = skills.skill_by_id(conn, skill_id)
    if not webhook_events.wants(conn, found.business_unit_id, kind):
        return
    by_state: dict[str, int] = {}
    for count in skill_counters.counts(conn, [skill_id]).get(skill_id, []):
        # kept counters (a stop of a million texts counts nothing); a held text is pending
        state = (MessageState.PENDING.value if count.state == skill_counters.WAITING
                 else count.state)
        by_state[state] = by_state.get(state, 0) + count.messages
    webhook_events.emit(conn, found.business_unit_id, kind, {
        "skill_id": skill_id, "skill": found.name, "status": status,
        "started_at": found.started_at, "finished_at": now, **extra,
        "messages_by_state": by_state,
    }, now)


def skill_paused(conn: Connection, skill_id: int, reason: str, detail: str, spent: str,
                 budget: str, currency: str | None, now: datetime) -> None:
    """The system paused a running skill: a budget was reached (`reason`: skill_budget or
    unit_monthly_budget; `detail`: the sentence the console and the CLI show)."""
    if not webhooks.watched(conn):
        return
    found = skills.skill_by_id(conn, skill_id)
    if not webhook_events.wants(conn, found.business_unit_id, EventType.SKILL_PAUSED):
        return
    webhook_events.emit(conn, found.business_unit_id, EventType.SKILL_PAUSED, {
        "skill_id": skill_id, "skill": found.name, "status": "paused", "reason": reason,
        "detail": detail, "spent": spent, "budget": budget, "currency": currency,
        "paused_at": now,
    }, now)


def message_clicked(conn: Connection, business_unit_id: int, *, skill_id: int, record_id: int,
                    link_index: int, url: str, agent_class: str, now: datetime) -> None:
    """A recipient clicked a tracked link for the first time (later clicks are only counted;
    link-preview bots are never a click)."""
    if not webhook_events.wants(conn, business_unit_id, EventType.MESSAGE_CLICKED):
        return
    found = links.message_of(conn, skill_id, record_id)
    webhook_events.emit(conn, business_unit_id, EventType.MESSAGE_CLICKED, {
        "message_id": found[0] if found else None, "to": found[1] if found else None,
        "skill_id": skill_id, "skill": skills.skill_by_id(conn, skill_id).name,
        "link_index": link_index, "url": url, "agent_class": agent_class, "clicked_at": now,
    }, now)
