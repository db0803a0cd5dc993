"""The raw pipelined load client that benchmarks use as their floor."""

from __future__ import annotations

from proactive_sms.carriers.smsc_sim import SimulatorConfig, SmscSimulator
from proactive_sms.carriers.smsc_sim.loadtest import run_load


async def test_run_load_gets_every_resp_and_receipt(sim: SmscSimulator) -> None:
    result = await run_load(sim.host, sim.port, count=2000, window=50)
    assert (result.count, result.refused) == (2000, 0)
    assert result.submits_per_s > 0 and result.receipts_s >= result.submit_s
    stats = sim.stats()
    assert stats["accepted"] == 2000
    assert stats["counters"]["receipt_sent"] == 2000


async def test_run_load_counts_refusals_and_does_not_wait_for_their_receipts() -> None:
    async with SmscSimulator(SimulatorConfig(queue_full_ratio=0.5, seed=1)) as sim:
        result = await run_load(sim.host, sim.port, count=400, window=10)
    assert 100 < result.refused < 300
