"""Tracked links at launch: a skill's text with each web link replaced by the recipient's own
short link on the business unit's domain (docs/links.md).

record_decision asks `tracking` for the swap of a skill's text (None when the BU has no link
domain or the text no link); the launch (and a cadence's SMS step) stores the targets once with
`remember_targets`; the Decider calls `LinkSwap.personalize` per pending text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from proactive_sms.domain import link_tracking, short_links
from proactive_sms.domain.template import Template
from proactive_sms.store import links as link_store
from proactive_sms.store import secret_box
from proactive_sms.store.schema import business_unit
from proactive_sms.store.skills import Skill


def link_keys(url: str | URL) -> tuple[bytes, ...]:
    """The link keys of this database's instance secret keys: the first makes codes, each one
    checks them (store.secret_box says where the keys come from)."""
    return tuple(short_links.derive_key(key) for key in secret_box.key_source(url).keys)


def tracked_template(tpl: Template, domain: str | None) -> link_tracking.TrackedText | None:
    """The template with sample short links, or None when there is no domain or no link."""
    if not domain:
        return None
    tracked = link_tracking.track(tpl, domain, short_links.sample_code)
    return tracked if tracked.targets else None


@dataclass(frozen=True)
class LinkSwap:
    """Swaps each sample link of a rendered text for the recipient's own (picklable: it rides
    along with the text to a launch's worker process)."""

    domain: str
    key: bytes
    skill_id: int
    samples: tuple[str, ...]
    targets: tuple[str, ...]
    # Of these links among the skill's (a cadence's steps add theirs); -1: no room left for
    # them (short_links.MAX_LINKS), so each goes out as written, untracked.
    first_index: int = 0

    def personalize(self, body: str, record_id: int) -> str:
        if self.first_index < 0:
            for sample, target in zip(self.samples, self.targets, strict=True):
                body = body.replace(sample, target)
            return body
        for offset, sample in enumerate(self.samples):
            code = short_links.make_code(self.key, self.skill_id, record_id,
                                         self.first_index + offset)
            body = body.replace(sample, short_links.short_url(self.domain, code))
        return body


def tracking(conn: Connection, skill: Skill, tpl: Template) -> tuple[Template, LinkSwap | None]:
    """The template a skill renders (with sample links) and its swap, when its BU has a link
    domain and the text has a web link; else the template as it is and None."""
    domain = conn.scalar(business_unit.select().with_only_columns(business_unit.c.link_domain)
                         .where(business_unit.c.id == skill.business_unit_id))
    tracked = tracked_template(tpl, domain)
    if tracked is None or skill.id > short_links.MAX_SKILL_ID:
        return tpl, None
    key = link_keys(conn.engine.url)[0]
    return tracked.template, LinkSwap(domain, key, skill.id, tracked.samples, tracked.targets)


def remember_targets(conn: Connection, swap: LinkSwap | None) -> LinkSwap | None:
    """Store the swap's targets among its skill's (once), and the swap with their first index."""
    if swap is None:
        return None
    first = _place(link_store.targets(conn, swap.skill_id), swap.targets)
    if first is None:
        return replace(swap, first_index=-1)  # more links than a code can number
    link_store.save_targets(conn, swap.skill_id, swap.targets, first)
    return replace(swap, first_index=first)


def _place(existing: Sequence[str], wanted: Sequence[str]) -> int | None:
    """Where `wanted` already sits as a run in `existing`, else the end (None: no room)."""
    n = len(wanted)
    for start in range(len(existing) - n + 1):
        if tuple(existing[start:start + n]) == tuple(wanted):
            return start
    if len(existing) + n > short_links.MAX_LINKS:
        return None
    return len(existing)
