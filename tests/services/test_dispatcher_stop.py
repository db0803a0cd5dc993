"""Dispatcher.stop() is never lost: asked before run() has begun (a task created, not started
yet), the run still ends. It was lost, and the dispatcher ran forever: run() replaced the event
stop() had set. The varied-run counter test hung that way on PostgreSQL when its last wait
found nothing to wait for (no uncertain text to resend) and stopped the dispatcher at once."""

from __future__ import annotations

import asyncio

from tests.services.dispatch_world import World

# Not a speed limit: long enough for a loaded machine to start and stop a dispatcher, short
# enough that a lost stop fails the test instead of hanging the run.
ENDS_WITHIN_S = 60.0


async def test_a_stop_asked_before_the_run_begins_ends_the_run(world: World):
    world.connection()
    world.code("55501")
    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    dispatcher.stop()  # before the task has had a chance to start
    await asyncio.wait_for(task, ENDS_WITHIN_S)
    assert task.done() and task.exception() is None


async def test_a_stop_asked_before_the_run_begins_ends_a_run_given_its_own_event(world: World):
    world.connection()
    world.code("55501")
    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run(asyncio.Event()))
    dispatcher.stop()
    await asyncio.wait_for(task, ENDS_WITHIN_S)


async def test_a_stop_during_the_run_ends_it(world: World):
    world.connection()
    world.code("55501")
    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0.5)
    dispatcher.stop()
    await asyncio.wait_for(task, ENDS_WITHIN_S)
