"""Console users and their sessions on the real store (SQLite, and PostgreSQL in CI): creation
rules, Argon2 hashes, sign-in throttling, session expiry and the audit of it all."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from proactive_sms.services import administration, agents, audit, console_sessions, console_users
from proactive_sms.services.console_sessions import SessionPolicy
from proactive_sms.services.console_users import SignInRefused, UserRefused
from proactive_sms.store import console_users as user_store
from proactive_sms.store.schema import console_session

PASSWORD = "correct horse battery"
ADDRESS = "192.0.2.10"
POLICY = SessionPolicy()


def _user(engine, bu, clock, name="maria", role="supervisor", agent=None):
    console_users.create(engine, bu, clock, name, role, PASSWORD, agent)
    return console_users.authenticate(engine, clock, name, PASSWORD, ADDRESS)


def test_a_password_is_stored_as_an_argon2id_hash_and_checked(engine, bu, clock):
    console_users.create(engine, bu, clock, "Maria", "supervisor", PASSWORD)
    with engine.connect() as conn:
        stored = user_store.by_username(conn, "maria")  # usernames are kept in lower case
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    user = console_users.authenticate(engine, clock, " MARIA ", PASSWORD, ADDRESS)
    assert (user.username, user.role, user.bu_id, user.tenant_id) == (
        "maria", "supervisor", bu.id, bu.tenant_id)


@pytest.mark.parametrize(("username", "role", "password", "agent", "field", "reason"), [
    ("ok-name", "supervisor", "short", None, "password", "must be at least 12 characters"),
    ("ok-name", "boss", PASSWORD, None, "role", "must be one of admin, supervisor, agent"),
    ("bad name!", "supervisor", PASSWORD, None, "username", "must be 1-64 letters"),
    ("ok-name", "agent", PASSWORD, None, "agent", "an agent user must name their agent"),
    ("ok-name", "supervisor", PASSWORD, "ana", "agent", "only an agent user"),
    ("ok-name", "agent", PASSWORD, "ghost", "agent", "no agent 'ghost' in this business unit"),
])
def test_a_refused_user_names_the_field_and_the_reason(engine, bu, clock, username, role,
                                                       password, agent, field, reason):
    agents.create_agent(engine, bu, clock, "ana")
    with pytest.raises(UserRefused) as refused:
        console_users.create(engine, bu, clock, username, role, password, agent)
    assert refused.value.field == field and reason in refused.value.reason
    assert console_users.list_users(engine, bu) == []


def test_a_username_is_unique_across_units_and_an_agent_must_be_of_the_same_unit(engine, bu,
                                                                                clock):
    other = administration.init(engine, clock, "acme", "support", "US")
    agents.create_agent(engine, other, clock, "zoe")
    console_users.create(engine, bu, clock, "maria", "supervisor", PASSWORD)
    with pytest.raises(UserRefused, match="is taken"):
        console_users.create(engine, other, clock, "maria", "admin", PASSWORD)
    with pytest.raises(UserRefused, match="no agent 'zoe'"):
        console_users.create(engine, bu, clock, "zoe", "agent", PASSWORD, "zoe")
    with pytest.raises(LookupError):  # another unit's user is not found, like an unknown one
        console_users.get_user(engine, other, "maria")


def test_five_failures_lock_the_account_even_for_the_right_password_until_the_lock_ends(
        engine, bu, clock):
    console_users.create(engine, bu, clock, "maria", "supervisor", PASSWORD)
    for attempt in range(5):
        with pytest.raises(SignInRefused) as refused:
            console_users.authenticate(engine, clock, "maria", "wrong password", ADDRESS)
        assert refused.value.locked == (attempt == 4)
    with pytest.raises(SignInRefused, match="Try again in 1 minute") as refused:
        console_users.authenticate(engine, clock, "maria", PASSWORD, ADDRESS)
    assert refused.value.locked
    clock.advance(61)
    with pytest.raises(SignInRefused, match="Try again in 2 minutes"):  # one more: it grows
        console_users.authenticate(engine, clock, "maria", "wrong again", ADDRESS)
    clock.advance(121)
    assert console_users.authenticate(engine, clock, "maria", PASSWORD, ADDRESS).username \
        == "maria"
    with pytest.raises(SignInRefused) as refused:  # a success starts the count again
        console_users.authenticate(engine, clock, "maria", "wrong", ADDRESS)
    assert not refused.value.locked


def test_an_unknown_username_is_throttled_like_a_known_one(engine, bu, clock):
    messages = []
    for name in ("maria", "nobody"):
        if name == "maria":
            console_users.create(engine, bu, clock, name, "supervisor", PASSWORD)
        for _ in range(6):
            with pytest.raises(SignInRefused) as refused:
                console_users.authenticate(engine, clock, name, "wrong password", ADDRESS)
            messages.append(str(refused.value))
    assert messages[:6] == messages[6:]


def test_one_address_trying_many_usernames_is_locked_after_twenty_failures(engine, bu, clock):
    console_users.create(engine, bu, clock, "maria", "supervisor", PASSWORD)
    for number in range(20):
        if number == 10:  # the guesser signs in to an account of their own: no fresh start
            assert console_users.authenticate(engine, clock, "maria", PASSWORD, ADDRESS)
        with pytest.raises(SignInRefused):
            console_users.authenticate(engine, clock, f"guess{number}", "password", ADDRESS)
    with pytest.raises(SignInRefused, match="Too many"):
        console_users.authenticate(engine, clock, "maria", PASSWORD, ADDRESS)
    other_address = "198.51.100.7"
    assert console_users.authenticate(engine, clock, "maria", PASSWORD, other_address)


def test_a_session_expires_when_idle_and_at_its_absolute_age(engine, bu, clock):
    user = _user(engine, bu, clock)
    policy = SessionPolicy()
    idle = console_sessions.start(engine, clock, user, ADDRESS, policy)
    clock.advance(29 * 60)
    assert console_sessions.resume(engine, clock, idle.token, policy).user == user
    clock.advance(29 * 60)  # seen 29 minutes ago: still alive
    assert console_sessions.resume(engine, clock, idle.token, policy) is not None
    clock.advance(31 * 60)
    assert console_sessions.resume(engine, clock, idle.token, policy) is None
    busy = console_sessions.start(engine, clock, user, ADDRESS, policy)
    for _ in range(12 * 4 - 1):  # seen every 15 minutes for just under 12 hours
        clock.advance(15 * 60)
        assert console_sessions.resume(engine, clock, busy.token, policy) is not None
    clock.advance(15 * 60 + 1)
    assert console_sessions.resume(engine, clock, busy.token, policy) is None


def test_the_token_is_stored_only_as_its_hash_and_rotates_at_sign_in(engine, bu, clock):
    user = _user(engine, bu, clock)
    first = console_sessions.start(engine, clock, user, ADDRESS, POLICY)
    with engine.connect() as conn:
        stored = conn.execute(select(console_session.c.token_hash)).scalars().all()
    assert stored == [hashlib.sha256(first.token.encode()).hexdigest()]
    assert console_sessions.resume(engine, clock, first.token, POLICY) is not None
    second = console_sessions.start(engine, clock, user, ADDRESS, POLICY,
                                    previous_token=first.token)
    assert second.token != first.token
    assert len(console_sessions.sessions_of(engine, user)) == 1
    assert console_sessions.resume(engine, clock, first.token, POLICY) is None
    assert console_sessions.resume(engine, clock, "made-up", POLICY) is None


def test_disabling_resetting_and_logging_out_everywhere_end_the_users_sessions(engine, bu,
                                                                             clock):
    user = _user(engine, bu, clock)
    tokens = [console_sessions.start(engine, clock, user, ADDRESS, POLICY).token
              for _ in range(2)]
    assert console_sessions.end_all(engine, clock, user) == 2
    assert all(console_sessions.resume(engine, clock, t, POLICY) is None for t in tokens)

    token = console_sessions.start(engine, clock, user, ADDRESS, POLICY).token
    console_users.reset_password(engine, bu, clock, "maria", "another long password")
    assert console_sessions.resume(engine, clock, token, POLICY) is None

    token = console_sessions.start(engine, clock, user, ADDRESS, POLICY).token
    console_users.set_disabled(engine, bu, clock, "maria", True)
    assert console_sessions.resume(engine, clock, token, POLICY) is None
    with pytest.raises(SignInRefused, match="Wrong username or password"):
        console_users.authenticate(engine, clock, "maria", "another long password", ADDRESS)
    console_users.set_disabled(engine, bu, clock, "maria", False)
    assert console_users.authenticate(engine, clock, "maria", "another long password", ADDRESS)


def test_sign_ins_and_user_changes_are_audited_in_the_users_unit(engine, bu, clock):
    admin = _user(engine, bu, clock, "boss", "admin")
    console_users.create(engine, bu, clock, "maria", "supervisor", PASSWORD, by=admin)
    with pytest.raises(SignInRefused):
        console_users.authenticate(engine, clock, "maria", "wrong", ADDRESS)
    user = console_users.authenticate(engine, clock, "maria", PASSWORD, ADDRESS)
    session = console_sessions.start(engine, clock, user, ADDRESS, POLICY)
    console_sessions.end(engine, clock, session.token, user, ADDRESS)
    console_users.set_disabled(engine, bu, clock, "maria", True, by=admin)
    log = audit.entries(engine, bu)
    assert [(e.username, e.action, e.target) for e in reversed(log.entries)] == [
        ("(cli)", "user.created", "boss"),
        ("boss", "user.created", "maria"),
        ("maria", "login.failed", "maria"),
        ("maria", "login", "maria"),
        ("maria", "logout", "maria"),
        ("boss", "user.disabled", "maria"),
    ]
    assert audit.entries(engine, bu, action="user").total == 3
    assert audit.entries(engine, bu, username="maria").total == 3
    other = administration.init(engine, clock, "acme", "support", "US")
    assert audit.entries(engine, other).total == 0


def test_changing_ones_own_password_needs_the_current_one_and_ends_the_other_sessions(
        engine, bu, clock):
    user = _user(engine, bu, clock)
    here = console_sessions.start(engine, clock, user, ADDRESS, POLICY)
    elsewhere = console_sessions.start(engine, clock, user, ADDRESS, POLICY)
    with pytest.raises(UserRefused) as refused:
        console_users.change_own_password(engine, clock, user, "not it", "a new long password",
                                          ADDRESS)
    assert (refused.value.field, refused.value.reason) == ("current_password",
                                                           "is not your password")
    with pytest.raises(UserRefused) as refused:
        console_users.change_own_password(engine, clock, user, PASSWORD, "short", ADDRESS)
    assert refused.value.field == "new_password"
    ended = console_users.change_own_password(
        engine, clock, user, PASSWORD, "a new long password", ADDRESS,
        keep_token_hash=console_sessions.token_hash(here.token))
    assert ended == 1
    assert console_sessions.resume(engine, clock, here.token, POLICY) is not None
    assert console_sessions.resume(engine, clock, elsewhere.token, POLICY) is None
    assert console_users.authenticate(engine, clock, "maria", "a new long password", ADDRESS)
    assert audit.entries(engine, bu, action="user.password_changed").total == 1


def test_a_streams_look_at_its_session_is_no_activity_and_sees_it_end(engine, bu, clock):
    user = _user(engine, bu, clock)
    session = console_sessions.start(engine, clock, user, ADDRESS, POLICY)
    assert console_sessions.still_live(engine, clock, session.token, POLICY)
    for _ in range(3):  # looked at every 10 minutes for 30: that is not activity
        clock.advance(10 * 60)
        assert console_sessions.still_live(engine, clock, session.token, POLICY)
    clock.advance(60)
    assert not console_sessions.still_live(engine, clock, session.token, POLICY)
    other = console_sessions.start(engine, clock, user, ADDRESS, POLICY)
    console_users.set_disabled(engine, bu, clock, "maria", True)
    assert not console_sessions.still_live(engine, clock, other.token, POLICY)
    assert not console_sessions.still_live(engine, clock, None, POLICY)
