"""The console's test rig: real processes and a real browser.

- `console` (module scope): a fresh SQLite file with tenant `acme` and two business units,
  `sales` (the one pages work in: carrier connection `sim` to the bundled SMSC simulator,
  transport code 55501, short, 100/s, sms_messaging) and `support` (another unit, for isolation
  tests), the simulator (`psms smsc-sim`) and `psms serve` running as processes on free ports.
  `console.url`, `console.engine` (the same database), `console.sim` (the simulator's control:
  `submits()`, `inject(...)`), `console.make_user(username, role, agent=None, bu="sales")`
  -> the password, `console.psms(*args)` runs the CLI on that database, `console.serve(**env)`
  starts one more `psms serve` (other settings) and gives its URL. Set-ups the tests share:
  `console.bu(name)`, `console.import_people(list, rows)`, `console.add_code(code, rate)`,
  `console.add_refusing_connection(name)` (to the simulator, which refuses its bind),
  `console.start_skill(name, list, text, **settings)`.
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
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import Engine

from proactive_sms.carriers.smsc_sim.control import SimulatorControl
from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, agents, console_users, importing, launching
from proactive_sms.store.engine import open_engine
from tests.factories import write_csv
from tests.processes import Processes, free_port, port_open, psms_env, wait_until

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
SHOTS = REPO / "docs" / "console"
VIEWPORT = {"width": 1280, "height": 800}
BU = "sales"
OTHER_BU = "support"
CODE = "55501"


@dataclass(eq=False, kw_only=True)
class Console(Processes):
    """The running console: its URL, database, simulator control and processes (a copy made
    with dataclasses.replace shares them, for another `psms serve` on the same rig)."""

    engine: Engine
    sim: SimulatorControl
    url: str = ""
    psms_timeout_s: float = 120
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def serve(self, name: str = "serve", **extra_env: str) -> str:
        """Start `psms serve` (no dispatcher if another runs) with extra environment; its URL."""
        options = ["--no-dispatch"] if self.processes_named("serve") else []
        return self.start_serve(name, *options, env={**self.env, **extra_env})[1]

    def processes_named(self, name: str) -> bool:
        return any(name in " ".join(map(str, p.args)) for p in self.running)

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self._names)}"

    def bu(self, name: str = BU):
        """A business unit of the console's database, as the services take it."""
        return administration.business_unit(self.engine, name)

    def import_people(self, name: str, people: Iterable[Sequence[str]], bu: str = BU) -> str:
        """Calling list `name` of `bu`, imported from `people` (rows of tests.factories.person);
        its name."""
        path = write_csv(self.folder / f"{bu}-{name}.csv", people)
        importing.import_calling_list(self.engine, self.bu(bu), name, path, SystemClock())
        return name

    def add_refusing_connection(self, name: str = "refusing", bu: str = BU) -> None:
        """A carrier connection to the simulator with a password it refuses: every bind fails."""
        unit = self.bu(bu)
        sim_port = administration.find_connection(self.engine, unit, "sim").port
        administration.add_connection(self.engine, unit, SystemClock(), name, "127.0.0.1",
                                      sim_port, "psms", "nope", 10)

    def add_code(self, code: str, throughput_per_s: float, connection: str | None = "sim",
                 bu: str = BU) -> None:
        """A short code of `bu` sending through `connection` (DNC: the tenant's default list)."""
        administration.add_registration(self.engine, self.bu(bu), SystemClock(), code=code,
                                        kind="short", throughput_per_s=throughput_per_s,
                                        connection=connection, dnc_group=None)

    def start_skill(self, name: str, calling_list: str, message_text: str | None = None,
                    registration: str = CODE, bu: str = BU, **settings):
        """A skill of `bu` created (with `settings`, e.g. calling_window or template_name) and
        started (on `message_text`, if it has no template); what create_skill gave."""
        clock = SystemClock()
        created = administration.create_skill(self.engine, self.bu(bu), clock, name=name,
                                              registration=registration,
                                              calling_list=calling_list, **settings)
        launching.start_skill(self.engine, created.id, clock, message_text=message_text)
        return created

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


@pytest.fixture(scope="module")
def console(tmp_path_factory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    env = psms_env(f"sqlite:///{folder / 'psms.db'}", PSMS_BU=BU)
    for name in ("PSMS_METRICS_TOKEN", "PSMS_CONSOLE_IDLE_MINUTES", "PSMS_CONSOLE_ABSOLUTE_HOURS",
                 "PSMS_ADMIN_PASSWORD"):
        env.pop(name, None)
    smpp_port, control_port = free_port(), free_port()
    engine = open_engine(env["PSMS_DATABASE_URL"])
    rig = Console(env, folder, engine=engine,
                  sim=SimulatorControl(f"http://127.0.0.1:{control_port}"))
    try:
        rig.start("smsc-sim", "smsc-sim", "--port", str(smpp_port), "--control-port",
                  str(control_port), "--receipt-delay", "0.05")
        wait_until(lambda: port_open(smpp_port) and port_open(control_port), 30,
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
        rig.stop_all()
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
