"""The set-up use cases: tenant and BU, carrier connections, registrations, templates, DNC lists,
skills and campaigns. Each is one transaction; the CLI and the API call these, never the store."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from proactive_sms.domain import names, phone, template
from proactive_sms.domain.bidi_marks import MARK_CHOICES
from proactive_sms.domain.clock import Clock, SystemClock
from proactive_sms.store import code_pace, dnc, registrations, skills, tenancy
from proactive_sms.store import templates as template_store
from proactive_sms.store.calling_lists import find_list
from proactive_sms.store.errors import AlreadyExists, NotFound
from proactive_sms.store.tenancy import BusinessUnit

REGISTRATION_KINDS = ("long", "short", "toll_free")
SOLUTIONS = ("sms_messaging", "external")
# What a code of each kind can sustain at most (REFERENCE.md); a higher setting is refused.
MAX_THROUGHPUT_PER_S = {"long": 5.0, "short": 1000.0, "toll_free": 100.0}
# Below one text per 10 s a rate is a typo (1e-9/s would send one text every 31 years), and a
# skill's pacing above 10,000/s is beyond any code it can use.
MIN_RATE_PER_S = 0.1
MAX_PACING_PER_S = 10_000.0


class InvalidRequest(ValueError):
    """A request whose values are wrong: the message names the value and why; `field`, when
    known, is the request field it is about (the API names it, a console form shows the reason
    under it)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.field = field


def checked_name(kind: str, name: str, field: str = "name") -> str:
    """The domain's rule for names of things people create (domain.names), as an
    InvalidRequest about `field`: every service that creates a named resource calls this."""
    try:
        return names.check_name(kind, name)
    except names.InvalidName as exc:
        raise InvalidRequest(str(exc), field) from exc


def init(engine: Engine, clock: Clock, tenant_name: str = "default", bu_name: str = "default",
         region: str = "US", frequency_cap_per_24h: int | None = None) -> BusinessUnit:
    if frequency_cap_per_24h is not None and frequency_cap_per_24h < 1:
        raise InvalidRequest(f"frequency cap must be at least 1, got {frequency_cap_per_24h}")
    with engine.begin() as conn:
        unit = tenancy.ensure_business_unit(conn, tenant_name, bu_name, region, clock.now())
        if frequency_cap_per_24h is not None:
            tenancy.set_frequency_cap(conn, unit.id, frequency_cap_per_24h)
            unit = tenancy.business_unit_by_id(conn, unit.id)
        return unit


def set_link_domain(engine: Engine, bu: BusinessUnit, domain: str | None,
                    actor: str | None = None) -> BusinessUnit:
    """Where the BU's short links are served ("https://go.example.com", where `psms serve`
    answers); None or "" turns tracking off for skills started from now on (docs/links.md).
    A change is audited as `actor`'s (the CLI's when none is named)."""
    from proactive_sms.domain.short_links import LinkDomainError, normalize_domain
    from proactive_sms.services import audit

    try:
        stored = normalize_domain(domain) if domain and domain.strip() else None
    except LinkDomainError as exc:
        raise InvalidRequest(str(exc), "link_domain") from exc
    with engine.begin() as conn:
        tenancy.set_link_domain(conn, bu.id, stored)
        if stored != bu.link_domain:
            audit.record(conn, None, "business_unit.link_domain", bu.name,
                         {"link_domain": stored, "was": bu.link_domain}, bu=bu,
                         username=actor)
        return tenancy.business_unit_by_id(conn, bu.id)


def business_unit(engine: Engine, name: str | None = None) -> BusinessUnit:
    with engine.connect() as conn:
        return tenancy.find_business_unit(conn, name)


def add_connection(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, host: str,
                   port: int, system_id: str, password: str, window_size: int = 10,
                   replace: bool = True, *, enquire_link_s: float | None = None,
                   ) -> registrations.CarrierConnection:
    """Add the tenant's connection of that name, or (with `replace`) update it.
    `enquire_link_s`: idle seconds before a keep-alive probe (None: the default, 30 s)."""
    check_connection_settings(name=name, window_size=window_size,
                              enquire_link_s=enquire_link_s, system_id=system_id,
                              password=password)
    with engine.begin() as conn:
        if not replace and _connection_exists(conn, bu, name):
            raise AlreadyExists("carrier connection", name)
        return registrations.upsert_connection(conn, bu.tenant_id, name, host, port, system_id,
                                               password, window_size, clock.now(),
                                               enquire_link_s=enquire_link_s)


def add_http_connection(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, *,
                        provider: str, account: str, token: str, callback_url: str,
                        base_url: str | None = None, window_size: int = 10,
                        replace: bool = True,
                        signature_secret: str | None = None) -> registrations.CarrierConnection:
    """Add (or, with `replace`, update) an HTTP provider connection: the provider's API shape
    (carriers/http/providers), the account id and its token (sealed at rest, like SMPP
    passwords), the API's base URL (the provider's own by default) and `callback_url`, the
    public base URL of our `psms serve`, to which the provider posts status reports and
    inbound texts (/carrier-callbacks/{connection id}/status and /inbound). Vonage also needs
    the account's `signature_secret` (its callbacks are signed with it), sealed with the token."""
    from proactive_sms.carriers.http.providers import DEFAULT_BASE_URLS, SHAPES

    checked_name("connection", name)
    if provider not in SHAPES:
        raise InvalidRequest(f"provider must be one of {', '.join(SHAPES)}, got '{provider}'",
                             "provider")
    account = account.strip()
    token = provider_token(provider, token, signature_secret)
    base_url = (base_url or DEFAULT_BASE_URLS[provider]).strip().rstrip("/")
    callback_url = callback_url.strip().rstrip("/")
    check_http_settings(provider=provider, account=account, token=token, base_url=base_url,
                        callback_url=callback_url, window_size=window_size)
    with engine.begin() as conn:
        if not replace and _connection_exists(conn, bu, name):
            raise AlreadyExists("carrier connection", name)
        return registrations.upsert_http_connection(
            conn, bu.tenant_id, name, provider=provider, account=account, token=token,
            base_url=base_url, callback_url=callback_url, window_size=window_size,
            now=clock.now())


def provider_token(provider: str, token: str | None, signature_secret: str | None, *,
                   keep: str | None = None) -> str:
    """The token a provider's connection keeps: Twilio's Auth Token as given; Vonage's API
    secret and signature secret together (carriers.http.vonage.join_secrets). `keep`: the
    connection's token now, for the secret a change does not give."""
    from proactive_sms.carriers.http import vonage

    if provider != "vonage":
        if signature_secret is not None:
            raise InvalidRequest(f"provider '{provider}' takes no signature secret",
                                 "signature_secret")
        return token if token is not None else keep or ""
    kept_secret, kept_signature = vonage.split_secrets(keep or "")
    api_secret = token if token is not None else kept_secret
    signature_secret = signature_secret if signature_secret is not None else kept_signature
    if not signature_secret:
        raise InvalidRequest("a Vonage connection needs its signature secret (Vonage signs "
                             "receipts and inbound texts with it)", "signature_secret")
    if not api_secret:
        raise InvalidRequest("token (the Vonage API secret) must not be empty", "token")
    try:
        return vonage.join_secrets(api_secret, signature_secret)
    except ValueError as exc:
        raise InvalidRequest(str(exc), "token") from None


def check_http_settings(*, provider: str, account: str, token: str, base_url: str,
                        callback_url: str, window_size: int) -> None:
    """An HTTP provider connection's settings (add and change share it)."""
    from proactive_sms.carriers.http.providers import SHAPES

    if provider not in SHAPES:
        raise InvalidRequest(f"provider must be one of {', '.join(SHAPES)}, got '{provider}'",
                             "provider")
    if not account.strip() or len(account) > 100:
        raise InvalidRequest("account must have 1 to 100 characters", "account")
    if not token or len(token) > 200:
        raise InvalidRequest("token must have 1 to 200 characters", "token")
    _check_url(base_url.strip(), "base_url")
    _check_url(callback_url.strip(), "callback_url")
    if not 1 <= window_size <= 1000:
        raise InvalidRequest(f"window size must be 1..1000, got {window_size}", "window_size")


def _check_url(url: str, field_name: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 300:
        raise InvalidRequest(f"{field_name} must be an http(s) URL of at most 300 characters, "
                             f"got '{url}'", field_name)
    if parts.query or parts.fragment:
        raise InvalidRequest(f"{field_name} must have no query or fragment", field_name)


def _connection_exists(conn, bu: BusinessUnit, name: str) -> bool:
    try:
        registrations.find_connection(conn, bu.tenant_id, name)
    except NotFound:
        return False
    return True


def find_connection(engine: Engine, bu: BusinessUnit,
                    name: str) -> registrations.CarrierConnection:
    """A carrier connection of the BU's tenant (connections belong to the tenant)."""
    with engine.connect() as conn:
        return registrations.find_connection(conn, bu.tenant_id, name)


def add_registration(engine: Engine, bu: BusinessUnit, clock: Clock, *, code: str, kind: str,
                     throughput_per_s: float, connection: str | None, dnc_group: str | None,
                     solution: str = "external", throughput_unit: str = "segments",
                     status: str = "active",
                     connections: Sequence[str] | str | None = None,
                     ) -> registrations.Registration:
    """A new transport code. `connections`: its carrier connections in order (the first that
    is up carries its texts: failover); `connection` is the one-connection way to say it."""
    check_registration_settings(kind=kind, solution=solution, throughput_unit=throughput_unit,
                                throughput_per_s=throughput_per_s, status=status,
                                dnc_group=dnc_group)
    if connection and connections:
        raise InvalidRequest("give either connection or connections, not both", "connections")
    names = route_names(connections) if connections else ([connection] if connection else [])
    code = _transport_code(code, kind, bu.default_region)
    with engine.begin() as conn:
        route = [registrations.find_connection(conn, bu.tenant_id, name).id for name in names]
        dnc_list_id = (dnc.ensure_group(conn, bu.tenant_id, dnc_group, clock.now()).id
                       if dnc_group else None)
        found = registrations.add_registration(
            conn, business_unit_id=bu.id, code=code, kind=kind, status=status,
            throughput_per_s=throughput_per_s, throughput_unit=throughput_unit,
            connection_id=route[0] if route else None, dnc_list_id=dnc_list_id,
            solution=solution, keyword_responses={}, now=clock.now())
        registrations.set_route(conn, found.id, route)
        return found


def route_names(value: Any) -> list[str]:
    """A route as given (a list of names, or one string "a,b"), checked: names, no repeats."""
    if value is None:
        return []
    names = ([n.strip() for n in value.split(",")] if isinstance(value, str)
             else [str(n).strip() for n in value])
    if any(not n for n in names):
        raise InvalidRequest("a connection name in the route is empty", "connections")
    seen = [n for i, n in enumerate(names) if n in names[:i]]
    if seen:
        raise InvalidRequest(f"connection {seen[0]!r} appears twice in the route: each "
                             f"connection is tried once, in order", "connections")
    return names


def check_registration_settings(*, kind: str, solution: str, throughput_unit: str,
                                throughput_per_s: float, status: str,
                                dnc_group: str | None) -> None:
    """A registration's settings, each refusal naming its field (add and change share it)."""
    if kind not in REGISTRATION_KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(REGISTRATION_KINDS)}, got '{kind}'",
                             "kind")
    if solution not in SOLUTIONS:
        raise InvalidRequest(f"solution must be one of {', '.join(SOLUTIONS)}, got '{solution}'",
                             "solution")
    if throughput_unit not in ("segments", "messages"):
        raise InvalidRequest(f"throughput unit must be segments or messages, got "
                             f"'{throughput_unit}'", "throughput_unit")
    # `not a <= x <= b` refuses NaN too.
    if not MIN_RATE_PER_S <= throughput_per_s <= MAX_THROUGHPUT_PER_S[kind]:
        raise InvalidRequest(f"throughput of a {kind} code must be {MIN_RATE_PER_S:g} to "
                             f"{MAX_THROUGHPUT_PER_S[kind]:g}/s, got {throughput_per_s:g}",
                             "throughput_per_s")
    if status not in ("provisioning", "active"):
        raise InvalidRequest(f"status must be provisioning or active, got '{status}'", "status")
    if dnc_group:
        checked_name("DNC group", dnc_group, "dnc_group")


def check_connection_settings(*, name: str, window_size: int, enquire_link_s: float | None,
                              system_id: str, password: str | None) -> None:
    """A carrier connection's settings (add and change share it); `password` None: unchanged."""
    checked_name("connection", name)
    if not 1 <= window_size <= 1000:
        raise InvalidRequest(f"window size must be 1..1000, got {window_size}", "window_size")
    if enquire_link_s is not None and not 1 <= enquire_link_s <= 3600:
        raise InvalidRequest(f"enquire_link interval must be 1..3600 s, got {enquire_link_s:g}",
                             "enquire_link_s")
    if len(system_id) > 15 or (password is not None and len(password) > 8):
        raise InvalidRequest("SMPP allows a system_id of 15 and a password of 8 characters",
                             "system_id" if len(system_id) > 15 else "password")


def _transport_code(code: str, kind: str, region: str) -> str:
    digits = code.strip()
    if kind == "short":
        if not (digits.isdigit() and 5 <= len(digits) <= 6):
            raise InvalidRequest(f"a short code has 5 or 6 digits, got '{code}'")
        return digits
    result = phone.normalize(digits, region)
    if result.e164 is None:
        raise InvalidRequest(f"the {kind} code '{code}' is not a phone number: {result.detail}")
    return result.e164


def list_registrations(engine: Engine, bu: BusinessUnit) -> list[registrations.Registration]:
    with engine.connect() as conn:
        return registrations.list_registrations(conn, bu.id)


def code_paces(engine: Engine, bu: BusinessUnit) -> dict[int, code_pace.CodePace]:
    """What each of the BU's codes may send now (by registration id), as its dispatching worker
    last recorded it: below the limit while the carrier throttles. Codes never dispatched are
    absent."""
    with engine.connect() as conn:
        ids = [reg.id for reg in registrations.list_registrations(conn, bu.id)]
        return code_pace.by_registration(conn, ids)


def save_template(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, body: str,
                  direction: str = "auto", smart_encoding: bool = False,
                  calling_list: str | None = None,
                  bidi_marks: str = "auto") -> template_store.StoredTemplate:
    """Save a template after checking its syntax (and its fields, when a list is named)."""
    checked_name("template", name)
    if direction not in ("ltr", "rtl", "auto"):
        raise InvalidRequest(f"direction must be ltr, rtl or auto, got '{direction}'")
    checked_bidi_marks(bidi_marks)
    parsed = template.parse(body)  # TemplateError says what and where
    with engine.begin() as conn:
        if calling_list:
            fields = find_list(conn, bu.id, calling_list).fields
            problems = template.validate(parsed, fields)
            if problems:
                raise problems[0]
        return template_store.save_template(conn, bu.id, name, body, direction, smart_encoding,
                                            clock.now(), bidi_marks)


def checked_bidi_marks(value: str) -> str:
    if value not in MARK_CHOICES:
        raise InvalidRequest(f"bidi_marks must be auto (isolates only where a value would be "
                             f"reordered) or off (none), got '{value}'")
    return value


def find_template(engine: Engine, bu: BusinessUnit, name: str) -> template_store.StoredTemplate:
    with engine.connect() as conn:
        return template_store.find_template(conn, bu.id, name)


# --- DNC lists -----------------------------------------------------------------------------

@dataclass(frozen=True)
class DncChange:
    list_name: str
    changed: int
    invalid: list[str]


def _dnc_numbers(numbers: Iterable[str], region: str) -> tuple[list[str], list[str]]:
    valid, invalid = [], []
    for raw in numbers:
        result = phone.normalize(raw, region)
        (valid.append(result.e164) if result.e164 else invalid.append(raw))
    return valid, invalid


def dnc_add(engine: Engine, bu: BusinessUnit, clock: Clock, numbers: Iterable[str],
            group: str | None = None, source: str = "manual", note: str = "") -> DncChange:
    if group:
        checked_name("DNC group", group)
    valid, invalid = _dnc_numbers(numbers, bu.default_region)
    with engine.begin() as conn:
        target = (dnc.ensure_group(conn, bu.tenant_id, group, clock.now()) if group
                  else dnc.find_list(conn, bu.tenant_id))
        added = dnc.add_numbers(conn, target.id, valid, source, note, clock.now())
    return DncChange(target.name, added, invalid)


def dnc_remove(engine: Engine, bu: BusinessUnit, numbers: Iterable[str],
               group: str | None = None, *, clock: Clock | None = None,
               source: str = "manual") -> DncChange:
    """Take numbers off a list; `source` (manual, api) is kept with each removal."""
    valid, invalid = _dnc_numbers(numbers, bu.default_region)
    now = (clock or SystemClock()).now()
    with engine.begin() as conn:
        target = dnc.find_list(conn, bu.tenant_id, group)
        removed = dnc.remove_numbers(conn, target.id, valid, removed_by=source, now=now)
    return DncChange(target.name, removed, invalid)


def dnc_check(engine: Engine, bu: BusinessUnit, number: str) -> list[str]:
    """The names of the BU's tenant DNC lists that hold the number."""
    result = phone.normalize(number, bu.default_region)
    if result.e164 is None:
        raise InvalidRequest(f"'{number}' is not a phone number: {result.detail}")
    with engine.connect() as conn:
        return [lst.name for lst in dnc.list_lists(conn, bu.tenant_id)
                if dnc.is_on_list(conn, lst.id, result.e164)]


@dataclass(frozen=True)
class DncHit:
    list_name: str
    is_default: bool
    entry: dnc.DncEntry


def dnc_lookup(engine: Engine, bu: BusinessUnit, number: str) -> tuple[str, list[DncHit]]:
    """The number in E.164 (given in any spelling) and the tenant's DNC entries for it."""
    result = phone.normalize(number, bu.default_region)
    if result.e164 is None:
        raise InvalidRequest(f"'{number}' is not a phone number: {result.detail}", "number")
    with engine.connect() as conn:
        found = dnc.entries_for(conn, bu.tenant_id, result.e164)
    return result.e164, [DncHit(lst.name, lst.is_default, entry) for lst, entry in found]


def dnc_export(engine: Engine, bu: BusinessUnit,
               group: str | None = None) -> Iterator[dnc.DncEntry]:
    with engine.connect() as conn:
        target = dnc.find_list(conn, bu.tenant_id, group)
        yield from dnc.entries(conn, target.id)


# --- skills and campaigns ------------------------------------------------------------------

# A skill's name as contact centers know it (CXone's rule): it is typed in URLs, reports and
# the dialer's configuration, so nothing that needs escaping.
SKILL_NAME = re.compile(r"[A-Za-z0-9_.:-]{2,30}")


def check_skill_name(name: str) -> None:
    """Refuse a skill name that is not 2-30 letters, digits, '-', '_', '.' or ':' (stricter
    than the rule for every name, whose reason comes first when it applies)."""
    rule = "a skill name has 2 to 30 characters: letters, digits, - _ . :"
    try:
        names.check_name("skill", name)
    except names.InvalidName as exc:  # the precise reason first, then the skill rule
        raise InvalidRequest(f"{exc}; {rule}", "name") from exc
    if not SKILL_NAME.fullmatch(name):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise InvalidRequest(f"{rule} (got '{shown}')", "name")


def create_skill(engine: Engine, bu: BusinessUnit, clock: Clock, *, name: str,
                 registration: str, calling_list: str, template_name: str | None = None,
                 message_text: str | None = None, direction: str = "auto",
                 max_segments: int = 3, pacing_per_s: float | None = None,
                 validity_hours: float | None = None,
                 campaign: str | None = None, calling_window: dict | None = None,
                 no_zone_policy: str = "skip",
                 default_time_zone: str | None = None,
                 kind: str = "agentless_sms", reply_pacing: bool = True,
                 reply_rate_prior: float | None = None,
                 budget: str | None = None) -> skills.Skill:
    """A new skill (draft). `reply_pacing`: its texts go no faster than its agents can answer
    the replies (for skills whose texts invite replies; domain/reply_pacing.py), assuming
    `reply_rate_prior` replies per text until it shows its own. `budget`: the most its texts
    may cost, as decimal text in its code's currency (services.spend)."""
    _check_new_skill(name, kind, template_name, message_text, calling_window=calling_window,
                     no_zone_policy=no_zone_policy, default_time_zone=default_time_zone,
                     validity_hours=validity_hours, max_segments=max_segments,
                     pacing_per_s=pacing_per_s, direction=direction,
                     reply_pacing=reply_pacing, reply_rate_prior=reply_rate_prior)
    budget_micros = None if budget is None else budget_amount(budget)
    with engine.begin() as conn:
        reg, lst, template_id = _skill_refs(conn, bu, registration, calling_list, template_name)
        campaign_id = skills.find_campaign(conn, bu.id, campaign).id if campaign else None
        return skills.create_skill(
            conn, business_unit_id=bu.id, name=name, registration_id=reg.id,
            calling_list_id=lst.id, template_id=template_id, message_text=message_text,
            direction=direction, max_segments=max_segments, pacing_per_s=pacing_per_s,
            validity_hours=validity_hours, campaign_id=campaign_id, now=clock.now(),
            calling_window=calling_window, no_zone_policy=no_zone_policy,
            default_time_zone=default_time_zone, kind=kind, reply_pacing=reply_pacing,
            reply_rate_prior=reply_rate_prior, budget_micros=budget_micros)


def budget_amount(value) -> int:
    """A skill's budget as micros (InvalidRequest about `budget` when it is not an amount)."""
    from proactive_sms.domain.money import AmountError, parse_amount

    try:
        return parse_amount(value, "budget")
    except AmountError as exc:
        raise InvalidRequest(str(exc), "budget") from exc


def _check_new_skill(name: str, kind: str, template_name: str | None,
                     message_text: str | None, **settings) -> None:
    """Every check of a new skill's name and settings (create_skill and plan_skill)."""
    check_skill_name(name)
    if kind not in ("agentless_sms", "agent"):
        raise InvalidRequest(f"a skill's kind is agentless_sms or agent, got '{kind}'", "kind")
    check_skill_settings(**settings)
    check_one_text(template_name, message_text)


def check_skill_settings(*, calling_window: dict | None, no_zone_policy: str,
                         default_time_zone: str | None, validity_hours: float | None,
                         max_segments: int, pacing_per_s: float | None,
                         direction: str = "auto", reply_pacing: bool = True,
                         reply_rate_prior: float | None = None) -> None:
    """A skill's settings, each refusal naming its field (`calling_window.weekday`, ...)."""
    from proactive_sms.domain.calling_windows import SkillWindow
    from proactive_sms.domain.time_zones import is_known_zone

    try:
        SkillWindow.from_config(calling_window)
    except ValueError as exc:
        raise InvalidRequest(str(exc), _window_field(str(exc))) from exc
    if no_zone_policy not in ("skip", "default"):
        raise InvalidRequest(f"no-zone policy must be skip or default, got '{no_zone_policy}'",
                             "no_zone_policy")
    if no_zone_policy == "default" and not default_time_zone:
        raise InvalidRequest("the 'default' no-zone policy needs a default time zone",
                             "default_time_zone")
    if default_time_zone and not is_known_zone(default_time_zone):
        raise InvalidRequest(f"unknown time zone '{default_time_zone}' (use an IANA name such "
                             "as America/Chicago)", "default_time_zone")
    # `not x > 0` rather than `x <= 0`: NaN is neither, and must be refused too.
    if validity_hours is not None and not 0 < validity_hours < math.inf:
        raise InvalidRequest(f"validity must be above 0 hours, got {validity_hours:g}",
                             "validity_hours")
    if not 1 <= max_segments <= 10:
        raise InvalidRequest(f"max segments must be 1..10, got {max_segments}", "max_segments")
    # `not a <= x <= b` refuses NaN too.
    if pacing_per_s is not None and not MIN_RATE_PER_S <= pacing_per_s <= MAX_PACING_PER_S:
        raise InvalidRequest(f"pacing must be {MIN_RATE_PER_S:g} to {MAX_PACING_PER_S:,g} per "
                             f"second, got {pacing_per_s:g}", "pacing_per_s")
    if direction not in ("ltr", "rtl", "auto"):
        raise InvalidRequest(f"direction must be ltr, rtl or auto, got '{direction}'",
                             "direction")
    if not isinstance(reply_pacing, bool):
        raise InvalidRequest(f"reply pacing is on or off (true or false), got "
                             f"'{reply_pacing}'", "reply_pacing")
    # A share of the texts: 0.05 is 5%. `not a < x <= b` refuses NaN too.
    if reply_rate_prior is not None and not 0 < reply_rate_prior <= 1:
        raise InvalidRequest(f"the prior reply rate is replies per text, above 0 and at most 1 "
                             f"(0.05 for 5%), got {reply_rate_prior:g}", "reply_rate_prior")


def _skill_refs(conn, bu: BusinessUnit, registration: str, calling_list: str,
                template_name: str | None):
    """(registration, calling list, template id or None) a new skill names, each found in the
    unit or NotFound (create_skill and plan_skill)."""
    reg = registrations.find_registration(conn, bu.id, code_key(registration, bu))
    lst = find_list(conn, bu.id, calling_list)
    template_id = (template_store.find_template(conn, bu.id, template_name).id
                   if template_name else None)
    return reg, lst, template_id


def check_one_text(template_name: str | None, message_text: str | None) -> None:
    """A skill sends a saved template or a typed text, never both (which would it send?)."""
    if template_name and message_text:
        raise InvalidRequest("give a saved template or a typed message, not both",
                             "message_text")


def _window_field(reason: str) -> str:
    """The calling-window setting a SkillWindow refusal is about."""
    for key in ("weekday", "weekend", "forbidden"):
        if key in reason:
            return "calling_window." + ("forbidden_days" if key == "forbidden" else key)
    return "calling_window"


def code_key(code: str, bu: BusinessUnit) -> str:
    """A transport code as stored: a short code's digits, else the number in E.164."""
    code = code.strip()
    if code.isdigit() and len(code) <= 6:
        return code
    result = phone.normalize(code, bu.default_region)
    return result.e164 or code


def find_skill(engine: Engine, bu: BusinessUnit, name: str) -> skills.Skill:
    with engine.connect() as conn:
        return skills.find_skill(conn, bu.id, name)


def plan_skill(engine: Engine, bu: BusinessUnit, clock: Clock, *, name: str,
               registration: str, calling_list: str, template_name: str | None = None,
               message_text: str | None = None, direction: str = "auto",
               max_segments: int = 3, pacing_per_s: float | None = None,
               validity_hours: float | None = None, calling_window: dict | None = None,
               no_zone_policy: str = "skip", default_time_zone: str | None = None,
               kind: str = "agentless_sms") -> skills.Skill:
    """The skill `create_skill` would create with these settings, checked the same way but
    not saved (its id is 0): what a dry run reads before a person decides to send."""
    _check_new_skill(name, kind, template_name, message_text, calling_window=calling_window,
                     no_zone_policy=no_zone_policy, default_time_zone=default_time_zone,
                     validity_hours=validity_hours, max_segments=max_segments,
                     pacing_per_s=pacing_per_s, direction=direction)
    with engine.connect() as conn:
        reg, lst, template_id = _skill_refs(conn, bu, registration, calling_list, template_name)
    return skills.Skill(
        id=0, business_unit_id=bu.id, name=name, kind=kind, registration_id=reg.id,
        calling_list_id=lst.id, campaign_id=None, template_id=template_id,
        message_text=message_text, direction=direction, status=skills.SkillStatus.DRAFT,
        max_segments=max_segments, pacing_per_s=pacing_per_s, validity_hours=validity_hours,
        launch_cursor=0, created_at=clock.now(), started_at=None, finished_at=None,
        calling_window=calling_window, no_zone_policy=no_zone_policy,
        default_time_zone=default_time_zone)


def create_campaign(engine: Engine, bu: BusinessUnit, clock: Clock, name: str) -> skills.Campaign:
    checked_name("campaign", name)
    with engine.begin() as conn:
        return skills.create_campaign(conn, bu.id, name, clock.now())


def add_skill_to_campaign(engine: Engine, bu: BusinessUnit, campaign: str, skill: str) -> None:
    with engine.begin() as conn:
        target = skills.find_campaign(conn, bu.id, campaign)
        skills.assign_campaign(conn, skills.find_skill(conn, bu.id, skill).id, target.id)


def set_keyword_responses(engine: Engine, bu: BusinessUnit, code: str,
                          updates: dict) -> registrations.Registration:
    """Change what a code answers to STOP/START/HELP, its sender name, contact and extra
    keywords (toll-free codes refuse answer texts: the carrier sends those)."""
    from proactive_sms.domain import keyword_responses
    from proactive_sms.domain.keywords import KeywordSet

    with engine.begin() as conn:
        reg = registrations.find_registration(conn, bu.id, code_key(code, bu))
        try:
            keyword_responses.validate_update(reg.kind, updates)
            if "extra_keywords" in updates:
                KeywordSet.from_dict(updates["extra_keywords"] or {})
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
        merged = {**reg.keyword_responses, **{k: v for k, v in updates.items() if v is not None}}
        registrations.set_keyword_responses(conn, reg.id, merged)
        return registrations.registration_by_id(conn, reg.id)


def keyword_set(engine: Engine, bu: BusinessUnit, code: str):
    """The extra keywords a code adds to the standard ones (for classification previews)."""
    from proactive_sms.domain.keywords import KeywordSet

    with engine.connect() as conn:
        reg = registrations.find_registration(conn, bu.id, code_key(code, bu))
    return KeywordSet.from_dict(reg.keyword_responses.get("extra_keywords") or {})
