"""`Idempotency-Key`: a POST repeated with the same key gets the first answer, not a second run.

Kept in the process, per business unit, for a day. The start it guards is itself idempotent in
the store (a started skill is not started again), so a restart of the process loses only the
replayed answer, never the guarantee that a skill starts once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

KEPT_FOR = timedelta(hours=24)


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str  # of the request it answered: the key cannot be reused for another
    status: int
    body: Any
    at: datetime


def fingerprint(method: str, path: str, body: Any) -> str:
    raw = json.dumps([method, path, body], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


class IdempotencyCache:
    def __init__(self) -> None:
        self._answers: dict[tuple[int, str], StoredAnswer] = {}
        # One request per key at a time: a retry racing the first waits for its answer.
        self._lock = threading.Lock()

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def get(self, bu_id: int, key: str, now: datetime) -> StoredAnswer | None:
        answer = self._answers.get((bu_id, key))
        if answer and now - answer.at > KEPT_FOR:
            del self._answers[(bu_id, key)]
            return None
        return answer

    def put(self, bu_id: int, key: str, answer: StoredAnswer) -> None:
        self._answers[(bu_id, key)] = answer
