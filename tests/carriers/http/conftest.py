"""Fixtures of the HTTP provider tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.carriers.http.http_world import HttpWorld, make_world


@pytest.fixture
def http_world(engine, bu, tmp_path) -> Iterator[HttpWorld]:
    world = make_world(engine, bu, tmp_path)
    yield world
    world.provider.stop()
    world.api.stop()
