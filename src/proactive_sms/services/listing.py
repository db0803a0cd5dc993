"""Pages of a business unit's resources, in id order (keyset pagination), with their filters.

Every function reads only what belongs to the BU (or, for DNC lists and carrier connections,
to its tenant); filters by name resolve within the BU, so another BU's name is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy import Engine

from proactive_sms.domain import phone
from proactive_sms.domain.keywords import InboundClass
from proactive_sms.domain.message_states import MessageState
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store import (
    calling_lists,
    conversations,
    dnc,
    inbound,
    messages,
    registrations,
    skills,
    templates,
)
from proactive_sms.store.errors import NotFound
from proactive_sms.store.paging import Page
from proactive_sms.store.tenancy import BusinessUnit

T = TypeVar("T")


@dataclass(frozen=True)
class Named(Generic[T]):
    """A page whose items name a skill: the page, and the skill names by id."""

    page: Page[T]
    skill_names: dict[int, str]


def _named(conn, page: Page[T], skill_ids) -> Named[T]:
    return Named(page, skills.names(conn, skill_ids))


@dataclass(frozen=True)
class PageRequest:
    after_id: int = 0  # the last id of the previous page (0: from the start)
    limit: int = 100


def number(raw: str, bu: BusinessUnit) -> str:
    """A number filter in any spelling, as stored (E.164 in the BU's region)."""
    result = phone.normalize(raw, bu.default_region)
    if result.e164 is None:
        raise InvalidRequest(f"'{raw}' is not a phone number: {result.detail}")
    return result.e164


def registrations_page(engine: Engine, bu: BusinessUnit,
                       req: PageRequest) -> Page[registrations.Registration]:
    with engine.connect() as conn:
        return registrations.page(conn, bu.id, req.after_id, req.limit)


def connections_page(engine: Engine, bu: BusinessUnit,
                     req: PageRequest) -> Page[registrations.CarrierConnection]:
    with engine.connect() as conn:
        return registrations.page_connections(conn, bu.tenant_id, req.after_id, req.limit)


def calling_lists_page(engine: Engine, bu: BusinessUnit, req: PageRequest,
                       archived: bool = False) -> Page[calling_lists.CallingList]:
    """The BU's lists; removed (archived) ones only when asked."""
    with engine.connect() as conn:
        return calling_lists.page_lists(conn, bu.id, req.after_id, req.limit, archived)


def calling_list(engine: Engine, bu: BusinessUnit, name: str) -> calling_lists.CallingList:
    """The BU's list of that name (its fields, for pickers); NotFound otherwise."""
    with engine.connect() as conn:
        return calling_lists.find_list(conn, bu.id, name)


@dataclass(frozen=True)
class CountedList:
    calling_list: calling_lists.CallingList
    records: int


def calling_lists_counted(engine: Engine, bu: BusinessUnit,
                          req: PageRequest) -> Page[CountedList]:
    """A page of the BU's calling lists, each with how many records it holds."""
    with engine.connect() as conn:
        page = calling_lists.page_lists(conn, bu.id, req.after_id, req.limit)
        counts = calling_lists.count_by_list(conn, [lst.id for lst in page.items])
    return Page([CountedList(lst, counts.get(lst.id, 0)) for lst in page.items], page.last_id,
                page.more)


def find_records(engine: Engine, bu: BusinessUnit, list_name: str, query: str,
                 req: PageRequest) -> Page[calling_lists.StoredRecord]:
    """A list's records matching `query`: its ExternalId exactly, a number in any spelling
    (PhoneNumber or where texts go), or part of a first, last or full name."""
    query = query.strip()
    if not query:
        return records_page(engine, bu, list_name, req)
    as_number = (phone.normalize(query, bu.default_region).e164
                 if any(ch.isdigit() for ch in query) else None)
    as_name = query if any(ch.isalpha() for ch in query) else None
    with engine.connect() as conn:
        found = calling_lists.find_list(conn, bu.id, list_name)
        return calling_lists.search_records(conn, found.id, req.after_id, req.limit,
                                            external_id=query, phone=as_number, name=as_name)


def records_page(engine: Engine, bu: BusinessUnit, list_name: str,
                 req: PageRequest) -> Page[calling_lists.StoredRecord]:
    with engine.connect() as conn:
        found = calling_lists.find_list(conn, bu.id, list_name)
        return calling_lists.page_records(conn, found.id, req.after_id, req.limit)


def templates_page(engine: Engine, bu: BusinessUnit,
                   req: PageRequest) -> Page[templates.StoredTemplate]:
    with engine.connect() as conn:
        return templates.page(conn, bu.id, req.after_id, req.limit)


def skills_page(engine: Engine, bu: BusinessUnit, req: PageRequest,
                status: skills.SkillStatus | None = None,
                campaign: str | None = None, archived: bool = False) -> Page[skills.Skill]:
    """The BU's skills; archived ones only when asked."""
    with engine.connect() as conn:
        campaign_id = skills.find_campaign(conn, bu.id, campaign).id if campaign else None
        return skills.page_skills(conn, bu.id, req.after_id, req.limit, status, campaign_id,
                                  archived)


def campaigns_page(engine: Engine, bu: BusinessUnit,
                   req: PageRequest) -> Page[skills.Campaign]:
    with engine.connect() as conn:
        return skills.page_campaigns(conn, bu.id, req.after_id, req.limit)


def _skill_id(conn, bu: BusinessUnit, name: str | None) -> int | None:
    return skills.find_skill(conn, bu.id, name).id if name else None


def messages_page(engine: Engine, bu: BusinessUnit, req: PageRequest, *,
                  skill: str | None = None, state: MessageState | None = None,
                  destination: str | None = None) -> Named[messages.StoredMessage]:
    """The BU's messages; `destination` in any spelling."""
    wanted = number(destination, bu) if destination else None
    with engine.connect() as conn:
        page = messages.page(conn, bu.id, req.after_id, req.limit,
                             skill_id=_skill_id(conn, bu, skill), state=state,
                             destination=wanted)
        return _named(conn, page, [m.skill_id for m in page.items])


@dataclass(frozen=True)
class MessageDetail:
    message: messages.StoredMessage
    skill_name: str | None
    registration_code: str | None
    parts: list[messages.StoredPart]  # carrier id and receipt of each part


def message(engine: Engine, bu: BusinessUnit, message_id: int) -> MessageDetail:
    with engine.connect() as conn:
        found = messages.find_in_bu(conn, bu.id, message_id)
        if found is None:
            raise NotFound("message", message_id)
        skill = skills.skill_by_id(conn, found.skill_id) if found.skill_id else None
        registration_id = found.registration_id or (skill.registration_id if skill else None)
        code = (registrations.registration_by_id(conn, registration_id).code
                if registration_id else None)
        return MessageDetail(found, skill.name if skill else None, code,
                             messages.parts(conn, found.id))


def inbound_page(engine: Engine, bu: BusinessUnit, req: PageRequest, *,
                 classification: InboundClass | None = None, sender: str | None = None,
                 skill: str | None = None, since: datetime | None = None,
                 review_state: str | None = None) -> Named[inbound.StoredInbound]:
    """The texts received on the BU's codes; `sender` in any spelling; `since` inclusive."""
    wanted = number(sender, bu) if sender else None
    if since is not None:  # a moment without an offset is UTC; stored times are UTC
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    with engine.connect() as conn:
        page = inbound.page(conn, bu.id, req.after_id, req.limit,
                            classification=classification.value if classification else None,
                            sender=wanted, skill_id=_skill_id(conn, bu, skill), since=since,
                            review_state=review_state)
        return _named(conn, page, [i.skill_id for i in page.items])


def inbound_text(engine: Engine, bu: BusinessUnit,
                 inbound_id: int) -> Named[inbound.StoredInbound]:
    """One inbound text of the BU, as a page of one."""
    with engine.connect() as conn:
        found = inbound.find_in_bu(conn, bu.id, inbound_id)
        if found is None:
            raise NotFound("inbound text", inbound_id)
        return _named(conn, Page([found], found.id, False), [found.skill_id])


def conversations_page(engine: Engine, bu: BusinessUnit, req: PageRequest, *,
                       status: str | None = None,
                       skill: str | None = None,
                       assigned: bool | None = None) -> Named[conversations.Conversation]:
    with engine.connect() as conn:
        page = conversations.page(conn, bu.id, req.after_id, req.limit, status=status,
                                  skill_id=_skill_id(conn, bu, skill), assigned=assigned)
        return _named(conn, page, [c.skill_id for c in page.items])


def skill_names(engine: Engine, skill_ids) -> dict[int, str]:
    with engine.connect() as conn:
        return skills.names(conn, skill_ids)


def dnc_lists_page(engine: Engine, bu: BusinessUnit, req: PageRequest) -> Page[dnc.DncList]:
    with engine.connect() as conn:
        return dnc.page_lists(conn, bu.tenant_id, req.after_id, req.limit)


def dnc_entries_page(engine: Engine, bu: BusinessUnit, list_name: str,
                     req: PageRequest) -> Page[dnc.DncEntry]:
    with engine.connect() as conn:
        found = dnc.find_list(conn, bu.tenant_id, list_name)
        return dnc.page_entries(conn, found.id, req.after_id, req.limit)
