"""A window slot turns in one store transaction, and `submitting` never outgrows the window.

An answer frees its slot once it is queued for the store; the claim that takes the slot is
queued behind it on the same store queue, and a store transaction writes answers before claims.
So the claim commits in the answer's transaction (or a later one): the rows `submitting` after
any commit never exceed the connection's window (a crash leaves at most that many `uncertain`),
and the claim no longer waits for a transaction of the answer's own."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from proactive_sms.services.dispatch import _CLAIM, _RESULT
from proactive_sms.store.schema import message
from tests.services.dispatch_world import World

WINDOW = 5
TEXTS = 300


async def test_claims_share_the_answers_transaction_and_submitting_stays_within_the_window(
        world: World):
    world.connection(window=WINDOW)
    world.code("55501")
    world.people("people", TEXTS)
    skill_id = world.skill("bulk", "55501", "people", "Shift open, {FirstName}.")
    dispatcher = world.dispatcher()
    batches: list[tuple[set[str], int]] = []  # kinds of each batch, rows submitting after it
    write = dispatcher._write_batch

    def write_and_count(jobs):
        outputs = write(jobs)
        with world.engine.connect() as conn:  # on the store thread: nothing writes meanwhile
            submitting = conn.scalar(select(func.count()).select_from(message)
                                     .where(message.c.state == "submitting"))
        batches.append(({job.kind for job in jobs}, submitting))
        return outputs

    dispatcher._write_batch = write_and_count  # the store batch is built when run() begins
    await asyncio.wait_for(dispatcher.run(until_idle=True, receipt_grace_s=5.0), 120)

    assert world.states(skill_id) == Counter({"delivered": TEXTS})
    assert max(submitting for _, submitting in batches) <= WINDOW
    claims = [kinds for kinds, _ in batches if _CLAIM in kinds]
    with_answers = [kinds for kinds in claims if _RESULT in kinds]
    # Every claim but the first few (before any answer came) rides with answers; when a slot
    # was freed only once its answer had committed, a claim had a transaction of its own.
    assert len(with_answers) >= 0.8 * len(claims), (len(with_answers), len(claims))
