"""`psms serve` as processes: API workers and a dispatcher under one serve, stopped together;
the dispatcher's death stops serve; and what one API worker makes is seen through another
(idempotency keys, console sessions, sign-in throttling live in the store)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from proactive_sms.domain.clock import SystemClock
from proactive_sms.interfaces.cli.api_worker import WORKER_MAIN
from proactive_sms.services import administration, api_keys, console_users
from proactive_sms.store.engine import open_engine
from tests.processes import PSMS, free_port, healthy, wait_until

# tests/interfaces/test_uploads_across_servers.py (on main) takes these from here by their
# old names; they are tests/processes.py's.


def _children(pid: int) -> dict[int, str]:
    """The live child processes of `pid`: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if ppid == pid:
            found[int(entry.name)] = command
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def database(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'psms.db'}"
    engine = open_engine(url)
    administration.init(engine, SystemClock(), "acme", "sales", "US")
    engine.dispose()
    yield url


@pytest.fixture
def started(tmp_path, database) -> Iterator[Callable[..., subprocess.Popen]]:
    processes: list[subprocess.Popen] = []

    def start(*args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen:
        log = (tmp_path / f"process-{len(processes)}.log").open("w")
        process = subprocess.Popen([*args], env={**os.environ, "PSMS_DATABASE_URL": database},
                                   stdout=log, stderr=subprocess.STDOUT, pass_fds=pass_fds)
        process.log = tmp_path / f"process-{len(processes)}.log"  # type: ignore[attr-defined]
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _serve(started, *options: str) -> tuple[subprocess.Popen, str, dict[int, str]]:
    port = free_port()
    serve = started(*PSMS, "serve", "--port", str(port), *options)
    url = f"http://127.0.0.1:{port}"

    def ready():
        assert serve.poll() is None, serve.log.read_text()
        children = _children(serve.pid)
        dispatching = "--no-dispatch" not in options
        if len(children) == 2 + dispatching and healthy(url):
            return children
        return None

    return serve, url, wait_until(ready, 60, "serve's workers and dispatcher")


def test_serve_runs_api_workers_and_a_dispatcher_as_processes_and_sigterm_stops_them_all(
        started):
    serve, url, children = _serve(started, "--workers", "2")
    dispatchers = [pid for pid, cmd in children.items() if " dispatch" in cmd]
    workers = [pid for pid in children if pid not in dispatchers]  # forked: serve's command
    assert len(dispatchers) == 1 and len(workers) == 2, children
    wait_until(lambda: "running (Ctrl-C to stop)" in serve.log.read_text(), 60,
          "the dispatcher to run")
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=60) == 0, serve.log.read_text()
    assert not any(_alive(pid) for pid in children)
    log = serve.log.read_text()
    assert "dispatcher stopped" in log  # its graceful end: in-flight texts done, leases freed
    assert log.rstrip().endswith("stopped")


def test_serve_no_dispatch_runs_only_api_workers(started):
    serve, url, children = _serve(started, "--workers", "2", "--no-dispatch")
    assert not any(" dispatch" in cmd for cmd in children.values()), children
    serve.send_signal(signal.SIGINT)  # Ctrl-C
    assert serve.wait(timeout=60) == 0, serve.log.read_text()
    assert not any(_alive(pid) for pid in children)


def test_the_dispatchers_death_stops_serve_with_a_clear_message(started):
    serve, url, children = _serve(started, "--workers", "2")
    dispatcher = next(pid for pid, cmd in children.items() if " dispatch" in cmd)
    os.kill(dispatcher, signal.SIGKILL)
    assert serve.wait(timeout=60) != 0
    assert not any(_alive(pid) for pid in children)  # the API does not go on without it
    assert re.search(r"the dispatcher stopped \(killed by SIGKILL\); stopping serve",
                     serve.log.read_text())
    assert not healthy(url)


# --- state made through one worker, seen through another --------------------------------------


@pytest.fixture
def two_workers(started) -> tuple[str, str]:
    """Two API worker processes over the one database, each on a socket of its own (so the test
    chooses which one answers; under serve they share one)."""
    urls = []
    for _ in range(2):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        started(sys.executable, "-c", WORKER_MAIN, "--fd", str(listener.fileno()),
                pass_fds=(listener.fileno(),))
        urls.append(f"http://127.0.0.1:{listener.getsockname()[1]}")
        listener.close()
    for url in urls:
        wait_until(lambda url=url: healthy(url), 60, f"the worker at {url}")
    return urls[0], urls[1]


def test_an_idempotency_key_used_through_one_worker_replays_through_another(
        two_workers, database):
    engine = open_engine(database)
    bu = administration.business_unit(engine, "sales")
    secret = api_keys.create(engine, bu, SystemClock(), "test").secret
    engine.dispose()
    first, second = two_workers
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "campaign-1"}
    made = httpx.post(f"{first}/v1/campaigns", json={"name": "spring"}, headers=headers)
    assert made.status_code == 201, made.text
    again = httpx.post(f"{second}/v1/campaigns", json={"name": "spring"}, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotency-Replayed") == "true"
    assert again.json() == made.json()
    other = httpx.post(f"{second}/v1/campaigns", json={"name": "autumn"}, headers=headers)
    assert other.status_code == 409  # the key is known there too, for another request


def _sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    client.get("/login")  # the pre-sign-in CSRF cookie
    token = client.cookies["psms_csrf"]
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def test_a_console_session_and_sign_in_throttling_are_shared_by_the_workers(
        two_workers, database):
    engine = open_engine(database)
    bu = administration.business_unit(engine, "sales")
    password = console_users.generate_password()
    console_users.create(engine, bu, SystemClock(), "sam", "supervisor", password)
    engine.dispose()
    first, second = two_workers
    with httpx.Client(base_url=first) as at_first:
        signed_in = _sign_in(at_first, "sam", password)
        assert signed_in.status_code in (302, 303), signed_in.text
        session = at_first.cookies["psms_session"]
    with httpx.Client(base_url=second, cookies={"psms_session": session}) as at_second:
        page = at_second.get("/")
        assert page.status_code == 200 and "sam" in page.text  # signed in there too
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        # The CSRF token of the session, made by the second worker, is the first one's too.
    with httpx.Client(base_url=first, cookies={"psms_session": session}) as at_first:
        ended = at_first.post("/logout", data={"csrf_token": token})
        assert ended.status_code in (302, 303), ended.text
    with httpx.Client(base_url=second, cookies={"psms_session": session}) as at_second:
        assert at_second.get("/").status_code in (302, 303)  # the logout counts there too

    # Five wrong passwords, alternating workers, lock the account on both: the fifth is
    # answered as the lock (429) by the worker that saw only two of the failures before it.
    answers = []
    for attempt in range(5):
        with httpx.Client(base_url=(first, second)[attempt % 2]) as client:
            answers.append(_sign_in(client, "sam", "wrong password!").status_code)
    assert answers == [401, 401, 401, 401, 429]
    for url in (first, second):
        with httpx.Client(base_url=url) as client:
            assert _sign_in(client, "sam", password).status_code == 429
