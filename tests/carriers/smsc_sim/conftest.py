from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from proactive_sms.carriers.smsc_sim import SimulatorConfig, SmscSimulator

# Small delays keep the suite fast; message ids from a fixed start make failures readable.
FAST = SimulatorConfig(receipt_delay_s=0.01, message_id_start=1000, seed=7)


@pytest.fixture
async def sim() -> AsyncIterator[SmscSimulator]:
    """A simulator in the test's own event loop; tests change knobs with sim.configure()."""
    async with SmscSimulator(FAST) as simulator:
        yield simulator
