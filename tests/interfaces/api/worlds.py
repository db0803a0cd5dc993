"""A business unit with something of every resource, made through the real services (the API
tests then read it over HTTP): a skill whose texts were sent, replies, conversations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from proactive_sms.carriers.base import DeliveryReceipt, InboundText, ReceiptState
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageState
from proactive_sms.services import administration, launching
from proactive_sms.services.inbound import InboundService
from proactive_sms.store import deliveries, messages
from proactive_sms.store.schema import message
from proactive_sms.store.tenancy import BusinessUnit
from tests.factories import import_people, us_number

CODE = "55501"
POSSIBLE_OPT_OUT = ("I have told you people many times that I want this to stop, "
                    "I am not interested in your offers at all")


@dataclass(frozen=True)
class Texted:
    skill_id: int
    message_ids: list[int]


def texted_skill(engine: Engine, bu: BusinessUnit, clock: Clock, tmp_path: Path, count: int,
                 *, code: str = CODE, name: str = "notice") -> Texted:
    """An sms_messaging code, a list of `count` people and a skill whose texts were all
    accepted by the carrier (each with one part) and delivered, as the dispatcher records it."""
    import_people(engine, bu, clock, tmp_path, count)
    administration.add_registration(engine, bu, clock, code=code, kind="short",
                                    throughput_per_s=100, connection=None, dnc_group=None,
                                    solution="sms_messaging")
    skill = administration.create_skill(engine, bu, clock, name=name, registration=code,
                                        calling_list="people")
    launching.start_skill(engine, skill.id, clock, message_text="Hi {FirstName}, we miss you.")
    with engine.begin() as conn:
        ids = list(conn.scalars(select(message.c.id).where(message.c.skill_id == skill.id)
                                .order_by(message.c.id)))
        messages.transition(conn, ids, MessageState.SUBMITTING, clock.now(),
                            submitted_at=clock.now())
        deliveries.record_accepted(conn, [deliveries.Accepted(m, (f"A{m:03d}",)) for m in ids],
                                   clock.now())
        deliveries.apply_receipts(conn, [DeliveryReceipt(f"A{m:03d}", ReceiptState.DELIVERED)
                                         for m in ids], clock.now())
    return Texted(skill.id, ids)


def reply(engine: Engine, clock: Clock, person: int, text: str, code: str = CODE):
    """Person `person` of the list texts `code`; the real inbound service handles it."""
    (outcome,) = InboundService(engine, clock).handle_batch([InboundText(
        sender="1" + us_number(person), recipient=code, text=text,
        carrier_message_id=f"in-{person}-{text[:8]}")])
    return outcome
