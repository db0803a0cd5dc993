"""Transport codes (SMS registrations) as the console shows them: each with its connection's
and DNC list's names and the answers it sends to STOP, START and HELP.

Editing the keyword answers is administration.set_keyword_responses, the same as
`psms registration keywords` (toll-free codes refuse answer texts: the carrier sends those).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.domain import keyword_responses
from proactive_sms.domain.keyword_responses import KeywordResponses
from proactive_sms.store import dnc, registrations
from proactive_sms.store.errors import NotFound
from proactive_sms.store.registrations import Registration
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class RegistrationView:
    registration: Registration
    connection_name: str | None
    dnc_list_name: str  # the DNC group, or the tenant default list's name
    dnc_is_group: bool
    answers: KeywordResponses  # what it sends (all None for toll-free: the carrier answers)

    @property
    def code(self) -> str:
        return self.registration.code

    @property
    def carrier_answers(self) -> bool:
        """Toll-free: STOP/START/HELP answers belong to the carrier and cannot be set."""
        return self.registration.kind == keyword_responses.TOLL_FREE

    @property
    def settings(self) -> dict:
        """The stored settings (sender name, contact, own texts, extra keywords)."""
        return self.registration.keyword_responses

    @property
    def extra_keywords(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in (self.settings.get("extra_keywords") or {}).items()}


def registration_views(engine: Engine, bu: BusinessUnit) -> list[RegistrationView]:
    """The BU's codes in creation order."""
    with engine.connect() as conn:
        found = registrations.list_registrations(conn, bu.id)
        lists = {lst.id: lst for lst in dnc.list_lists(conn, bu.tenant_id)}
        default = next((lst for lst in lists.values() if lst.is_default), None)
        names = {}
        for reg in found:
            if reg.connection_id is not None and reg.connection_id not in names:
                names[reg.connection_id] = registrations.connection_by_id(
                    conn, reg.connection_id).name
    views = []
    for reg in found:
        chosen = lists.get(reg.dnc_list_id) if reg.dnc_list_id is not None else default
        views.append(RegistrationView(
            reg, names.get(reg.connection_id) if reg.connection_id is not None else None,
            chosen.name if chosen else "default", reg.dnc_list_id is not None,
            keyword_responses.resolve(reg.kind, reg.keyword_responses or {}, bu.name)))
    return views


def registration_view(engine: Engine, bu: BusinessUnit, code: str) -> RegistrationView:
    """One of the BU's codes, by the code as stored (E.164 for long and toll-free codes)."""
    for view in registration_views(engine, bu):
        if view.code == code:
            return view
    raise NotFound("registration", code)
