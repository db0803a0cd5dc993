"""`psms agent …`: agents, their skills and availability, and their conversations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from proactive_sms.domain.agent_assignment import format_wait  # standard library only
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows
from proactive_sms.interfaces.cli.refusals import show_removal

if TYPE_CHECKING:
    from proactive_sms.services.agents import AgentView, QueueEntry

app = typer.Typer(help="Agents: who answers the replies of which skills, and their "
                       "conversations.", no_args_is_help=True)
ctx.register_user_error("proactive_sms.services.agents:AgentRefused")

AVAILABILITY_HELP = "available (takes new conversations), away (keeps theirs, takes no new "\
                    "ones) or offline (hands theirs back to the queue)."


def _limit(view: AgentView) -> str:
    limit = view.agent.max_open_conversations
    return f"{view.open_conversations}/{limit}" if limit else str(view.open_conversations)


def _print_agents(views: list[AgentView], as_json: bool) -> None:
    if as_json:
        emit_json([{"name": v.name, "display_name": v.agent.display_name,
                    "availability": v.agent.availability.value, "skills": v.skills,
                    "open_conversations": v.open_conversations,
                    "max_open_conversations": v.agent.max_open_conversations}
                   for v in views])
        return
    print_rows(ctx.console, ["name", "display name", "availability", "skills", "open"],
               [[v.name, v.agent.display_name, v.agent.availability.value,
                 ", ".join(v.skills) or "-", _limit(v)] for v in views],
               right_aligned=["open"])


def _print_queue(entries: list[QueueEntry], title: str, as_json: bool) -> None:
    from proactive_sms.domain.phone import mask

    if as_json:
        emit_json([{"id": e.conversation.id, "from": mask(e.conversation.phone),
                    "status": e.conversation.status, "agent": e.agent_name,
                    "opened_at": e.conversation.opened_at, "assigned_at": e.assigned_at,
                    "waiting_s": e.waiting_s} for e in entries])
        return
    print_rows(ctx.console, ["id", "from", "status", "agent", "opened", "waiting"],
               [[e.conversation.id, mask(e.conversation.phone), e.conversation.status,
                 e.agent_name or "-", f"{e.conversation.opened_at:%Y-%m-%d %H:%M}",
                 format_wait(e.waiting_s)] for e in entries], title=title,
               right_aligned=["id"])


@app.command("create")
@ctx.handle_errors
def create(name: str,
           display_name: str = typer.Option(None, help="Name shown to supervisors "
                                                      "(default: NAME)."),
           availability: str = typer.Option("offline", help=AVAILABILITY_HELP),
           max_open: int = typer.Option(None, help="At most this many open conversations "
                                                   "at once (default: no limit)."),
           skill: list[str] = typer.Option([], "--skill", help="A skill whose replies they "
                                                               "answer (repeatable)."),
           bu: str = ctx.BuOption):
    """Create an agent of the business unit."""
    from proactive_sms.services import agents

    view = agents.create_agent(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                               display_name, availability, max_open, skill)
    ctx.console.print(f"agent [bold]{view.name}[/bold] created ({view.agent.availability}, "
                      f"skills: {', '.join(view.skills) or 'none'})")


@app.command("list")
@ctx.handle_errors
def list_(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Every agent, with availability, skills and open conversations (of their limit)."""
    from proactive_sms.services import agents

    _print_agents(agents.all_agents(ctx.engine(), ctx.business_unit(bu)), as_json)


@app.command("status")
@ctx.handle_errors
def status(name: str,
           availability: str = typer.Argument(None, help="Set it: " + AVAILABILITY_HELP),
           as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Show an agent, or set their availability (back to available, they take the
    conversations waiting for their skills at once)."""
    from proactive_sms.services import agents

    unit = ctx.business_unit(bu)
    if availability is None:
        _print_agents([agents.get_agent(ctx.engine(), unit, name)], as_json)
        return
    change = agents.set_availability(ctx.engine(), unit, ctx.clock, name, availability)
    if as_json:
        emit_json({"name": name, "availability": change.agent.agent.availability.value,
                   "handed_back": change.handed_back, "assigned": change.assigned})
        return
    ctx.console.print(f"agent [bold]{name}[/bold] is {change.agent.agent.availability}")
    if change.handed_back:
        ctx.console.print(f"conversations back in the queue: {_ids(change.handed_back)}")
    if change.assigned:
        ctx.console.print(f"conversations assigned: {_ids(change.assigned)}")


def _ids(conversation_ids: list[int]) -> str:
    return ", ".join(f"#{c}" for c in conversation_ids)


@app.command("skills")
@ctx.handle_errors
def skills(name: str,
           add: list[str] = typer.Option([], "--add", help="Answer this skill's replies."),
           remove: list[str] = typer.Option([], "--remove", help="Stop taking new "
                                                                 "conversations of it."),
           as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Show or change the skills whose replies an agent answers."""
    from proactive_sms.services import agents

    unit = ctx.business_unit(bu)
    view = agents.get_agent(ctx.engine(), unit, name)
    for skill_name in add:
        view = agents.add_skill(ctx.engine(), unit, ctx.clock, name, skill_name)
    for skill_name in remove:
        view = agents.remove_skill(ctx.engine(), unit, name, skill_name)
    if as_json:
        emit_json({"name": name, "skills": view.skills})
        return
    ctx.console.print(f"{name}: {', '.join(view.skills) or 'no skills'}")


@app.command("conversations")
@ctx.handle_errors
def conversations_(name: str = typer.Argument(None, help="The agent (default: the "
                                                         "conversations no agent has)."),
                   all_: bool = typer.Option(False, "--all", help="Include closed ones."),
                   as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """An agent's conversations with the customers' waiting times; without NAME, the open
    conversations waiting for an agent."""
    from proactive_sms.services import agents

    unit = ctx.business_unit(bu)
    if name is None:
        _print_queue(agents.unassigned(ctx.engine(), unit, ctx.clock), "waiting for an agent",
                     as_json)
    else:
        _print_queue(agents.queue(ctx.engine(), unit, ctx.clock, name, include_closed=all_),
                     f"conversations of {name}", as_json)


@app.command("answer")
@ctx.handle_errors
def answer(name: str, conversation_id: int, text: str, bu: str = ctx.BuOption):
    """Answer one of your conversations: the text leaves through its code ahead of bulk."""
    from proactive_sms.services import agents

    message_id = agents.answer(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                               conversation_id, text)
    ctx.console.print(f"answer queued as message {message_id}")


@app.command("transfer")
@ctx.handle_errors
def transfer(conversation_id: int, to_agent: str, bu: str = ctx.BuOption):
    """Give a conversation to another agent (a supervisor's action)."""
    from proactive_sms.services import agents

    entry = agents.transfer(ctx.engine(), ctx.business_unit(bu), ctx.clock, conversation_id,
                            to_agent)
    ctx.console.print(f"conversation #{conversation_id} is now with {entry.agent_name}")


@app.command("close")
@ctx.handle_errors
def close(name: str, conversation_id: int, bu: str = ctx.BuOption):
    """Close one of your conversations."""
    from proactive_sms.services import agents

    agents.close(ctx.engine(), ctx.business_unit(bu), ctx.clock, name, conversation_id)
    ctx.console.print(f"conversation #{conversation_id} closed")


@app.command("report")
@ctx.handle_errors
def report(since: str = typer.Option(None, help="Conversations opened from this moment "
                                                "(ISO 8601, e.g. 2026-03-04T00:00Z)."),
           as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Conversations handled per agent and the time to first answer."""
    from proactive_sms.services.agent_report import agent_report

    result = agent_report(ctx.engine(), ctx.business_unit(bu), ctx.clock, _moment(since))
    if as_json:
        emit_json(result.as_dict())
        return
    ctx.console.print(f"{result.conversations} conversations, {result.answered} answered "
                      f"(time to first answer: mean {format_wait(result.mean_first_answer_s)}"
                      f", median {format_wait(result.median_first_answer_s)}), "
                      f"{result.unassigned_waiting} waiting for an agent")
    headings = ["agent", "availability", "open", "waiting", "longest wait", "handled",
                "first answers", "mean first answer", "median"]
    print_rows(ctx.console, headings,
               [[f.name, f.availability, f.open_now, f.waiting_now, format_wait(f.longest_wait_s),
                 f.handled, f.first_answers, format_wait(f.mean_first_answer_s),
                 format_wait(f.median_first_answer_s)] for f in result.agents],
               right_aligned=headings[2:])


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ctx.BadInput(f"--since must be an ISO 8601 moment, got '{text}'") from None
    if moment.tzinfo is None:
        raise ctx.BadInput(f"--since needs a time zone (e.g. 'Z' or '+01:00'), got '{text}'")
    return moment


# --- show, change, remove (issue 17) -----------------------------------------------------------

def _agent_dict(view: AgentView) -> dict:
    found = view.agent
    return {"name": found.name, "display_name": found.display_name,
            "availability": found.availability.value,
            "max_open_conversations": found.max_open_conversations, "skills": view.skills,
            "open_conversations": view.open_conversations, "created_at": found.created_at,
            "version": found.version}


@app.command("show")
@ctx.handle_errors
def show(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One agent: availability, skills, open conversations (of their limit)."""
    from proactive_sms.services import agents

    view = agents.get_agent(ctx.engine(), ctx.business_unit(bu), name)
    if as_json:
        emit_json(_agent_dict(view))
        return
    _print_agents([view])


@app.command("change")
@ctx.handle_errors
def change(name: str,
           display_name: str = typer.Option(None, help="Name shown to supervisors."),
           max_open: int = typer.Option(None, help="At most this many open conversations."),
           no_limit: bool = typer.Option(False, "--no-limit", help="No limit of open "
                                                                   "conversations."),
           as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Change an agent's display name or limit (availability: `status`; skills: `skills`)."""
    from proactive_sms.services import agents
    from proactive_sms.services.administration import InvalidRequest

    if max_open is not None and no_limit:
        raise InvalidRequest("give --max-open or --no-limit, not both")
    changes: dict = {}
    if display_name is not None:
        changes["display_name"] = display_name
    if max_open is not None or no_limit:
        changes["max_open_conversations"] = max_open
    if not changes:
        raise InvalidRequest("nothing to change: give --display-name, --max-open or "
                             "--no-limit")
    view = agents.change_agent(ctx.engine(), ctx.business_unit(bu), ctx.clock, name, changes)
    if as_json:
        emit_json(_agent_dict(view))
        return
    ctx.console.print(f"agent [bold]{view.name}[/bold] changed: {', '.join(sorted(changes))}")


@app.command("remove")
@ctx.handle_errors
def remove(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Remove an agent with no open conversation and no console user (archived if they
    handled conversations: those keep who handled them)."""
    from proactive_sms.services import agents

    removal = agents.remove_agent(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    show_removal(removal, as_json)
