"""`psms agent …`: agents, their skills and availability, and their conversations."""

from __future__ import annotations

import json
from datetime import datetime

import typer
from rich.table import Table

from proactive_sms.domain.agent_assignment import format_wait
from proactive_sms.domain.phone import mask
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.services import agents
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.agent_report import agent_report
from proactive_sms.services.agents import AgentView, QueueEntry

app = typer.Typer(help="Agents: who answers the replies of which skills, and their "
                       "conversations.", no_args_is_help=True)
ctx.register_user_error(agents.AgentRefused)

AVAILABILITY_HELP = "available (takes new conversations), away (keeps theirs, takes no new "\
                    "ones) or offline (hands theirs back to the queue)."


def _limit(view: AgentView) -> str:
    limit = view.agent.max_open_conversations
    return f"{view.open_conversations}/{limit}" if limit else str(view.open_conversations)


def _print_agents(views: list[AgentView]) -> None:
    table = Table("name", "display name", "availability", "skills", "open")
    for view in views:
        table.add_row(view.name, view.agent.display_name, view.agent.availability.value,
                      ", ".join(view.skills) or "-", _limit(view))
    ctx.console.print(table)


def _print_queue(entries: list[QueueEntry], title: str) -> None:
    table = Table("id", "from", "status", "agent", "opened", "waiting", title=title)
    for entry in entries:
        found = entry.conversation
        table.add_row(str(found.id), mask(found.phone), found.status, entry.agent_name or "-",
                      f"{found.opened_at:%Y-%m-%d %H:%M}", format_wait(entry.waiting_s))
    ctx.console.print(table)


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
    view = agents.create_agent(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                               display_name, availability, max_open, skill)
    ctx.console.print(f"agent [bold]{view.name}[/bold] created ({view.agent.availability}, "
                      f"skills: {', '.join(view.skills) or 'none'})")


@app.command("list")
@ctx.handle_errors
def list_(bu: str = ctx.BuOption):
    """Every agent, with availability, skills and open conversations (of their limit)."""
    _print_agents(agents.all_agents(ctx.engine(), ctx.business_unit(bu)))


@app.command("status")
@ctx.handle_errors
def status(name: str,
           availability: str = typer.Argument(None, help="Set it: " + AVAILABILITY_HELP),
           bu: str = ctx.BuOption):
    """Show an agent, or set their availability (back to available, they take the
    conversations waiting for their skills at once)."""
    unit = ctx.business_unit(bu)
    if availability is None:
        _print_agents([agents.get_agent(ctx.engine(), unit, name)])
        return
    change = agents.set_availability(ctx.engine(), unit, ctx.clock, name, availability)
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
           bu: str = ctx.BuOption):
    """Show or change the skills whose replies an agent answers."""
    unit = ctx.business_unit(bu)
    view = agents.get_agent(ctx.engine(), unit, name)
    for skill_name in add:
        view = agents.add_skill(ctx.engine(), unit, ctx.clock, name, skill_name)
    for skill_name in remove:
        view = agents.remove_skill(ctx.engine(), unit, name, skill_name)
    ctx.console.print(f"{name}: {', '.join(view.skills) or 'no skills'}")


@app.command("conversations")
@ctx.handle_errors
def conversations_(name: str = typer.Argument(None, help="The agent (default: the "
                                                         "conversations no agent has)."),
                   all_: bool = typer.Option(False, "--all", help="Include closed ones."),
                   bu: str = ctx.BuOption):
    """An agent's conversations with the customers' waiting times; without NAME, the open
    conversations waiting for an agent."""
    unit = ctx.business_unit(bu)
    if name is None:
        _print_queue(agents.unassigned(ctx.engine(), unit, ctx.clock), "waiting for an agent")
    else:
        _print_queue(agents.queue(ctx.engine(), unit, ctx.clock, name, include_closed=all_),
                     f"conversations of {name}")


@app.command("answer")
@ctx.handle_errors
def answer(name: str, conversation_id: int, text: str, bu: str = ctx.BuOption):
    """Answer one of your conversations: the text leaves through its code ahead of bulk."""
    message_id = agents.answer(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                               conversation_id, text)
    ctx.console.print(f"answer queued as message {message_id}")


@app.command("transfer")
@ctx.handle_errors
def transfer(conversation_id: int, to_agent: str, bu: str = ctx.BuOption):
    """Give a conversation to another agent (a supervisor's action)."""
    entry = agents.transfer(ctx.engine(), ctx.business_unit(bu), ctx.clock, conversation_id,
                            to_agent)
    ctx.console.print(f"conversation #{conversation_id} is now with {entry.agent_name}")


@app.command("close")
@ctx.handle_errors
def close(name: str, conversation_id: int, bu: str = ctx.BuOption):
    """Close one of your conversations."""
    agents.close(ctx.engine(), ctx.business_unit(bu), ctx.clock, name, conversation_id)
    ctx.console.print(f"conversation #{conversation_id} closed")


@app.command("report")
@ctx.handle_errors
def report(since: str = typer.Option(None, help="Conversations opened from this moment "
                                                "(ISO 8601, e.g. 2026-03-04T00:00Z)."),
           as_json: bool = typer.Option(False, "--json", help="Print JSON."),
           bu: str = ctx.BuOption):
    """Conversations handled per agent and the time to first answer."""
    result = agent_report(ctx.engine(), ctx.business_unit(bu), ctx.clock, _moment(since))
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    ctx.console.print(f"{result.conversations} conversations, {result.answered} answered "
                      f"(time to first answer: mean {format_wait(result.mean_first_answer_s)}"
                      f", median {format_wait(result.median_first_answer_s)}), "
                      f"{result.unassigned_waiting} waiting for an agent")
    table = Table("agent", "availability", "open", "waiting", "longest wait", "handled",
                  "first answers", "mean first answer", "median")
    for f in result.agents:
        table.add_row(f.name, f.availability, str(f.open_now), str(f.waiting_now),
                      format_wait(f.longest_wait_s), str(f.handled), str(f.first_answers),
                      format_wait(f.mean_first_answer_s), format_wait(f.median_first_answer_s))
    ctx.console.print(table)


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"--since must be an ISO 8601 moment, got '{text}'") from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"--since needs a time zone (e.g. 'Z' or '+01:00'), got '{text}'")
    return moment
