"""The figures `/metrics` publishes, read from the store at the moment of the scrape.

Read from the store rather than counted in the process: the API may run without a dispatcher
(`psms serve --no-dispatch`) or beside several workers on other machines, and only the store
sees every text whoever sent it. A scrape of any one API process gives the whole picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import code_pace, route_status, unmatched_receipts
from proactive_sms.store import metrics as queries
from proactive_sms.store.code_pace import CodePace

RATE_WINDOW = timedelta(seconds=60)
LATENCY_SAMPLE = 1000  # receipts per code in the latency histogram


@dataclass
class CodeFigures:
    code: str
    texts_by_state: dict[str, int] = field(default_factory=dict)
    send_rate_per_s: float = 0.0  # texts submitted in the last RATE_WINDOW, per second
    receipt_latencies_s: list[float] = field(default_factory=list)
    pace: CodePace | None = None  # None until a worker has dispatched the code

    @property
    def queue_depth(self) -> int:
        """Texts waiting to be sent (including those held until their window opens)."""
        return self.texts_by_state[MessageState.PENDING.value]


def snapshot(engine: Engine, now: datetime) -> list[CodeFigures]:
    """Figures for every transport code, in code order; every state is present (0 if none)."""
    with engine.connect() as conn:
        names = queries.codes(conn)
        states = queries.texts_by_state(conn)
        submitted = queries.submitted_since(conn, now - RATE_WINDOW)
        latencies = queries.receipt_latencies(conn, now, LATENCY_SAMPLE)
        paces = code_pace.by_registration(conn)
    figures = []
    for registration_id, code in sorted(names.items(), key=lambda item: item[1]):
        figures.append(CodeFigures(
            code=code,
            texts_by_state={s.value: states[(registration_id, s.value)] for s in MessageState},
            send_rate_per_s=submitted[registration_id] / RATE_WINDOW.total_seconds(),
            receipt_latencies_s=latencies.get(registration_id, []),
            pace=paces.get(registration_id)))
    return figures




def held_receipts(engine: Engine) -> int:
    """Receipts held because they match no carrier id (early, or of a text whose submit answer
    never came); pruned after a set age (DispatchOptions.early_receipt_max_age_s)."""
    with engine.connect() as conn:
        return unmatched_receipts.held_count(conn)


def failovers(engine: Engine) -> list[tuple[str, int, int]]:
    """(code, failovers, returns) of each code a dispatcher has routed: how often its texts
    left a connection for a later one of its route, and came back (store.route_status)."""
    with engine.connect() as conn:
        return route_status.counts_by_code(conn)


def database_problem(engine: Engine) -> str | None:
    """Why the database does not answer, or None when it does (for /healthz)."""
    try:
        with engine.connect() as conn:
            queries.ping(conn)
    except SQLAlchemyError as exc:
        # Only the kind of failure: /healthz answers anyone, and a driver's message may name
        # hosts and users.
        return type(exc).__name__
    return None
