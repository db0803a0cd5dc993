"""Is this process ready for work? The answer of `/readyz` (API servers) and of a dispatch
worker's health port, for a load balancer or a supervisor.

Liveness (`/healthz`) says the process and its database answer. Readiness says more: the
database answers *and* its schema is one this code can run on. A schema behind this code
(migrations not applied) is not ready: requests would fail on missing columns. A schema ahead
of it (a newer version migrated it during a rolling upgrade) is ready: migrations only add, so
the old processes keep serving until they are replaced (docs/deploy.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from proactive_sms.store import engine as store_engine

READY_SCHEMAS = ("current", "newer")


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)  # what was checked -> what was seen
    problems: list[str] = field(default_factory=list)  # why it is not ready (none: ready)

    @property
    def ready(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"status": "ready" if self.ready else "not_ready", "checks": self.checks,
                "problems": self.problems}


def check(engine: Engine) -> Readiness:
    """The database answers and its schema is current (or newer); no secrets in the answer:
    only the kind of a failure, as /healthz."""
    readiness = Readiness()
    try:
        schema = store_engine.schema_state(engine)
    except SQLAlchemyError as exc:
        readiness.checks["database"] = "unavailable"
        readiness.problems.append(f"the database does not answer ({type(exc).__name__})")
        return readiness
    readiness.checks["database"] = "ok"
    readiness.checks["schema"] = schema
    if schema not in READY_SCHEMAS:
        readiness.problems.append(
            "the database schema is " + ("not created" if schema == "empty" else
                                         "behind this version")
            + ": run `psms db upgrade`")
    return readiness
