"""The process layout of `psms serve`: API workers and the dispatcher, each a process of its own,
watched by the serve process.

Why processes: an API request and the dispatcher's pacing both want an interpreter's attention,
and one interpreter gives it to one at a time (with 50 API clients in one process the reads'
p99 reached 4 s and dispatch fell from 50 to 33 texts/s). So:

- serve opens the listening socket once and forks `workers` API worker processes
  (interfaces/cli/api_worker.py) that accept on it;
- unless --no-dispatch, it starts `psms dispatch` (with --worker-id passed on) as a child: the
  same dispatcher, with its webhook sender, as when run alone;
- with --no-dispatch, the serve process sends the webhook deliveries itself (the API's events
  need a sender): one sender per serve either way, and several are safe.

What a caller may rely on:
- Ctrl-C or SIGTERM stops every child gracefully: the API workers finish open requests, the
  dispatcher finishes its in-flight texts and hands back its leases (as `psms dispatch` does on
  SIGTERM); serve waits for them all and exits 0.
- A child that ends on its own (the dispatcher's bind to the database failed, a worker crashed)
  stops the others and serve, with a message naming which one and its exit status, and a
  non-zero exit code: an API that accepts starts nobody sends would be worse than no API.
- Children die with serve (Linux: PR_SET_PDEATHSIG) even when serve is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import proactive_sms
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.api_worker import die_with_parent, serve_on
from proactive_sms.interfaces.cli.ports import busy_message, in_use
from proactive_sms.services.webhook_sender import WebhookSender

POLL_S = 0.2  # how soon a child's death is noticed
API_STOP_S = 15.0  # API workers that have not stopped by then (stuck requests) are killed
_PACKAGE_ROOT = str(Path(proactive_sms.__file__).resolve().parents[1])


@dataclass
class Child:
    name: str  # "dispatcher", "API worker 1"
    process: subprocess.Popen | _Forked

    @property
    def exit_text(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"


@dataclass(frozen=True)
class Layout:
    host: str
    port: int
    workers: int
    dispatch: bool
    worker_id: str | None
    metrics_token: str | None
    verbose: bool


def default_workers() -> int:
    """API workers when --workers is not given: one per core this process may use, at least
    two (one busy request must not hold the others up), at most eight (each worker holds its
    own database connections and a copy of what it writes to)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(2, min(8, cores))


def run(layout: Layout) -> int:
    """Serve until Ctrl-C/SIGTERM or a child's death; the exit code for the command."""
    engine = ctx.engine()  # migrations run here, once, before any child opens the store
    engine.dispose()  # no connection crosses the forks below
    listener = _listen(layout.host, layout.port)
    # Forked before anything starts a thread here (a fork copies only the forking thread).
    children = [_fork_worker(n, listener, layout) for n in range(1, layout.workers + 1)]
    listener.close()  # the workers hold it now
    if layout.dispatch:
        children.insert(0, _start_dispatcher(layout))
    return asyncio.run(_supervise(layout, engine, children))


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        why = (busy_message(host, {"API": port}, "another `psms serve`? Stop it, or choose "
                                                 "another with --port")
               if in_use(host, port) else f"cannot listen on {host}:{port}: {exc.strerror}")
        raise ctx.fail(why) from None
    listener.listen(2048)
    return listener


def _child_env(layout: Layout) -> dict[str, str]:
    env = dict(os.environ)
    # The children import this very package, wherever it was found (a --src tree, a checkout).
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
    if layout.metrics_token:  # by environment, not argument: arguments are public in ps
        env["PSMS_METRICS_TOKEN"] = layout.metrics_token
    return env


def _start_dispatcher(layout: Layout) -> Child:
    env = _child_env(layout)
    worker_id = ["--worker-id", layout.worker_id] if layout.worker_id else []
    verbose = ["--verbose"] if layout.verbose else []
    return Child("dispatcher", subprocess.Popen(
        [sys.executable, "-m", "proactive_sms.interfaces.cli", "dispatch", *worker_id,
         *verbose], env=env, preexec_fn=die_with_parent))


def _fork_worker(number: int, listener: socket.socket, layout: Layout) -> Child:
    """An API worker forked from this process: it starts at once with everything imported
    (a fresh interpreter takes seconds to import the app, several on a busy machine). It
    inherits no database connection (the engine was disposed before) and opens its own."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return Child(f"API worker {number}", _Forked(pid))
    code = 1
    try:
        die_with_parent()
        if os.getppid() == parent:  # else serve died before the line above took effect
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            serve_on(listener, layout.metrics_token, migrated=True)
            code = 0
    except BaseException:  # noqa: BLE001 - reported, then this process ends whatever it was
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # Not sys.exit: the atexit handlers and finalizers here are serve's, not ours.
        os._exit(code)


class _Forked:
    """A forked child, with the few parts of Popen that Child uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


async def _supervise(layout: Layout, engine, children: list[Child]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    parts = [f"{layout.workers} API worker(s)"] + (["a dispatcher"] if layout.dispatch else [])
    ctx.console.print(f"serving on http://{layout.host}:{layout.port} with "
                      f"{' and '.join(parts)} (Ctrl-C to stop)")
    hooks_stop = asyncio.Event()
    hooks = None
    if not layout.dispatch:  # `psms dispatch` sends them when it runs as our child
        hooks = asyncio.create_task(WebhookSender(engine, ctx.clock).run(hooks_stop),
                                    name="webhooks")
    failed: Child | None = None
    try:
        while not stop.is_set() and failed is None:
            failed = next((c for c in children if c.process.poll() is not None), None)
            if failed is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_S)
        if failed is not None:
            ctx.errors.print(f"[red]error:[/red] the {failed.name} stopped "
                             f"({failed.exit_text}); stopping serve", highlight=False)
        await _stop_all(children)
    finally:
        hooks_stop.set()
        if hooks is not None:
            await hooks
    ctx.console.print("stopped")
    return 1 if failed is not None else 0


async def _stop_all(children: list[Child]) -> None:
    """SIGTERM to every child still running; wait for them (API workers up to API_STOP_S,
    then killed; the dispatcher as long as its in-flight texts take, as `psms dispatch`)."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = asyncio.get_running_loop().time() + API_STOP_S
    while any(c.process.poll() is None for c in children):
        if asyncio.get_running_loop().time() > deadline:
            for child in children:
                if child.name != "dispatcher" and child.process.poll() is None:
                    child.process.kill()
        await asyncio.sleep(POLL_S)
