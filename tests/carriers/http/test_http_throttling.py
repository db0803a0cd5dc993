"""A provider that answers 429 (with Retry-After) above a rate lower than the code's: the
dispatcher finds that rate through the same adaptive rate as SMPP throttling, instead of
hammering the provider."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from proactive_sms.services import administration
from tests.carriers.http.http_world import HTTP_FAST

REAL_THROTTLING = replace(HTTP_FAST, throttle_pause_s=1.0, throttle_pause_max_s=30.0)


async def test_a_code_throttled_at_30_per_s_by_the_provider_settles_near_30(http_world):
    w = http_world
    # No status callbacks: receipts have nothing to do with pacing, and the provider, the API
    # and the dispatcher share this one process.
    w.provider.configure(throttle_above_per_s=30, retry_after_s=1.0, statuses=())
    w.http_connection(window=20)
    w.code("55501", rate=100)
    w.people("people", 1000)
    w.skill("notice", "55501", "people", "Hello {FirstName}")

    dispatcher = w.dispatcher(REAL_THROTTLING)
    task = asyncio.create_task(dispatcher.run())
    for _ in range(600):
        if w.provider.accepted() or task.done():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(10.0)
    dispatcher.stop()
    await task

    taken = sorted(a.monotonic_s for a in w.provider.accepted())
    first = taken[0]
    refused = w.provider.refused["20429"]
    per_s = [sum(1 for t in taken if first + i <= t < first + i + 1) for i in range(10)]
    # Settled: the last 5 of the 10 seconds carry at least half of what the provider takes
    # (30/s). Not all of it: each 429 asks for a 1 s wait (Retry-After), and it is honoured.
    assert sum(per_s[5:]) >= 0.5 * 30 * 5, (per_s, refused)
    assert max(per_s) <= 30, per_s
    # Bounded refusals: a burst when the code first goes over, then rare probes; hammering at
    # 100/s would be ~70 refusals every second (700 in 10 s).
    assert 1 <= refused <= 60, (per_s, refused)
    pace = next(iter(administration.code_paces(w.engine, w.bu).values()))
    assert pace.throttled and pace.limit_per_s == 100
    assert 20 <= pace.rate_per_s <= 40, pace  # near the provider's 30/s, not the code's 100
    assert not w.sent_twice()
