"""`psms connection …` and `psms registration …`."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows, show_fields
from proactive_sms.interfaces.cli.refusals import show_removal

connection_app = typer.Typer(help="Carrier connections (SMPP binds, HTTP provider accounts).",
                             no_args_is_help=True)
registration_app = typer.Typer(help="SMS registrations: the BU's transport codes.",
                               no_args_is_help=True)


@connection_app.command("add")
@ctx.handle_errors
def connection_add(name: str, host: str = typer.Option("127.0.0.1"),
                   port: int = typer.Option(2775),
                   system_id: str = typer.Option(..., "--system-id"),
                   password: str = typer.Option(..., "--password"),
                   window: int = typer.Option(10, help="Unacknowledged submits at most."),
                   enquire_link: float = typer.Option(
                       None, "--enquire-link",
                       help="Idle seconds before a keep-alive probe (default 30)."),
                   bu: str = ctx.BuOption):
    """Add (or update) an SMPP connection that registrations send through (`psms connection
    test NAME` tries its bind)."""
    from proactive_sms.services import administration

    unit = ctx.business_unit(bu)
    conn = administration.add_connection(ctx.engine(), unit, ctx.clock, name, host, port,
                                         system_id, password, window,
                                         enquire_link_s=enquire_link)
    ctx.console.print(f"connection {conn.name}: smpp://{conn.system_id}@{conn.host}:{conn.port} "
                      f"window {conn.window_size}")


@connection_app.command("add-http")
@ctx.handle_errors
def connection_add_http(
    name: str,
    provider: str = typer.Option("twilio", help="The provider's API shape (twilio, vonage)."),
    account: str = typer.Option(..., help="The account id (Twilio: the Account SID; Vonage: "
                                "the API key)."),
    token: str = typer.Option(..., help="The account's secret (Twilio: the Auth Token; "
                              "Vonage: the API secret); sealed at rest, never shown."),
    signature_secret: str = typer.Option(
        None, "--signature-secret", help="Vonage only (required there): the signature secret "
        "its receipts and inbound texts are signed with; sealed at rest."),
    callback_url: str = typer.Option(
        ..., "--callback-url", help="The public base URL of `psms serve` that the provider "
        "posts status reports and inbound texts to (…/carrier-callbacks/ID/…)."),
    base_url: str = typer.Option(None, "--base-url",
                                 help="The provider API's base URL (default: the provider's)."),
    window: int = typer.Option(10, help="Submits waiting for their answer at most."),
    as_json: bool = JsonOption, bu: str = ctx.BuOption,
):
    """Add (or update) an HTTP provider connection that registrations send through, and say
    which callback URLs to give the provider (`psms connection test NAME` checks the
    account)."""
    from proactive_sms.services import administration

    found = administration.add_http_connection(
        ctx.engine(), ctx.business_unit(bu), ctx.clock, name, provider=provider,
        account=account, token=token, base_url=base_url, callback_url=callback_url,
        window_size=window, signature_secret=signature_secret)
    if as_json:
        emit_json(_connection_dict(found))
        return
    fields = _connection_dict(found)
    ctx.console.print(f"connection {found.name}: {fields['address']} window "
                      f"{found.window_size}", highlight=False)
    ctx.console.print(f"  status callbacks: {fields['status_callback_url']}", highlight=False)
    ctx.console.print(f"  inbound webhook (set it on the provider's numbers): "
                      f"{fields['inbound_webhook_url']}", highlight=False)


@connection_app.command("list")
@ctx.handle_errors
def connection_list(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The tenant's carrier connections with their link status as the dispatchers report it:
    state and since when, and the last error with its time (a refused bind says why)."""
    from proactive_sms.services import carrier_connections, listing
    from proactive_sms.services.connection_test import connection_address

    unit = ctx.business_unit(bu)
    found = []  # (connection, link)
    request = listing.PageRequest()
    while True:
        page = listing.connections_page(ctx.engine(), unit, request)
        links = carrier_connections.links(ctx.engine(), ctx.clock, [c.id for c in page.items])
        found.extend((c, links[c.id]) for c in page.items)
        if not page.more or page.last_id is None:
            break
        request = listing.PageRequest(page.last_id)
    if as_json:
        emit_json([{"name": c.name, "kind": c.kind, "address": connection_address(c),
                    "host": c.host, "port": c.port, "system_id": c.system_id,
                    "window": c.window_size, "state": link.state, "since": link.since,
                    "last_error": link.last_error, "last_error_at": link.last_error_at,
                    "breaker": link.breaker, "breaker_reason": link.breaker_reason}
                   for c, link in found])
        return
    rows = []
    for c, link in found:
        error = f"{link.last_error} (at {link.last_error_at:%Y-%m-%d %H:%M:%S} UTC)" \
            if link.last_error and link.last_error_at else (link.last_error or "")
        since = f"{link.since:%Y-%m-%d %H:%M:%S} UTC" if link.since else ""
        breaker = link.breaker or "-"
        if link.breaker in ("open", "half_open") and link.breaker_reason:
            breaker += f" ({link.breaker_reason})"
        rows.append((c.name, connection_address(c), c.window_size,
                     link.state, since, breaker, error))
    print_rows(ctx.console, ("name", "address", "window", "state", "since", "breaker",
                             "last error"), rows, right_aligned=("window",))


@connection_app.command("test")
@ctx.handle_errors
def connection_test(name: str,
                    timeout: float = typer.Option(10.0, help="Seconds to wait for the bind."),
                    as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Connect and bind once, then unbind: says why a bind is refused (a wrong password or
    system_id) or the carrier cannot be reached (exit code 1)."""
    import asyncio
    import logging

    from proactive_sms.services import connection_test as tests

    # The carrier logs each failed bind as a warning "retrying with backoff": here the one
    # attempt's reason is the command's answer, printed below. (Restored after: in-process
    # callers, the tests among them, keep their logging.)
    carriers_log = logging.getLogger("proactive_sms.carriers")
    level = carriers_log.level
    carriers_log.setLevel(logging.ERROR)
    try:
        outcome = asyncio.run(tests.try_bind(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                             name, timeout))
    finally:
        carriers_log.setLevel(level)
    if as_json:
        emit_json(outcome.as_dict())
        if not outcome.bound:
            raise typer.Exit(ctx.FAILED)
        return
    if not outcome.bound:
        raise ctx.fail(f"connection {outcome.connection} ({outcome.address}): {outcome.reason}")
    ctx.console.print(f"connection {outcome.connection} ({outcome.address}): bound in "
                      f"{outcome.took_s:.2f} s", highlight=False)


@registration_app.command("add")
@ctx.handle_errors
def registration_add(
    code: str,
    kind: str = typer.Option(..., help="long | short | toll_free"),
    throughput: float = typer.Option(..., help="Limit per second (segments by default)."),
    connection: str = typer.Option(None, help="Carrier connection name."),
    connections: str = typer.Option(
        None, help="Carrier connections in order, comma-separated (primary,backup): the first "
        "that is up carries the texts, the next while it is down (failover)."),
    dnc_group: str = typer.Option(None, help="DNC group (default: the tenant default list)."),
    solution: str = typer.Option("external", help="sms_messaging | external"),
    unit: str = typer.Option("segments", help="Count the limit in segments or messages."),
    status: str = typer.Option("active", help="provisioning | active"),
    bu: str = ctx.BuOption,
):
    """Register a transport code for the business unit."""
    from proactive_sms.services import administration

    reg = administration.add_registration(
        ctx.engine(), ctx.business_unit(bu), ctx.clock, code=code, kind=kind,
        throughput_per_s=throughput, connection=connection, dnc_group=dnc_group,
        solution=solution, throughput_unit=unit, status=status, connections=connections)
    ctx.console.print(f"registration {reg.code} ({reg.kind}, {reg.throughput_per_s:g} "
                      f"{reg.throughput_unit}/s, {reg.solution}) added")


@registration_app.command("list")
@ctx.handle_errors
def registration_list(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The business unit's transport codes, each with its connections in order (* marks the
    one carrying its texts now; an open breaker says why)."""
    from proactive_sms.services import administration, code_routes

    engine, unit = ctx.engine(), ctx.business_unit(bu)
    paces = administration.code_paces(engine, unit)
    found = administration.list_registrations(engine, unit)
    routes = code_routes.route_views(engine, ctx.clock, found)
    if as_json:
        emit_json([{"code": reg.code, "kind": reg.kind, "status": reg.status,
                    "throughput_per_s": reg.throughput_per_s,
                    "throughput_unit": reg.throughput_unit, "solution": reg.solution,
                    "pace": _pace_fields(paces.get(reg.id)),
                    "route": routes[reg.id].as_dict()} for reg in found])
        return
    print_rows(ctx.console, ["code", "kind", "status", "limit/s", "now/s", "unit", "solution",
                             "connections"],
               [[reg.code, reg.kind, reg.status, f"{reg.throughput_per_s:g}",
                 _pace_text(paces.get(reg.id)), reg.throughput_unit, reg.solution,
                 code_routes.route_text(routes[reg.id])]
                for reg in found], right_aligned=["limit/s"])


@registration_app.command("keywords")
@ctx.handle_errors
def registration_keywords(
    code: str,
    sender_name: str = typer.Option(None, help="Who the texts are from, in the answers."),
    contact: str = typer.Option(None, help="How to reach the sender (phone, web, e-mail)."),
    opt_out_text: str = typer.Option(None, help="Answer to STOP ({sender}, {contact} allowed)."),
    opt_in_text: str = typer.Option(None, help="Answer to START."),
    help_text: str = typer.Option(None, help="Answer to HELP (must say how to stop)."),
    extra_opt_out: list[str] = typer.Option([], help="More opt-out words (e.g. Arabic)."),
    extra_opt_in: list[str] = typer.Option([], help="More opt-in words."),
    extra_help: list[str] = typer.Option([], help="More help words."),
    bu: str = ctx.BuOption,
):
    """What a code answers to STOP, START and HELP, and extra keywords (toll-free: words only)."""
    from proactive_sms.services import administration

    updates: dict = {"sender_name": sender_name, "contact": contact, "opt_out_text": opt_out_text,
                     "opt_in_text": opt_in_text, "help_text": help_text}
    if extra_opt_out or extra_opt_in or extra_help:
        updates["extra_keywords"] = {"opt_out": extra_opt_out, "opt_in": extra_opt_in,
                                     "help": extra_help}
    updates = {k: v for k, v in updates.items() if v is not None}
    reg = administration.set_keyword_responses(ctx.engine(), ctx.business_unit(bu), code, updates)
    ctx.console.print(f"registration {reg.code}: keyword responses updated")


def _pace_text(pace) -> str:
    """What the code may send now: '-' before any worker dispatched it, the rate, and while the
    carrier throttles it, how often and when last."""
    if pace is None:
        return "-"
    text = f"{pace.rate_per_s:g}"
    if pace.throttled:
        last = pace.last_throttle_at.strftime("%H:%M:%S") if pace.last_throttle_at else "?"
        text += f" (throttled x{pace.throttle_events}, last {last} UTC)"
    if pace.paused:
        text += " paused"
    return text


def _pace_fields(pace) -> dict | None:
    if pace is None:
        return None
    return {"rate_per_s": pace.rate_per_s, "throttled": pace.throttled,
            "throttle_events": pace.throttle_events, "last_throttle_at": pace.last_throttle_at,
            "paused": pace.paused}


# --- show, change, remove (issue 17) -----------------------------------------------------------

def _connection_dict(c) -> dict:
    """A connection as `--json` shows it (never its password or token)."""
    from proactive_sms.services.connection_test import connection_address

    if c.kind == "http":
        from proactive_sms.carriers.http.shape import ProviderAccount

        account = ProviderAccount(c.id, c.base_url or "", c.account or "", "",
                                  c.callback_url or "")
        return {"name": c.name, "kind": c.kind, "address": connection_address(c),
                "provider": c.provider, "account": c.account, "base_url": c.base_url,
                "callback_url": c.callback_url,
                "status_callback_url": account.callback("status"),
                "inbound_webhook_url": account.callback("inbound"),
                "window_size": c.window_size, "version": c.version}
    return {"name": c.name, "kind": c.kind, "address": connection_address(c), "host": c.host,
            "port": c.port, "system_id": c.system_id, "window_size": c.window_size,
            "enquire_link_s": c.enquire_link_s, "version": c.version}


@connection_app.command("show")
@ctx.handle_errors
def connection_show(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One connection (never its password)."""
    from proactive_sms.services import administration

    found = administration.find_connection(ctx.engine(), ctx.business_unit(bu), name)
    show_fields(ctx.console, _connection_dict(found), as_json, empty="")


@connection_app.command("change")
@ctx.handle_errors
def connection_change(
    name: str,
    host: str = typer.Option(None), port: int = typer.Option(None),
    system_id: str = typer.Option(None, "--system-id"),
    password: str = typer.Option(None, "--password", help="Sealed at rest, never shown (an "
                                 "HTTP connection's token)."),
    account: str = typer.Option(None, help="An HTTP connection's account id."),
    base_url: str = typer.Option(None, "--base-url", help="An HTTP connection's API base URL."),
    callback_url: str = typer.Option(None, "--callback-url",
                                     help="An HTTP connection's public callback base URL."),
    signature_secret: str = typer.Option(None, "--signature-secret",
                                         help="A Vonage connection's signature secret."),
    window: int = typer.Option(None, help="Unacknowledged submits at most."),
    enquire_link: float = typer.Option(None, "--enquire-link",
                                       help="Idle seconds before a keep-alive probe."),
    as_json: bool = JsonOption, bu: str = ctx.BuOption,
):
    """Change what is given of a connection (dispatchers use it when they next bind)."""
    from proactive_sms.services import setup_changes

    changes = {k: v for k, v in {"host": host, "port": port, "system_id": system_id,
                                 "password": password, "window_size": window,
                                 "enquire_link_s": enquire_link, "account": account,
                                 "base_url": base_url, "callback_url": callback_url,
                                 "signature_secret": signature_secret}.items()
               if v is not None}
    _require(changes)
    found = setup_changes.change_connection(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                            name, changes)
    if as_json:
        emit_json(_connection_dict(found))
        return
    ctx.console.print(f"connection {found.name} changed: {', '.join(sorted(changes))}")


@connection_app.command("remove")
@ctx.handle_errors
def connection_remove(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Remove a connection no registration sends through (archived if texts refer to it)."""
    from proactive_sms.services import setup_changes

    removal = setup_changes.remove_connection(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                              name)
    show_removal(removal, as_json)


def _registration_dict(reg, pace=None, route=None, prices=None) -> dict:
    found = {"code": reg.code, "kind": reg.kind, "status": reg.status,
             "throughput_per_s": reg.throughput_per_s, "throughput_unit": reg.throughput_unit,
             "solution": reg.solution, "version": reg.version,
             "pace_per_s": None if pace is None else pace.rate_per_s}
    if prices is not None:
        found["price"] = prices.summary()
    if route is not None:
        found.update(connections=", ".join(route.names) or None,
                     carrying=route.carrying, failovers=route.failovers,
                     returns=route.returns)
        for leg in route.legs:
            reason = f" ({leg.link.breaker_reason})" if leg.link.breaker_reason and \
                leg.breaker != "closed" else ""
            found[f"connection {leg.name}"] = f"{leg.link.state}, breaker " \
                f"{leg.breaker or '-'}{reason}"
    return found


@registration_app.command("show")
@ctx.handle_errors
def registration_show(code: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One transport code with its settings, its price, the rate it may send at now, and its
    connections in order: each one's link and breaker, and the one carrying its texts now."""
    from proactive_sms.services import administration, code_prices, code_routes
    from proactive_sms.store.errors import NotFound

    engine, unit = ctx.engine(), ctx.business_unit(bu)
    key = administration.code_key(code, unit)
    found = [r for r in administration.list_registrations(engine, unit) if r.code == key]
    if not found:
        raise NotFound("registration", code)
    pace = administration.code_paces(engine, unit).get(found[0].id)
    prices = code_prices.code_prices(engine, unit, found[0].code)
    route = code_routes.route_views(engine, ctx.clock, found)[found[0].id]
    if as_json:
        emit_json({**_registration_dict(found[0], pace, prices=prices), "route": route.as_dict()})
        return
    show_fields(ctx.console, _registration_dict(found[0], pace, route, prices), as_json)


@registration_app.command("change")
@ctx.handle_errors
def registration_change(
    code: str,
    status: str = typer.Option(None, help="provisioning | active"),
    throughput: float = typer.Option(None, help="Limit per second."),
    unit: str = typer.Option(None, help="Count the limit in segments or messages."),
    solution: str = typer.Option(None, help="sms_messaging | external"),
    connection: str = typer.Option(None, help="Carrier connection name ('' for none)."),
    connections: str = typer.Option(
        None, help="Carrier connections in order, comma-separated ('' for none): the first "
        "that is up carries the texts (failover)."),
    dnc_group: str = typer.Option(None, help="DNC group ('' for the tenant default list)."),
    as_json: bool = JsonOption, bu: str = ctx.BuOption,
):
    """Change what is given of a registration (checked as when it was added). A running
    dispatcher picks up a new route at its next look (within a second)."""
    from proactive_sms.services import setup_changes

    changes: dict = {k: v for k, v in {"status": status, "throughput_per_s": throughput,
                                       "throughput_unit": unit, "solution": solution}.items()
                     if v is not None}
    if connection is not None:
        changes["connection"] = connection or None
    if connections is not None:
        changes["connections"] = connections or None
    if dnc_group is not None:
        changes["dnc_group"] = dnc_group or None
    _require(changes)
    reg = setup_changes.change_registration(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                            code, changes)
    if as_json:
        emit_json(_registration_dict(reg))
        return
    ctx.console.print(f"registration {reg.code} changed: {', '.join(sorted(changes))}")


@registration_app.command("remove")
@ctx.handle_errors
def registration_remove(code: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Remove a code no skill still to send uses (archived if texts refer to it)."""
    from proactive_sms.services import setup_changes

    removal = setup_changes.remove_registration(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                                code)
    show_removal(removal, as_json)


def _require(changes: dict) -> None:
    from proactive_sms.services import administration

    if not changes:
        raise administration.InvalidRequest("nothing to change: give at least one option "
                                            "(see --help)")


@registration_app.command("price")
@ctx.handle_errors
def registration_price(
    code: str,
    price: str = typer.Argument(None, help="Price per segment, decimal (0.0079); none: show."),
    currency: str = typer.Option(None, help="ISO 4217 code (USD): a unit prices in one."),
    country: str = typer.Option(None, help="ISO 3166 code of a destination country whose "
                                           "price overrides the code's own (CA)."),
    remove: bool = typer.Option(False, "--remove", help="Remove the price (the country's, "
                                                        "with --country)."),
    as_json: bool = JsonOption, bu: str = ctx.BuOption,
):
    """A code's price per segment, and per destination country: what the dry run, reports and
    budgets count (docs/spend.md). Without PRICE, shows them."""
    from proactive_sms.services import administration, code_prices

    engine, unit = ctx.engine(), ctx.business_unit(bu)
    if remove and price is not None:
        raise administration.InvalidRequest("give a PRICE or --remove, not both")
    if remove:
        prices = code_prices.remove_price(engine, unit, code, country)
    elif price is not None:
        if not currency:
            with engine.connect() as conn:
                currency = code_prices.unit_currency(conn, unit)
            if not currency:
                raise administration.InvalidRequest("give --currency (the unit has no price "
                                                     "or budget naming one yet)", "currency")
        prices = code_prices.set_price(engine, unit, ctx.clock, code, price, currency, country)
    else:
        prices = code_prices.code_prices(engine, unit, code)
    if as_json:
        emit_json(prices.as_dict())
        return
    ctx.console.print(f"code {prices.code}: {prices.summary()}")
