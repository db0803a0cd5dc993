"""Running a pure function over a stream of tasks in a second process, a task or two ahead.

Import and launch spend most of their time in per-row Python (parsing, checking, rendering) that
holds the GIL; SQLite writes hold it too. One worker process doing the per-row work of the next
batch while this process writes the previous one uses the second core.

`Offload(work)` starts one worker that applies `work` to the tasks given to `submit`, in
order; `result()` returns their results in the same order. It keeps the guarantees of doing the
work in this process:

- The answers are `work`'s own: a forked worker has the very objects of the caller; a fresh one
  gets `work` pickled (the same code, the same data).
- A failure in the worker (an exception, a worker killed by the OOM killer) is not reported from
  there: the task is run again here, and so raises here, with its usual traceback, or succeeds.
  After the worker is lost every later task runs here.
- The worker does not outlive this process: it reads tasks until the pipe from this process
  closes (no other process holds that pipe's writing end: a forked worker closes its copies of
  every worker's), and on Linux the kernel also kills it when the thread that started it ends
  (PR_SET_PDEATHSIG), so a SIGKILLed import or launch leaves nothing running. `close()` ends it.
- Memory stays bounded: the callers keep two tasks in flight at most (one being worked on, one
  waiting), and take a result before submitting more.

Two ways to start the worker (and only where the platform can fork; else everything runs here):

- "fork" (import): the worker starts in milliseconds with phonenumbers' metadata and the
  parser's caches already there, shared copy-on-write, where a fresh interpreter would take a
  second to import them again. An import starts in a small process (the CLI's, or a server's),
  so little is shared and little gets copied. The usual danger of fork in a process with threads
  (a lock another thread held at that instant stays locked in the child) is avoided by what the
  worker does: pure computation and pipe I/O, never logging or printing (failures go back through
  the pipe), never touching the parent's database connections, leaving with `os._exit` (no
  atexit handlers, no finalizers of inherited connections). `gc.freeze()` around the fork keeps
  the worker's garbage collector from writing to (and so copying) the parent's objects.
- "fresh" (launch): a new interpreter (`python -c`, with this process's sys.path and only its two
  pipe ends). A launch often runs in a process that is large by then (a server, or the import
  just before in the same process, as in bench/launch.py); every page such a process rewrites
  after a fork stays in the child as a private copy, which measured ~110 MB at 1M records, against
  ~60 MB for a fresh worker. Not multiprocessing's "spawn": that re-imports the caller's
  `__main__`, which reruns any script without an `if __name__ == "__main__"` guard. The start-up
  (about a second of imports) overlaps the first batch, which the launch decides itself.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.reduction import ForkingPickler
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

_STOP = object()
_parent_ends: set = set()  # this process's ends of its workers' pipes (see _serve)
_PR_SET_PDEATHSIG = 1


def available() -> bool:
    """Whether a worker can be forked here (Linux and other platforms with "fork")."""
    return "fork" in multiprocessing.get_all_start_methods()


class Offload(Generic[T, R]):
    """`work(task)` for each task, in a forked worker, results in order. A context manager."""

    def __init__(self, work: Callable[[T], R], name: str = "psms-offload",
                 start: str = "fork") -> None:
        self._work = work
        self._in_flight: deque[T] = deque()
        self._process: multiprocessing.process.BaseProcess | _Fresh | None = None
        context = multiprocessing.get_context("fork")
        task_reader, self._task_writer = context.Pipe(duplex=False)
        self._result_reader, result_writer = context.Pipe(duplex=False)
        _parent_ends.update((self._task_writer, self._result_reader))
        try:
            if start == "fresh":
                process: multiprocessing.process.BaseProcess | _Fresh = _Fresh(
                    task_reader, result_writer)
                self._task_writer.send(work)  # the worker's first message
            else:
                with frozen_heap():  # the worker's collector leaves what it inherits alone
                    process = context.Process(
                        target=_serve, name=name, daemon=True,
                        args=(work, task_reader, result_writer, os.getpid()))
                    process.start()
        except BaseException:
            self._close_ends()
            raise
        finally:
            task_reader.close()
            result_writer.close()
        self._process = process
        # Tasks go out from a thread: a worker still starting (a fresh one imports for a
        # second) must not hold up this process, which meanwhile does work of its own.
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, name=f"{name}-sender",
                                        daemon=True)
        self._sender.start()

    def _send_all(self) -> None:
        while (data := self._outbox.get()) is not _STOP:
            try:
                self._task_writer.send_bytes(data)
            except (OSError, ValueError):
                return  # the worker is gone: result() finds out and does the work here

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def alive(self) -> bool:
        return self._process is not None

    @property
    def pid(self) -> int | None:
        """The worker's process id (None once it is closed or lost)."""
        return self._process.pid if self._process is not None else None

    def submit(self, task: T) -> None:
        self._in_flight.append(task)
        if self._process is not None:
            self._outbox.put(ForkingPickler.dumps(task))

    def result(self) -> R:
        """The result of the oldest task not yet taken."""
        task = self._in_flight.popleft()
        if self._process is not None:
            try:
                ok, value = self._result_reader.recv()
            except (EOFError, OSError):
                self._lost("ended")
            else:
                if ok:
                    return value
                log.warning("offload worker failed (%s); running the task here", value)
        return self._work(task)  # here: the same answer, or the same exception

    def _lost(self, what: str) -> None:
        log.warning("offload worker %s; the remaining work runs in this process", what)
        self.close()

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        self._outbox.put(_STOP)
        self._result_reader.close()  # a result the worker sends now fails: it leaves
        self._sender.join(timeout=5)
        self._close_ends()  # the worker reads EOF and leaves
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()

    def _close_ends(self) -> None:
        for end in (self._task_writer, self._result_reader):
            _parent_ends.discard(end)
            if not end.closed:
                end.close()

    def __enter__(self) -> Offload[T, R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Inline(Generic[T, R]):
    """Offload's interface, with the work done in this process (small inputs, no fork)."""

    def __init__(self, work: Callable[[T], R]) -> None:
        self._work = work
        self._in_flight: deque[T] = deque()

    in_flight = Offload.in_flight
    alive = False

    def submit(self, task: T) -> None:
        self._in_flight.append(task)

    def result(self) -> R:
        return self._work(self._in_flight.popleft())

    def close(self) -> None:
        self._in_flight.clear()

    def __enter__(self) -> Inline[T, R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Leave the objects alive now out of garbage collections until the block ends (a launch;
    the dispatcher while it runs).

    A full collection walks every tracked object; a launch of a million records sets off ~50 of
    them (its batches allocate and keep tens of thousands of tuples), and with the libraries'
    objects (SQLAlchemy, phonenumbers' metadata) and the launch's set of destinations each took
    ~0.1 s: 5.7 s of a 23 s launch. gc.freeze() moves what exists now to a generation that is
    not collected; gc.unfreeze() puts it back. Nothing is done if someone froze objects already
    (a pre-fork server, say): unfreezing would undo theirs.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def runner(work: Callable[[T], R], workers: int,
           start: str = "fork") -> Offload[T, R] | Inline[T, R]:
    """A worker process for `work` when `workers` asks for one (and the platform can fork),
    else the same interface doing the work inline. `start`: "fork", or "fresh" for a worker
    that starts as a new interpreter (then `work` must pickle; see Offload).

    One worker at most: with two cores (the machine this is measured on) one worker and this
    process keep both busy; two workers measured slower (import of 200,000 rows: 3.1 s
    against 2.8 s with one). A pool would be the place to start on a machine with more.
    """
    if workers <= 0 or not available():
        return Inline(work)
    return Offload(work, start=start)


class _Fresh:
    """A worker started as a new interpreter (not a fork), with multiprocessing.Process's
    join/is_alive/kill. Only the two pipe ends it needs are passed to it; it finds the package
    on this process's sys.path; its first message is the work to do."""

    def __init__(self, task_reader, result_writer) -> None:
        fds = (task_reader.fileno(), result_writer.fileno())
        code = (f"import sys; sys.path[:] = {sys.path!r}; "
                f"from proactive_sms.services.offload import _fresh_main; "
                f"_fresh_main({fds[0]}, {fds[1]}, {os.getpid()})")
        self._popen = subprocess.Popen([sys.executable, "-c", code], pass_fds=fds,
                                       stdin=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self._popen.pid

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def kill(self) -> None:
        self._popen.kill()


def _fresh_main(task_fd: int, result_fd: int, parent_pid: int) -> None:
    from multiprocessing.connection import Connection

    task_reader = Connection(task_fd, writable=False)
    result_writer = Connection(result_fd, readable=False)
    try:
        work = task_reader.recv()
    except (EOFError, OSError):
        return
    _serve(work, task_reader, result_writer, parent_pid)


def _serve(work: Callable, task_reader, result_writer, parent_pid: int) -> None:
    """The worker: run tasks as they come, send back (True, result) or (False, reason)."""
    # The parent's ends of every worker's pipes, this one's and any other's: once they are
    # closed here, only the parent holds them, and EOF means the parent closed or is gone.
    for end in list(_parent_ends):
        end.close()
    _parent_ends.clear()
    _die_with_parent(parent_pid)
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def read() -> None:
        # Tasks are taken off the pipe as soon as they arrive, so the parent never blocks on
        # sending one while this process blocks on sending a result.
        while True:
            try:
                inbox.put(task_reader.recv())
            except (EOFError, OSError):
                inbox.put(_STOP)
                return

    threading.Thread(target=read, name="offload-reader", daemon=True).start()
    while (task := inbox.get()) is not _STOP:
        try:
            answer = (True, work(task))
        except Exception as exc:  # the parent runs the task again and gets the real error
            answer = (False, f"{type(exc).__name__}: {exc}")
        try:
            result_writer.send(answer)
        except (OSError, ValueError):
            return  # the parent is gone
        except Exception as exc:  # a result that does not pickle
            with contextlib.suppress(OSError, ValueError):
                result_writer.send((False, f"result not sent: {type(exc).__name__}: {exc}"))
    return


def _die_with_parent(parent_pid: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)
