"""Texting a calling list in one step: the skill of an ad-hoc broadcast (a text typed now) or of
a saved notice (a template) is created and started at once, and its dry run can be read first.

This is what `POST /v1/skills` followed by `POST /v1/skills/{name}/start` does, through the same
services (`administration.create_skill`, `launching.start_skill`), for the console's broadcast
and notice pages: a person picks a list, a code and a text, and presses Send once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services import administration, launching
from proactive_sms.services.dry_run import DryRun, dry_run_skill
from proactive_sms.services.launching import LaunchSummary
from proactive_sms.store.errors import AlreadyExists
from proactive_sms.store.skills import Skill
from proactive_sms.store.tenancy import BusinessUnit

# Two sends in the same second get -2, -3, ...; past this many, something is looping.
_MAX_SAME_SECOND = 50


@dataclass(frozen=True)
class Broadcast:
    """What to send, to whom, from which code: exactly one of `message` and `template`."""

    registration: str  # the transport code
    calling_list: str
    message: str | None = None  # typed now: an ad-hoc broadcast
    template: str | None = None  # a saved template's name: a notice
    direction: str = "auto"  # of a typed message (a template has its own)
    max_segments: int = 3  # longer texts are skipped as too_long, as for any skill
    calling_window: dict | None = None  # recipient-local hours, as a skill's (None: default)
    name: str | None = None  # the skill's name; None: "broadcast-…" or "notice-…" and the time

    @property
    def kind(self) -> str:
        return "notice" if self.template else "broadcast"


@dataclass(frozen=True)
class Sent:
    skill: Skill
    summary: LaunchSummary


def plan(engine: Engine, bu: BusinessUnit, clock: Clock, broadcast: Broadcast) -> Skill:
    """The skill `send` would create, checked (code, list, template, settings) but not saved."""
    _check(broadcast)
    return administration.plan_skill(
        engine, bu, clock, name=broadcast.name or f"{broadcast.kind}-preview",
        registration=broadcast.registration, calling_list=broadcast.calling_list,
        template_name=broadcast.template, message_text=broadcast.message,
        direction=broadcast.direction, max_segments=broadcast.max_segments,
        calling_window=broadcast.calling_window)


def dry_run(engine: Engine, bu: BusinessUnit, clock: Clock, broadcast: Broadcast) -> DryRun:
    """Every check of the launch and of sending, nothing written or sent: recipients, skips by
    reason, segments and the predicted finish at the code's rate. Raises LaunchError when the
    text cannot start."""
    return dry_run_skill(engine, plan(engine, bu, clock, broadcast), clock)


def send(engine: Engine, bu: BusinessUnit, clock: Clock, broadcast: Broadcast) -> Sent:
    """Create the skill and start it: every record decided once, the texts handed to the
    dispatcher. The text is checked against the list before the skill is created, so a text
    that cannot start leaves no skill behind."""
    planned = plan(engine, bu, clock, broadcast)
    with engine.connect() as conn:
        launching.check_text(conn, planned, launching.resolve_text(conn, planned))
    skill = _create(engine, bu, clock, broadcast)
    summary = launching.start_skill(engine, skill.id, clock)
    return Sent(administration.find_skill(engine, bu, skill.name), summary)


def _check(broadcast: Broadcast) -> None:
    if broadcast.message is not None and broadcast.template:
        raise administration.InvalidRequest("give a template or a message, not both")
    if broadcast.template is None and (broadcast.message is None
                                       or not broadcast.message.strip()):
        raise administration.InvalidRequest("the message is empty")


def _create(engine: Engine, bu: BusinessUnit, clock: Clock, broadcast: Broadcast) -> Skill:
    settings = dict(registration=broadcast.registration, calling_list=broadcast.calling_list,
                    template_name=broadcast.template, message_text=broadcast.message,
                    direction=broadcast.direction, max_segments=broadcast.max_segments,
                    calling_window=broadcast.calling_window)
    if broadcast.name:
        return administration.create_skill(engine, bu, clock, name=broadcast.name, **settings)
    stem = f"{broadcast.kind}-{clock.now():%Y%m%d-%H%M%S}"
    for attempt in range(1, _MAX_SAME_SECOND + 1):
        name = stem if attempt == 1 else f"{stem}-{attempt}"
        try:
            return administration.create_skill(engine, bu, clock, name=name, **settings)
        except AlreadyExists:
            continue
    raise AlreadyExists("skill", stem)

