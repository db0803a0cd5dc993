"""A transport code's route as people read it: its connections in order, each with its link and
breaker, and which one carries the code's texts now (with its failovers and returns).

The dispatcher writes what it sees (store.route_status, carrier_link_status); this module only
reads, for the CLI, the API and the console alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services.link_status import LinkSummary, summarize
from proactive_sms.store import link_status, registrations, route_status
from proactive_sms.store.registrations import Registration


@dataclass(frozen=True)
class RouteLegView:
    name: str
    link: LinkSummary
    carrying: bool  # the code's texts go through it now

    @property
    def breaker(self) -> str | None:
        return self.link.breaker


@dataclass(frozen=True)
class RouteView:
    legs: list[RouteLegView]  # first first
    carrying: str | None  # None: no dispatcher reports one carrying now
    since: datetime | None  # carrying since
    failovers: int  # to a later connection, since the code was first dispatched
    returns: int  # back to an earlier one

    @property
    def names(self) -> list[str]:
        return [leg.name for leg in self.legs]

    def as_dict(self) -> dict:
        return {"connections": [{"name": leg.name, "state": leg.link.state,
                                 "breaker": leg.breaker, "breaker_reason": leg.link.breaker_reason,
                                 "carrying": leg.carrying} for leg in self.legs],
                "carrying": self.carrying, "since": self.since,
                "failovers": self.failovers, "returns": self.returns}


def route_views(engine: Engine, clock: Clock,
                found: Sequence[Registration]) -> dict[int, RouteView]:
    """Registration id -> its route, for these registrations (a handful of statements)."""
    with engine.connect() as conn:
        routes = registrations.routes(conn, found)
        connection_ids = sorted({c for route in routes.values() for c in route})
        names = registrations.connection_names(conn, connection_ids)
        reports = link_status.of_connections(conn, connection_ids)
        statuses = route_status.of_registrations(conn, [r.id for r in found])
    now = clock.now()
    links = {c: summarize(reports[c], now) for c in connection_ids}
    views = {}
    for reg in found:
        status = statuses.get(reg.id)
        # What the dispatcher last wrote holds only while one runs the connection it names.
        carrying_id = (status.connection_id if status is not None
                       and status.connection_id in links
                       and links[status.connection_id].state == "bound" else None)
        legs = [RouteLegView(names.get(c, f"#{c}"), links[c], c == carrying_id)
                for c in routes[reg.id]]
        views[reg.id] = RouteView(
            legs, names.get(carrying_id) if carrying_id is not None else None,
            status.since if carrying_id is not None and status is not None else None,
            status.failovers if status else 0, status.returns if status else 0)
    return views


def route_text(view: RouteView | None) -> str:
    """One line: 'primary* > backup (open: connection lost)'; * marks the carrying one."""
    if view is None or not view.legs:
        return "-"
    parts = []
    for leg in view.legs:
        text = leg.name + ("*" if leg.carrying else "")
        if leg.breaker in ("open", "half_open"):
            reason = leg.link.breaker_reason
            text += f" ({leg.breaker}{': ' + reason if reason else ''})"
        parts.append(text)
    return " > ".join(parts)
