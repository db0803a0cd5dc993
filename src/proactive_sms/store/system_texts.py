"""Texts the system queues outside any skill: keyword confirmations, help answers, agent replies.

They are ordinary messages (same states, same dispatcher, same pacing) with no skill or record,
leaving from a registration, with priority 0 so they go before bulk texts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from proactive_sms.domain import encoding
from proactive_sms.domain.message_states import MessageKind, MessageState
from proactive_sms.store.schema import message


def queue(conn: Connection, *, registration_id: int, destination: str, body: str,
          kind: MessageKind, now: datetime, conversation_id: int | None = None) -> int:
    report = encoding.analyze(body)
    return conn.execute(message.insert().values(
        skill_id=None, record_id=None, kind=kind.value, registration_id=registration_id,
        priority=0, conversation_id=conversation_id, destination=destination, body=report.text,
        encoding=report.encoding.value, segments=report.segments,
        state=MessageState.PENDING.value, attempts=0, created_at=now,
    )).inserted_primary_key[0]
