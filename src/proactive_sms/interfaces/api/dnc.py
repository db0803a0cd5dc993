"""`/v1/dnc`: add, remove and check numbers on the tenant's DNC lists.

DNC lists belong to the tenant (the default list and named groups), not to one BU: a number
a BU adds is withheld from every BU of the tenant. Another tenant's lists are out of reach.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import blame
from proactive_sms.services import administration

router = APIRouter(prefix="/dnc", tags=["dnc"])


class NumbersIn(BaseModel):
    numbers: list[str] = Field(min_length=1, max_length=10_000)
    group: str | None = Field(None, description="A DNC group (default: the tenant's list).")
    note: str = ""


class RemoveIn(BaseModel):
    numbers: list[str] = Field(min_length=1, max_length=10_000)
    group: str | None = None


class ChangeOut(BaseModel):
    list_name: str
    changed: int = Field(description="Numbers added (or removed); the others already were.")
    invalid: list[str] = Field(description="Values that are not phone numbers.")


class CheckOut(BaseModel):
    number: str
    lists: list[str] = Field(description="The DNC lists that hold it.")


@router.post("/numbers")
def add_numbers(body: NumbersIn, bu: CurrentBu, engine: EngineDep,
                clock: ClockDep) -> ChangeOut:
    """Add numbers (in any local or E.164 spelling)."""
    change = administration.dnc_add(engine, bu, clock, body.numbers, body.group,
                                    source="api", note=body.note)
    return ChangeOut(list_name=change.list_name, changed=change.changed, invalid=change.invalid)


@router.post("/removals")
def remove_numbers(body: RemoveIn, bu: CurrentBu, engine: EngineDep) -> ChangeOut:
    """Take numbers off a list."""
    change = administration.dnc_remove(engine, bu, body.numbers, body.group)
    return ChangeOut(list_name=change.list_name, changed=change.changed, invalid=change.invalid)


@router.get("/numbers/{number}")
def check_number(number: str, bu: CurrentBu, engine: EngineDep) -> CheckOut:
    """Which of the tenant's DNC lists hold the number."""
    with blame("number"):
        lists = administration.dnc_check(engine, bu, number)
    return CheckOut(number=number, lists=lists)
