"""The HTTP control interface, through SimulatorControl, against a simulator in its own thread."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from proactive_sms.carriers.smsc_sim import (
    ControlError,
    SimulatorConfig,
    SimulatorControl,
    SmscSimulator,
    pdu,
)

from .esme import bound


@pytest.fixture
def threaded_sim() -> Iterator[SmscSimulator]:
    # In its own thread: urllib blocks, and the test's loop must stay free to run the client.
    config = SimulatorConfig(receipt_delay_s=0.01, message_id_start=1)
    with SmscSimulator(config, control_port=0) as sim:
        yield sim


@pytest.fixture
def control(threaded_sim: SmscSimulator) -> SimulatorControl:
    assert threaded_sim.control_url is not None
    return SimulatorControl(threaded_sim.control_url)


async def test_stats_and_submits_since(
    threaded_sim: SmscSimulator, control: SimulatorControl
) -> None:
    esme = await bound(threaded_sim.port)
    for i in range(3):
        await esme.submit(text=f"t{i}", registered_delivery=0)
    stats = await asyncio.to_thread(control.stats)
    assert stats["accepted"] == 3
    assert stats["received"]["submit_sm"] == 3
    assert stats["sessions"][0]["mode"] == "transceiver"
    submits = await asyncio.to_thread(control.submits, 1)
    assert [s["text"] for s in submits] == ["t1", "t2"]
    assert [s["message_id"] for s in submits] == ["2", "3"]
    assert await asyncio.to_thread(control.submits, 0, 1) == [
        (await asyncio.to_thread(control.submits))[0]
    ]
    await esme.close()


async def test_configure_changes_knobs_live(
    threaded_sim: SmscSimulator, control: SimulatorControl
) -> None:
    esme = await bound(threaded_sim.port)
    config = await asyncio.to_thread(control.configure, queue_full_ratio=1.0)
    assert config["queue_full_ratio"] == 1.0
    assert (await esme.submit()).status == pdu.ESME_RMSGQFUL
    await asyncio.to_thread(control.configure, queue_full_ratio=0.0)
    assert (await esme.submit()).status == 0
    await esme.close()


def test_bad_knob_is_a_400_naming_it(control: SimulatorControl) -> None:
    with pytest.raises(ControlError, match="throttle_above_per_s") as caught:
        control.configure(throttle_above_per_s="fast")
    assert caught.value.status == 400
    with pytest.raises(ControlError, match="unknown knob"):
        control.configure(warp_speed=9)


async def test_inbound_waits_for_the_clients_answer(
    threaded_sim: SmscSimulator, control: SimulatorControl
) -> None:
    esme = await bound(threaded_sim.port)
    reply = await asyncio.to_thread(control.inject, "+15551234567", "12345", "YES")
    assert reply == {"status": "acknowledged", "command_status": 0}
    assert (await esme.next_deliver()).text == "YES"
    await esme.close()


def test_inbound_without_a_receiver_is_pending(control: SimulatorControl) -> None:
    assert control.inject("+15551234567", "12345", "hi", wait_s=0.05) == {"status": "pending"}
    assert control.stats()["held_deliver_sm"] == 1


def test_inbound_missing_fields_is_a_400(control: SimulatorControl) -> None:
    request = urllib.request.Request(
        control.base_url + "/inbound", data=json.dumps({"to": "1"}).encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert "from, text" in json.loads(caught.value.read())["error"]


async def test_reset(threaded_sim: SmscSimulator, control: SimulatorControl) -> None:
    esme = await bound(threaded_sim.port)
    await esme.submit(registered_delivery=0)
    await asyncio.to_thread(control.reset)
    assert (await asyncio.to_thread(control.stats))["accepted"] == 0
    await esme.close()


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/nope", 404), ("DELETE", "/stats", 405)]
)
def test_unknown_routes(control: SimulatorControl, method: str, path: str, status: int) -> None:
    request = urllib.request.Request(control.base_url + path, method=method)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == status


def test_log_path_set_live_starts_the_log(
    threaded_sim: SmscSimulator, control: SimulatorControl, tmp_path: Path
) -> None:
    log_path = tmp_path / "live.jsonl"
    control.configure(log_path=str(log_path))
    assert log_path.exists()
    assert control.config()["log_path"] == str(log_path)


def test_unreachable_control_is_a_control_error() -> None:
    with pytest.raises(ControlError, match="cannot reach"):
        SimulatorControl("http://127.0.0.1:1", timeout_s=1).stats()
