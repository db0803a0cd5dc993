"""The console's test rig: real processes and a real browser.

- `console` (module scope): a fresh SQLite file with tenant `acme` and two business units,
  `sales` (the one pages work in: carrier connection `sim` to the bundled SMSC simulator,
  transport code 55501, short, 100/s, sms_messaging) and `support` (another unit, for isolation
  tests), the simulator (`psms smsc-sim`) and `psms serve` running as processes on free ports.
  `console.url`, `console.engine` (the same database), `console.sim` (the simulator's control:
  `submits()`, `inject(...)`), `console.make_user(username, role, agent=None, bu="sales")`
  -> the password, `console.psms(*args)` runs the CLI on that database, `console.serve(**env)`
  starts one more `psms serve` (other settings) and gives its URL.
- `browser` (module scope): Playwright's Chromium at /usr/bin/chromium, headless. Without it
  the console's tests are skipped, except under CI=true, where a missing browser fails.
- `login(browser, console, role="supervisor")` -> a Page of a fresh browser context, signed in
  as a new user of that role (or `username=`/`password=` of an existing one; `agent=` names the
  agent of an agent user).
- `shoot(page, "name")` writes docs/console/name.png (1280x800).

The simulator is nobody's phone: the law's calling hours are lifted with PSMS_WINDOW_RULES (as
the demo does), so texts go at any hour of the run.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import Engine

from proactive_sms.carriers.smsc_sim.control import SimulatorControl
from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, agents, console_users
from proactive_sms.store.engine import open_engine

PSMS = [sys.executable, "-m", "proactive_sms.interfaces.cli"]
CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
SHOTS = REPO / "docs" / "console"
ALL_DAY_RULES = REPO / "tests" / "services" / "all_day_rules.json"
VIEWPORT = {"width": 1280, "height": 800}
BU = "sales"
OTHER_BU = "support"
CODE = "55501"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout_s: float, what: str,
               interval_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval_s)
    raise AssertionError(f"timed out waiting for {what}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Console:
    url: str
    engine: Engine
    sim: SimulatorControl
    folder: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def psms(self, *args: str, input: str | None = None) -> str:
        """Run the CLI on the console's database; its stdout."""
        done = subprocess.run([*PSMS, *args], env=self.env, capture_output=True, text=True,
                              timeout=120, input=input)
        assert done.returncode == 0, f"psms {' '.join(args)}: {done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str, env: dict[str, str] | None = None
              ) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        process = subprocess.Popen([*PSMS, *args], env=env or self.env, stdout=log,
                                   stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()

    def serve(self, name: str = "serve", **extra_env: str) -> str:
        """Start `psms serve` (no dispatcher if another runs) with extra environment; its URL."""
        port = free_port()
        options = ["--no-dispatch"] if self.processes_named("serve") else []
        process = self.start(name, "serve", "--port", str(port), *options,
                             env={**self.env, **extra_env})
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert process.poll() is None, self.log(name)
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, 60, f"{name} to answer /healthz")
        return base

    def processes_named(self, name: str) -> bool:
        return any(name in " ".join(map(str, p.args)) for p in self.processes)

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self._names)}"

    def bu(self, name: str = BU):
        """A business unit of the console's database, as the services take it."""
        return administration.business_unit(self.engine, name)

    def make_user(self, username: str, role: str, agent: str | None = None,
                  bu: str = BU) -> str:
        """A console user (an agent user's agent is created when missing); the password."""
        unit = administration.business_unit(self.engine, bu)
        clock = SystemClock()
        if agent is not None:
            try:
                agents.get_agent(self.engine, unit, agent)
            except LookupError:
                agents.create_agent(self.engine, unit, clock, agent)
        password = console_users.generate_password()
        console_users.create(self.engine, unit, clock, username, role, password, agent)
        return password

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def console(tmp_path_factory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    env = {**os.environ, "PSMS_DATABASE_URL": f"sqlite:///{folder / 'psms.db'}",
           "PSMS_WINDOW_RULES": str(ALL_DAY_RULES), "PSMS_BU": BU}
    for name in ("PSMS_METRICS_TOKEN", "PSMS_CONSOLE_IDLE_MINUTES", "PSMS_CONSOLE_ABSOLUTE_HOURS",
                 "PSMS_ADMIN_PASSWORD"):
        env.pop(name, None)
    smpp_port, control_port = free_port(), free_port()
    engine = open_engine(env["PSMS_DATABASE_URL"])
    rig = Console("", engine, SimulatorControl(f"http://127.0.0.1:{control_port}"), folder, env)
    try:
        rig.start("smsc-sim", "smsc-sim", "--port", str(smpp_port), "--control-port",
                  str(control_port), "--receipt-delay", "0.05")
        wait_until(lambda: _port_open(smpp_port) and _port_open(control_port), 30,
                   "the simulator")
        clock = SystemClock()
        sales = administration.init(engine, clock, "acme", BU, "US")
        administration.init(engine, clock, "acme", OTHER_BU, "US")
        administration.add_connection(engine, sales, clock, "sim", "127.0.0.1", smpp_port,
                                      "psms", "secret")
        administration.add_registration(engine, sales, clock, code=CODE, kind="short",
                                        throughput_per_s=100, connection="sim", dnc_group=None,
                                        solution="sms_messaging")
        rig.url = rig.serve("serve")
        yield rig
    finally:
        rig.stop()
        engine.dispose()


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: CI must install it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing: the console's browser tests need Debian's Chromium "
                "(apt-get install chromium); CI installs it")


# Module scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and the async tests that run after this folder (tests/services) would
# fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser():
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox"])
        yield chromium
        chromium.close()


def new_page(browser):
    """A page of a fresh browser context (its own cookies), at the screenshots' size."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(20_000)
    return context.new_page()


def sign_in(page, console: Console, username: str, password: str) -> None:
    page.goto(f"{console.url}/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.fixture
def login() -> Iterator[Callable]:
    """login(browser, console, role="supervisor", *, username=None, password=None, agent=None,
    bu="sales") -> a signed-in Page; its context closes when the test ends."""
    contexts = []

    def sign_in_as(browser, console: Console, role: str = "supervisor", *,
                   username: str | None = None, password: str | None = None,
                   agent: str | None = None, bu: str = BU):
        if username is None:
            username = console.unique(f"{role}-")
            if role == "agent" and agent is None:
                agent = username
            password = console.make_user(username, role, agent=agent, bu=bu)
        page = new_page(browser)
        contexts.append(page.context)
        sign_in(page, console, username, password)
        assert "/login" not in page.url, f"{username} could not sign in"
        page.username, page.password = username, password  # for the test's own use
        return page

    yield sign_in_as
    for context in contexts:
        context.close()


SHOT_TRIES = 3


def take_shot(page, name: str) -> Path:
    """Writes docs/console/name.png. Chromium under a loaded machine sometimes answers
    "Unable to capture screenshot"; the picture only refreshes the docs, so after a few tries
    that is a warning, not a failure of the behaviour the test checks."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.set_viewport_size(VIEWPORT)
    for attempt in range(1, SHOT_TRIES + 1):
        try:
            page.screenshot(path=str(path))
            return path
        except PlaywrightError as failure:
            if attempt == SHOT_TRIES:
                warnings.warn(f"screenshot {name} not refreshed: {failure.message}", stacklevel=2)
                return path
            time.sleep(0.5 * attempt)
    return path


@pytest.fixture
def shoot() -> Callable:
    """shoot(page, "name") writes docs/console/name.png."""
    return take_shot
