"""Showing, renaming and removing a business unit's calling lists, and finding a person's
records in one (by ExternalId or number).

Removal follows what still depends on the list. A skill that is not finished (a draft, one
launching, running or paused) works it: removal is refused (InUse, 409), naming the skill.
Finished or stopped skills only report on it: their reports need its records, so the list is
archived (hidden from the lists, kept; importing into it again brings it back). A list no skill
ever used is deleted with its records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine

from proactive_sms.domain import phone
from proactive_sms.domain.clock import Clock
from proactive_sms.services import audit
from proactive_sms.services.administration import InvalidRequest, checked_name
from proactive_sms.store import calling_lists, notice_schedules, skills, versions
from proactive_sms.store.calling_lists import CallingList, StoredRecord
from proactive_sms.store.errors import InUse, refuse_taken
from proactive_sms.store.paging import Page
from proactive_sms.store.schema import calling_list
from proactive_sms.store.skills import SkillStatus
from proactive_sms.store.tenancy import BusinessUnit

_DONE = (SkillStatus.FINISHED, SkillStatus.STOPPED)


@dataclass(frozen=True)
class ListView:
    """A list with how many records it holds and the skills that use it."""

    calling_list: CallingList
    records: int
    skills: tuple[str, ...]

    def as_dict(self) -> dict:
        lst = self.calling_list
        return {"name": lst.name, "fields": list(lst.fields), "records": self.records,
                "skills": list(self.skills), "version": lst.version,
                "archived": lst.archived_at is not None}


def show_list(engine: Engine, bu: BusinessUnit, name: str) -> ListView:
    """The BU's list of that name (archived ones too); NotFound otherwise."""
    with engine.connect() as conn:
        found = calling_lists.find_list(conn, bu.id, name)
        return _view(conn, found)


def _view(conn, found: CallingList) -> ListView:
    users = tuple(s.name for s in skills.skills_using_list(conn, found.id))
    return ListView(found, calling_lists.count_records(conn, found.id), users)


def rename_list(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, new_name: str,
                expected_version: int | None = None, actor: str | None = None) -> ListView:
    """Give the list a new name (the rules of a new list's name; unique in the BU)."""
    checked_name("calling list", new_name)
    with engine.begin() as conn:
        found = calling_lists.find_list(conn, bu.id, name)
        if new_name != name:
            refuse_taken("calling list", new_name,
                         lambda taken: calling_lists.find_list(conn, bu.id, taken))
        versions.change(conn, calling_list, found.id, expected_version, "calling list", name,
                        name=new_name)
        audit.record(conn, None, "calling_list.renamed", new_name, {"from": name}, bu=bu,
                     now=clock.now(), username=actor)
        return _view(conn, calling_lists.list_by_id(conn, found.id))


def remove_list(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                expected_version: int | None = None,
                actor: str | None = None) -> Literal["deleted", "archived"]:
    """Remove the list: deleted, or archived while finished skills report on it (see the
    module's docstring); InUse while a skill that is not finished uses it."""
    with engine.begin() as conn:
        found = calling_lists.find_list(conn, bu.id, name)
        users = skills.skills_using_list(conn, found.id)
        busy = [s for s in users if s.status not in _DONE]
        recurring = notice_schedules.using(conn, calling_list_id=found.id)
        if recurring:
            raise InUse("calling list", name,
                        f"is used by schedule '{recurring[0].name}' "
                        f"({recurring[0].status}): delete it first")
        if busy:
            raise InUse("calling list", name,
                        f"is used by skill '{busy[0].name}' ({busy[0].status.value}): stop it "
                        "or let it finish first")
        if users:
            versions.change(conn, calling_list, found.id, expected_version, "calling list",
                            name, archived_at=clock.now())
            outcome: Literal["deleted", "archived"] = "archived"
            detail = f"kept for the reports of {len(users)} finished skill(s)"
        else:
            if expected_version is not None:
                versions.change(conn, calling_list, found.id, expected_version,
                                "calling list", name)
            gone = calling_lists.delete_list(conn, found.id)
            outcome, detail = "deleted", f"{gone} record(s) deleted"
        audit.record(conn, None, f"calling_list.{outcome}", name, detail, bu=bu,
                     now=clock.now(), username=actor)
        return outcome


def lists_page(engine: Engine, bu: BusinessUnit, after_id: int, limit: int,
               archived: bool = False) -> Page[ListView]:
    """A page of the BU's lists (archived ones when asked), each with its counts."""
    with engine.connect() as conn:
        page = calling_lists.page_lists(conn, bu.id, after_id, limit, archived)
        return Page([_view(conn, lst) for lst in page.items], page.last_id, page.more)


def number_of(raw: str, bu: BusinessUnit, field: str = "number") -> str:
    """A number in any spelling as stored (E.164, the BU's region for local ones)."""
    result = phone.normalize(raw, bu.default_region)
    if result.e164 is None:
        raise InvalidRequest(f"'{raw}' is not a phone number: {result.detail}", field)
    return result.e164


def find_records(engine: Engine, bu: BusinessUnit, name: str, *,
                 external_id: str | None = None, number: str | None = None,
                 after_id: int = 0, limit: int = 100) -> Page[StoredRecord]:
    """The list's records with this ExternalId or number (in any spelling)."""
    if not external_id and not number:
        raise InvalidRequest("give an ExternalId or a number to find", "external_id")
    wanted = number_of(number, bu) if number else None
    with engine.connect() as conn:
        found = calling_lists.find_list(conn, bu.id, name)
        return calling_lists.find_person_records(conn, found.id, after_id, limit,
                                                 external_id=external_id or None,
                                                 number=wanted)


def record(engine: Engine, bu: BusinessUnit, name: str, external_id: str) -> StoredRecord:
    """The list's record with this ExternalId; NotFound otherwise."""
    with engine.connect() as conn:
        found = calling_lists.find_list(conn, bu.id, name)
        return calling_lists.find_record(conn, found.id, external_id)
