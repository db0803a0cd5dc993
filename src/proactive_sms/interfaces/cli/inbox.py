"""`psms inbox …` (agents' conversations) and `psms review …` (possible opt-outs)."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows

inbox_app = typer.Typer(help="Conversations waiting for agents (sms_messaging codes).",
                        no_args_is_help=True)
review_app = typer.Typer(help="Possible opt-outs waiting for a supervisor's decision.",
                         no_args_is_help=True)
ctx.register_user_error("proactive_sms.services.conversations:ConversationError")


def _waiting_s(conversation) -> int | None:
    since = conversation.waiting_since
    if since is None:
        return None
    return int((ctx.clock.now().replace(tzinfo=None) - since.replace(tzinfo=None))
               .total_seconds())


def _waiting(conversation) -> str:
    seconds = _waiting_s(conversation)
    if seconds is None:
        return "-"
    return f"{seconds // 60} min {seconds % 60} s"


@inbox_app.command("list")
@ctx.handle_errors
def inbox_list(all_: bool = typer.Option(False, "--all", help="Include closed conversations."),
               as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Open conversations, longest waiting first."""
    from proactive_sms.domain.phone import mask
    from proactive_sms.services import conversations

    found = conversations.inbox(ctx.engine(), ctx.business_unit(bu), include_closed=all_)
    if as_json:
        emit_json([{"id": c.id, "from": mask(c.phone), "skill_id": c.skill_id,
                    "status": c.status, "opened_at": c.opened_at,
                    "waiting_s": _waiting_s(c)} for c in found])
        return
    print_rows(ctx.console, ["id", "from", "skill", "status", "waiting"],
               [[c.id, mask(c.phone), c.skill_id or "-", c.status, _waiting(c)] for c in found],
               right_aligned=["id"])


@inbox_app.command("show")
@ctx.handle_errors
def inbox_show(conversation_id: int, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """A conversation's history: the customer's texts and ours."""
    from proactive_sms.domain.phone import mask
    from proactive_sms.services import conversations

    found, entries = conversations.history(ctx.engine(), ctx.business_unit(bu), conversation_id)
    if as_json:
        emit_json({"id": found.id, "from": mask(found.phone), "status": found.status,
                   "history": [{"at": e.at, "direction": e.direction, "text": e.text,
                                "note": e.note, "kind": e.kind, "state": e.state}
                               for e in entries]})
        return
    ctx.console.print(f"conversation #{found.id} with {mask(found.phone)} ({found.status})")
    for entry in entries:
        arrow = "←" if entry.direction == "in" else "→"
        ctx.console.print(f"{entry.at:%Y-%m-%d %H:%M:%S} {arrow} {entry.text}  [{entry.note}]",
                          markup=False, highlight=False)


@inbox_app.command("reply")
@ctx.handle_errors
def inbox_reply(conversation_id: int, text: str, bu: str = ctx.BuOption):
    """Answer: the text leaves through the same code, ahead of bulk texts."""
    from proactive_sms.services import conversations

    message_id = conversations.reply(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                     conversation_id, text)
    ctx.console.print(f"answer queued as message {message_id}")


@inbox_app.command("close")
@ctx.handle_errors
def inbox_close(conversation_id: int, bu: str = ctx.BuOption):
    """Close a conversation."""
    from proactive_sms.services import conversations

    conversations.close(ctx.engine(), ctx.business_unit(bu), ctx.clock, conversation_id)
    ctx.console.print(f"conversation #{conversation_id} closed")


@review_app.command("list")
@ctx.handle_errors
def review_list(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Possible opt-outs waiting for a decision."""
    from proactive_sms.domain.phone import mask
    from proactive_sms.services.inbound import pending_reviews

    items = pending_reviews(ctx.engine(), ctx.business_unit(bu).id)
    if as_json:
        emit_json([{"id": i.id, "received_at": i.received_at, "from": mask(i.sender),
                    "text": i.text, "why": i.reason} for i in items])
        return
    print_rows(ctx.console, ["id", "received", "from", "text", "why"],
               [[i.id, f"{i.received_at:%Y-%m-%d %H:%M}", mask(i.sender), i.text, i.reason]
                for i in items], right_aligned=["id"])


def _decide(inbound_id: int, accept: bool, bu: str | None) -> None:
    from proactive_sms.services import conversations
    from proactive_sms.services.inbound import InboundService

    unit = ctx.business_unit(bu)
    try:
        outcome = InboundService(ctx.engine(), ctx.clock).review(inbound_id, accept, unit.id)
    except (LookupError, ValueError) as exc:
        raise conversations.ConversationError(str(exc)) from exc
    verdict = "opt-out recorded" if accept else "treated as a reply"
    ctx.console.print(f"inbound #{inbound_id}: {verdict}"
                      + (" (DNC list changed)" if outcome.dnc_changed else ""))


@review_app.command("accept")
@ctx.handle_errors
def review_accept(inbound_id: int, bu: str = ctx.BuOption):
    """It is an opt-out: put the number on the DNC list."""
    _decide(inbound_id, True, bu)


@review_app.command("reject")
@ctx.handle_errors
def review_reject(inbound_id: int, bu: str = ctx.BuOption):
    """It is not an opt-out: treat it as an ordinary reply."""
    _decide(inbound_id, False, bu)
