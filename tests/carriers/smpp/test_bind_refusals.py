"""A bind the SMSC refuses says why, in words, once (not at every reconnect), and the carrier keeps
it as its last error until it binds: against the simulator over TCP."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.carriers.smpp.conftest import eventually

# (case, settings of the carrier, words its last error and the log must hold)
CASES = [
    ("wrong password", {"password": "wrong"}, "bind refused: wrong password (ESME_RINVPASWD"),
    ("unknown system_id", {"system_id": "nobody"},
     "bind refused: unknown system_id (ESME_RINVSYSID"),
]


@pytest.mark.parametrize(("settings", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
async def test_a_refused_bind_says_why_once(carrier_for, caplog, settings, words):
    caplog.set_level(logging.WARNING)
    async with carrier_for(bind=False, **settings) as carrier:
        await eventually(lambda: carrier.last_error is not None)
        await asyncio.sleep(0.5)  # several more attempts (reconnect_max_s is 0.2 s)
        assert not carrier.bound
        assert words in carrier.last_error
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum(words in line for line in said) == 1, said
    # aiosmpplib's own line ("Error response received from SMSC: ...") is no longer an error
    assert not [line for line in said if "Error response received" in line]


async def test_the_last_error_clears_once_bound(carrier_for, sim):
    async with carrier_for(bind=False, password="wrong") as carrier:
        await eventually(lambda: carrier.last_error is not None)
        sim.configure(credentials={"psms": "wrong"})  # the carrier's password is right now
        assert await carrier.wait_bound(5.0)
        assert carrier.last_error is None


def test_keep_alive_probes_are_as_sparse_as_carriers_expect_by_default():
    # Carriers expect an enquire_link every 30-60 s of silence; every 5 s counts against some.
    from proactive_sms.carriers.smpp import SmppConfig
    from proactive_sms.services.dispatch import DispatchOptions, smpp_carrier
    from proactive_sms.store.registrations import CarrierConnection

    assert SmppConfig("127.0.0.1", 2775, "psms", "secret").enquire_link_interval_s == 30.0
    connection = CarrierConnection(1, 1, "c", "smpp", "127.0.0.1", 2775, "psms", "secret", 10)

    async def nothing(_) -> None:
        return None

    carrier = smpp_carrier(connection, nothing, nothing, DispatchOptions())
    assert carrier.config.enquire_link_interval_s == 30.0


def test_a_connection_may_set_its_own_keep_alive_interval():
    from proactive_sms.services.dispatch import DispatchOptions, smpp_carrier
    from proactive_sms.store.registrations import CarrierConnection

    async def nothing(_) -> None:
        return None

    for own, used in [(None, 30.0), (60.0, 60.0), (10.0, 10.0)]:
        connection = CarrierConnection(1, 1, "c", "smpp", "127.0.0.1", 2775, "psms", "secret",
                                       10, enquire_link_s=own)
        carrier = smpp_carrier(connection, nothing, nothing, DispatchOptions())
        assert carrier.config.enquire_link_interval_s == used, own
