"""Fixtures of the service tests that run the dispatcher against the SMSC simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.dispatch_world import DaytimeClock, World, simulator


@pytest.fixture
def world(engine, bu, tmp_path) -> Iterator[World]:
    """A World on the run's database with a simulator of default knobs, stopped afterwards (a
    test that needs other knobs makes its own)."""
    sim = simulator()
    yield World(engine, bu, sim, tmp_path, DaytimeClock())
    sim.stop_in_thread()
