"""The agent workspace (issue 12, page 9): an agent's availability, queue and threads, with
replies arriving live; and the supervisors' view of the waiting queue and each agent's load.

An agent sees only the conversations assigned to them: any other id answers 404 (the service
says NotFound, as for another unit's). Every action is services/agents.py's, as in the API
(interfaces/api/agents.py); the live stream compares services/agent_workspace.py's marks.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from proactive_sms.domain.agent_assignment import format_wait
from proactive_sms.domain.encoding import Encoding, analyze
from proactive_sms.domain.phone import mask
from proactive_sms.interfaces.web.auth import (
    AgentUser,
    ConsoleUser,
    CurrentBu,
    SupervisorUser,
    session_token,
)
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of, policy_of
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.interfaces.web.workspace_feed import feed_of
from proactive_sms.services import agent_workspace, agents, audit, console_sessions
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.agent_workspace import QueueWatch, UnitMarks
from proactive_sms.services.agents import AgentRefused, AgentView
from proactive_sms.store.errors import NotFound

router = APIRouter()

SESSION_CHECK_S = 30.0  # how often it checks that its session still lives (as the dashboard)
KEEPALIVE_S = 15.0
AVAILABILITIES = ("available", "away", "offline")
ENCODING_NAMES = {Encoding.GSM7: "GSM-7", Encoding.UCS2: "UCS-2"}
# As the API's: an id the store can hold (a larger one would overflow the driver, not 404).
ConversationId = Annotated[int, Path(ge=1, le=2**62)]
TypedText = Annotated[str, Form(max_length=20_000)]  # a bound on what a form may post


def _agent(request: Request, user: ConsoleUser, bu) -> AgentView | None:
    """The agent the user is (None: a supervisor or admin, who is not one)."""
    if user.agent_id is None:
        return None
    return agent_workspace.agent_of_user(request.app.state.engine, bu, user.agent_id)


def _moment(clock) -> str:
    """Now, as the page hands it to its event stream (seconds since the epoch)."""
    return f"{clock.now().timestamp():.6f}"


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _context(queue, **more) -> dict:
    return {"queue": queue, "mask": mask, "format_wait": format_wait,
            "availabilities": AVAILABILITIES, **more}


# --- the agent's pages --------------------------------------------------------------------------

@router.get("/workspace", response_class=HTMLResponse)
def workspace(request: Request, user: AgentUser, bu: CurrentBu, engine: EngineDep,
              clock: ClockDep) -> Response:
    """An agent's queue, and the conversation waiting longest open beside it."""
    drawn_at = _moment(clock)  # before reading: a reply after it is news for the stream
    me = _agent(request, user, bu)
    if me is None:
        return redirect("/workspace/team")
    queue = agents.queue(engine, bu, clock, me.name)
    waiting = [e for e in queue if e.waiting_s is not None]
    first = max(waiting, key=lambda e: e.waiting_s) if waiting else (queue[0] if queue else None)
    thread = (agent_workspace.own_thread(engine, bu, clock, me, first.conversation.id)
              if first else None)
    return render(request, "workspace/agent.html", **_context(queue, me=me, thread=thread),
                  drawn_at=drawn_at)


@router.get("/workspace/conversations/{conversation_id}", response_class=HTMLResponse)
def conversation(conversation_id: ConversationId, request: Request, user: AgentUser, bu: CurrentBu,
                 engine: EngineDep, clock: ClockDep) -> Response:
    """One thread: the agent's own (else 404), or for a supervisor any of the unit's, with the
    transfer form."""
    me = _agent(request, user, bu)
    if me is None:
        thread = agent_workspace.thread(engine, bu, clock, conversation_id)
        return render(request, "workspace/supervisor_conversation.html", thread=thread,
                      mask=mask, format_wait=format_wait,
                      team=agents.all_agents(engine, bu), errors={}, poll=True)
    drawn_at = _moment(clock)
    thread = agent_workspace.own_thread(engine, bu, clock, me, conversation_id)
    queue = agents.queue(engine, bu, clock, me.name)
    return render(request, "workspace/agent.html", **_context(queue, me=me, thread=thread),
                  drawn_at=drawn_at)


@router.get("/workspace/queue", response_class=HTMLResponse)
def queue_partial(request: Request, user: AgentUser, bu: CurrentBu, engine: EngineDep,
                  clock: ClockDep, current: Annotated[int | None, Query()] = None) -> Response:
    """The queue alone (htmx: refreshed when the live stream says it changed)."""
    me = _agent(request, user, bu)
    if me is None:
        raise NotFound("agent", user.username)
    return render(request, "workspace/_queue.html",
                  **_context(agents.queue(engine, bu, clock, me.name), current=current))


@router.get("/workspace/conversations/{conversation_id}/messages", response_class=HTMLResponse)
def messages_partial(conversation_id: ConversationId, request: Request, user: AgentUser,
                     bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> Response:
    """The thread's texts alone (htmx: refreshed on a new reply or a delivery state)."""
    me = _agent(request, user, bu)
    thread = (agent_workspace.own_thread(engine, bu, clock, me, conversation_id) if me
              else agent_workspace.thread(engine, bu, clock, conversation_id))
    # A supervisor's page has no event stream of its own: it looks again every few seconds.
    return render(request, "workspace/_messages.html", thread=thread, poll=me is None)


@router.post("/workspace/availability")
def set_availability(request: Request, user: AgentUser, bu: CurrentBu, engine: EngineDep,
                     clock: ClockDep, availability: Annotated[str, Form()]) -> Response:
    me = _agent(request, user, bu)
    if me is None:
        raise NotFound("agent", user.username)
    try:
        agents.set_availability(engine, bu, clock, me.name, availability)
    except InvalidRequest as exc:
        return redirect("/workspace", str(exc), "error")
    audit.record(engine, user, "agent.availability", me.name, availability,
                 address=address_of(request))
    return redirect("/workspace", f"You are {availability}.")


@router.post("/workspace/conversations/{conversation_id}/answers")
def answer(conversation_id: ConversationId, request: Request, user: AgentUser, bu: CurrentBu,
           engine: EngineDep, clock: ClockDep,
           text: TypedText = "") -> Response:
    """The agent's answer, queued through the conversation's code (services.agents.answer)."""
    me = _agent(request, user, bu)
    if me is None:
        raise NotFound("agent", user.username)
    try:
        agent_workspace.own_thread(engine, bu, clock, me, conversation_id)
    except NotFound:
        if not _is_htmx(request):
            raise
        # Transferred away while the page was open (or never theirs): back to the queue.
        back = redirect("/workspace", "That conversation is not in your queue.", "error")
        back.status_code = 200
        del back.headers["location"]
        back.headers["HX-Redirect"] = "/workspace"
        return back
    try:
        message_id = agents.answer(engine, bu, clock, me.name, conversation_id, text)
    except (AgentRefused, InvalidRequest) as exc:
        thread = agent_workspace.own_thread(engine, bu, clock, me, conversation_id)
        if _is_htmx(request):
            # 200: htmx swaps only successful answers, and the reason belongs under the field
            return render(request, "workspace/_thread.html", thread=thread,
                          errors={"text": str(exc)}, text=text, mask=mask,
                          format_wait=format_wait, segments=_segments(text))
        return redirect(f"/workspace/conversations/{conversation_id}", str(exc), "error")
    audit.record(engine, user, "conversation.answered", f"conversation #{conversation_id}",
                 {"message_id": message_id},
                 address=address_of(request))
    if _is_htmx(request):
        thread = agent_workspace.own_thread(engine, bu, clock, me, conversation_id)
        return render(request, "workspace/_thread.html", thread=thread, errors={}, text="",
                      mask=mask, format_wait=format_wait, segments=_segments(""))
    return redirect(f"/workspace/conversations/{conversation_id}", "Answer queued.")


@router.post("/workspace/conversations/{conversation_id}/close")
def close(conversation_id: ConversationId, request: Request, user: AgentUser, bu: CurrentBu,
          engine: EngineDep, clock: ClockDep) -> Response:
    me = _agent(request, user, bu)
    if me is None:
        raise NotFound("agent", user.username)
    agent_workspace.own_thread(engine, bu, clock, me, conversation_id)  # 404 if not theirs
    try:
        agents.close(engine, bu, clock, me.name, conversation_id)
    except AgentRefused as exc:
        return redirect(f"/workspace/conversations/{conversation_id}", str(exc), "error")
    audit.record(engine, user, "conversation.closed", f"conversation #{conversation_id}",
                 address=address_of(request))
    return redirect("/workspace", f"Conversation #{conversation_id} closed.")


@router.post("/workspace/segments", response_class=HTMLResponse)
def segments(request: Request, user: AgentUser, text: TypedText = "") -> Response:
    """The answer box's counter: characters, encoding and SMS parts, counted by the domain."""
    return render(request, "workspace/_segments.html", segments=_segments(text))


def _segments(text: str) -> dict:
    report = analyze(text)
    return {"chars": len(text), "encoding": ENCODING_NAMES[report.encoding],
            "segments": report.segments if text else 0,
            "remaining": report.remaining_in_segment, "unicode": " ".join(report.unicode_chars),
            "max_chars": agents.MAX_ANSWER_CHARS, "too_long": len(text) > agents.MAX_ANSWER_CHARS}


# --- the live stream ----------------------------------------------------------------------------

@router.get("/workspace/events")
async def events(request: Request, user: AgentUser, bu: CurrentBu, engine: EngineDep,
                 clock: ClockDep,
                 conversation: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                 since: Annotated[float | None, Query(ge=0, le=1e11)] = None) -> Response:
    """Server-Sent Events for the agent's page: `queue` when their queue changed, `reply`
    (data: how many) when customers wrote, `thread` when the open thread changed."""
    me = await run_in_threadpool(_agent, request, user, bu)
    if me is None:
        raise NotFound("agent", user.username)
    if conversation is not None:  # 404 for a thread that is not theirs, as the page
        await run_in_threadpool(agent_workspace.own_thread, engine, bu, clock, me,
                                conversation)
    alive = functools.partial(console_sessions.still_live, engine, clock,
                              session_token(request), policy_of(request))
    marks = feed_of(request).marks(bu.id, engine, conversation)
    drawn_at = datetime.fromtimestamp(since, UTC) if since is not None else None
    return StreamingResponse(_stream(request, marks, QueueWatch(me.agent.id, drawn_at),
                                     conversation, alive),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _stream(request: Request, feed: AsyncIterator[UnitMarks], watch: QueueWatch,
                  conversation_id: int | None, alive: Callable[[], bool]) -> AsyncIterator[str]:
    """Until the browser goes away or the session ends (logout, expiry, a disabled user:
    checked without counting as activity, so an unattended page still signs out).

    The unit's feed (workspace_feed.py) brings the marks of every tick; the first ones are the
    baseline, and with them the page is told to refresh once, so that nothing that changed
    between rendering the page and this first tick is missed (also after a reconnect)."""
    mark: tuple | None = None
    last_sent = checked = time.monotonic()
    sent = 0
    yield "retry: 2000\n\n"
    try:
        async for marks in feed:
            if await request.is_disconnected():
                return
            if time.monotonic() - checked >= SESSION_CHECK_S:
                checked = time.monotonic()
                if not await run_in_threadpool(alive):
                    return
            before = watch.open_ids
            first = mark is None
            change = watch.see(marks.queue_of(watch.agent_id))
            now_mark = marks.threads.get(conversation_id) if conversation_id else ()
            out = []
            if first or change.changed:
                out.append("event: queue\ndata: changed\n\n")
            if conversation_id is not None and conversation_id not in watch.open_ids and (
                    conversation_id in before  # it left their queue since the last tick
                    or (first and _is_open(now_mark))):  # … or before the first one
                out.append("event: gone\ndata: This conversation is no longer in your queue "
                           "(closed, transferred, or handed back).\n\n")
            if change.new_replies:
                out.append(f"event: reply\ndata: {change.new_replies}\n\n")
            if conversation_id is not None and (first or now_mark != mark):
                out.append("event: thread\ndata: changed\n\n")
            mark = now_mark
            if not out and time.monotonic() - last_sent >= KEEPALIVE_S:
                out.append(": keep-alive\n\n")
            if out:
                last_sent = time.monotonic()
                sent += 1
                yield "".join(out) + f"id: {sent}\n\n"
    finally:
        await feed.aclose()


def _is_open(mark: tuple | None) -> bool:
    """Whether a thread mark (store.agent_activity.thread_mark) says the conversation is open:
    then one that is not in its agent's queue has gone to someone else."""
    head = mark[0] if mark else None
    return bool(head) and head[0] == "open"


# --- supervisors ------------------------------------------------------------------------------

@router.get("/workspace/team", response_class=HTMLResponse)
def team(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
         clock: ClockDep) -> Response:
    """The conversations waiting for an agent, and each agent's load and availability."""
    found = agent_workspace.load(engine, bu, clock)
    template = "workspace/_team.html" if _is_htmx(request) else "workspace/team.html"
    return render(request, template, waiting=found.waiting, held=found.held, team=found.team,
                  mask=mask, format_wait=format_wait)


@router.post("/workspace/conversations/{conversation_id}/transfer")
def transfer(conversation_id: ConversationId, request: Request, user: SupervisorUser, bu: CurrentBu,
             engine: EngineDep, clock: ClockDep,
             agent: Annotated[str, Form()] = "") -> Response:
    """A supervisor gives an open conversation to an agent (services.agents.transfer)."""
    try:
        moved = agents.transfer(engine, bu, clock, conversation_id, agent)
    except (AgentRefused, InvalidRequest) as exc:
        thread = agent_workspace.thread(engine, bu, clock, conversation_id)
        return render(request, "workspace/supervisor_conversation.html", status_code=422,
                      thread=thread, mask=mask, format_wait=format_wait, poll=True,
                      team=agents.all_agents(engine, bu), errors={"agent": str(exc)})
    audit.record(engine, user, "conversation.transferred", f"conversation #{conversation_id}",
                 {"to": moved.agent_name},
                 address=address_of(request))
    return redirect(f"/workspace/conversations/{conversation_id}",
                    f"Conversation #{conversation_id} transferred to {moved.agent_name}.")
