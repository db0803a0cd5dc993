"""A BU whose skill has texted people from an sms_messaging code, so that their replies open
conversations; helpers to reply, and to count who got what."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.carriers.base import InboundText
from proactive_sms.domain.clock import ManualClock
from proactive_sms.services import administration, agents, launching
from proactive_sms.services.inbound import InboundOutcome, InboundService
from proactive_sms.store.schema import message
from proactive_sms.store.tenancy import BusinessUnit
from tests.factories import import_people, us_number


def e164(i: int) -> str:
    return "+1" + us_number(i)


@dataclass
class AgentWorld:
    engine: Engine
    bu: BusinessUnit
    clock: ManualClock
    code: str = "55501"

    def reply(self, i: int, text: str = "Can you call me back?") -> InboundOutcome:
        (outcome,) = InboundService(self.engine, self.clock).handle_batch([InboundText(
            sender=e164(i).lstrip("+"), recipient=self.code, text=text,
            carrier_message_id=f"in-{i}-{self.clock.now().timestamp()}")])
        return outcome

    def agent(self, name: str, availability: str = "available", skill: str = "follow-up",
              **options):
        return agents.create_agent(self.engine, self.bu, self.clock, name,
                                   availability=availability, skill_names=[skill], **options)

    def holders(self) -> Counter:
        """How many open conversations each agent has."""
        views = agents.all_agents(self.engine, self.bu)
        return Counter({v.name: v.open_conversations for v in views})

    def holder(self, conversation_id: int) -> str | None:
        return agents.assignment(self.engine, self.bu, self.clock, conversation_id).agent_name


def texted_world(engine: Engine, bu: BusinessUnit, clock: ManualClock, tmp_path, people: int = 12,
                 skill: str = "follow-up", code: str = "55501") -> AgentWorld:
    """`people` texted by `skill` from `code` (sms_messaging), as if the dispatcher sent them."""
    administration.add_registration(engine, bu, clock, code=code, kind="short",
                                    throughput_per_s=100, connection=None, dnc_group=None,
                                    solution="sms_messaging")
    import_people(engine, bu, clock, tmp_path, people, name=f"{skill}-people")
    created = administration.create_skill(engine, bu, clock, name=skill, registration=code,
                                          calling_list=f"{skill}-people")
    launching.start_skill(engine, created.id, clock, message_text="Hi {FirstName}, call us?")
    with engine.begin() as conn:
        conn.execute(message.update().where(message.c.skill_id == created.id).values(
            state="sent", submitted_at=clock.now(), sent_at=clock.now()))
    clock.advance(60)
    return AgentWorld(engine, bu, clock, code)
