"""The audit log: who did what, when. Pages call `record` from the handlers of the actions
people take (started, paused, resumed, stopped, sent, created, deleted...); sign-ins and user
changes are recorded by the services that make them. Admins read it on the Audit page.

`record` takes a Connection (to be part of the action's own transaction: the action and its
entry are written together or not at all) or an Engine (a transaction of its own).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from proactive_sms.store import audit as audit_store
from proactive_sms.store.audit import AuditEntry
from proactive_sms.store.tenancy import BusinessUnit

if TYPE_CHECKING:
    from proactive_sms.services.console_users import ConsoleUser

PAGE_SIZE = 50
CLI_USERNAME = "(cli)"  # who did it when a command did it, not a console user
API_USERNAME = "(api)"  # who did it when a request with an API key of the unit did it


def record(conn_or_engine: Connection | Engine, user: ConsoleUser | None, action: str,
           target: str = "", detail: Any = "", *, bu: BusinessUnit | None = None,
           bu_id: int | None = None, now: datetime | None = None, address: str | None = None,
           username: str | None = None) -> None:
    """Record that `user` did `action` (a verb such as 'skill.started') to `target` (a name).

    `detail` is a sentence, or anything JSON can write (a dict of what changed). The unit is the
    user's, unless `bu`/`bu_id` says (a command of the CLI has no user)."""
    unit_id = bu_id if bu_id is not None else (bu.id if bu is not None else None)
    if unit_id is None:
        if user is None:
            raise ValueError("an audit entry needs a user or a business unit")
        unit_id = user.bu_id
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False,
                                                             default=str)
    who = username or (user.username if user is not None else CLI_USERNAME)
    at = now or datetime.now(UTC)
    args = (unit_id, user.id if user is not None else None, who, action[:40],
            str(target)[:200], text, address, at)
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.begin() as conn:
            audit_store.add(conn, *args)
    else:
        audit_store.add(conn_or_engine, *args)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int  # from 1
    pages: int
    actions: list[str]  # every action the unit's log holds, for the filter


def entries(engine: Engine, bu: BusinessUnit, *, username: str | None = None,
            action: str | None = None, page: int = 1, page_size: int = PAGE_SIZE) -> AuditPage:
    """One page of the unit's log, newest first, filtered by user and action (a prefix such as
    'user' finds 'user.created' and 'user.disabled')."""
    page = max(1, page)
    with engine.connect() as conn:
        total = audit_store.count(conn, bu.id, username=username or None,
                                  action=action or None)
        found = audit_store.page(conn, bu.id, username=username or None, action=action or None,
                                 offset=(page - 1) * page_size, limit=page_size)
        known = audit_store.actions(conn, bu.id)
    return AuditPage(found, total, page, max(1, -(-total // page_size)), known)
