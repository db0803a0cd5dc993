"""Tenants, business units and the tenant default DNC list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from proactive_sms.store.errors import Ambiguous, NotFound
from proactive_sms.store.schema import business_unit, dnc_list, tenant

DEFAULT_DNC_LIST = "default"


@dataclass(frozen=True)
class BusinessUnit:
    id: int
    tenant_id: int
    name: str
    default_region: str
    frequency_cap_per_24h: int | None = None
    time_zone: str | None = None  # recurring notices that name no zone are read in it
    link_domain: str | None = None  # where short links are served (docs/links.md)


def ensure_business_unit(
    conn: Connection, tenant_name: str, bu_name: str, region: str, now: datetime
) -> BusinessUnit:
    """Create the tenant (with its default DNC list) and the BU if missing; return the BU."""
    tenant_id = conn.scalar(select(tenant.c.id).where(tenant.c.name == tenant_name))
    if tenant_id is None:
        tenant_id = conn.execute(
            tenant.insert().values(name=tenant_name, created_at=now)
        ).inserted_primary_key[0]
        conn.execute(
            dnc_list.insert().values(
                tenant_id=tenant_id, name=DEFAULT_DNC_LIST, is_default=True, created_at=now
            )
        )
    row = conn.execute(
        select(business_unit).where(
            business_unit.c.tenant_id == tenant_id, business_unit.c.name == bu_name
        )
    ).first()
    if row is None:
        conn.execute(
            business_unit.insert().values(
                tenant_id=tenant_id, name=bu_name, default_region=region.upper(), created_at=now
            )
        )
        return find_business_unit(conn, bu_name)
    return BusinessUnit(row.id, row.tenant_id, row.name, row.default_region,
                        row.frequency_cap_per_24h, row.time_zone,
                        row.link_domain)


_NAMES_SHOWN = 10  # of the BUs an unnamed lookup could mean


def find_business_unit(conn: Connection, name: str | None = None) -> BusinessUnit:
    """The BU of that name; without a name, the only BU there is (NotFound when there is none,
    Ambiguous, with the first names, when there are several)."""
    query = select(business_unit)
    if name is not None:
        query = query.where(business_unit.c.name == name)
    rows = conn.execute(query.order_by(business_unit.c.name).limit(_NAMES_SHOWN + 1)).all()
    if not rows:
        raise NotFound("business unit", name or "(none yet)")
    if len(rows) > 1:
        names = [row.name for row in rows[:_NAMES_SHOWN]]
        raise Ambiguous("business unit", names + (["..."] if len(rows) > _NAMES_SHOWN else []))
    row = rows[0]
    return BusinessUnit(row.id, row.tenant_id, row.name, row.default_region,
                        row.frequency_cap_per_24h, row.time_zone,
                        row.link_domain)


def business_unit_by_id(conn: Connection, bu_id: int) -> BusinessUnit:
    row = conn.execute(select(business_unit).where(business_unit.c.id == bu_id)).first()
    if row is None:
        raise NotFound("business unit", bu_id)
    return BusinessUnit(row.id, row.tenant_id, row.name, row.default_region,
                        row.frequency_cap_per_24h, row.time_zone,
                        row.link_domain)


def set_time_zone(conn: Connection, bu_id: int, time_zone: str | None) -> None:
    conn.execute(business_unit.update().where(business_unit.c.id == bu_id)
                 .values(time_zone=time_zone))


def set_frequency_cap(conn: Connection, bu_id: int, cap: int | None) -> None:
    conn.execute(business_unit.update().where(business_unit.c.id == bu_id)
                 .values(frequency_cap_per_24h=cap))


def set_link_domain(conn: Connection, bu_id: int, domain: str | None) -> None:
    conn.execute(business_unit.update().where(business_unit.c.id == bu_id)
                 .values(link_domain=domain))
