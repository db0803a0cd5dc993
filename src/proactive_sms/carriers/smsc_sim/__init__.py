"""The bundled SMSC simulator: a real SMPP 3.4 server on loopback for the demo, tests, benchmarks.

    async with SmscSimulator(SimulatorConfig(receipt_delay_s=0.01)) as sim:
        ...connect an ESME to 127.0.0.1:sim.port, bind as "psms"/"secret"...
        sim.accepted_submits()

Everything it can be told to do is a knob of SimulatorConfig, changeable live with
`sim.configure(...)` or over HTTP (`SimulatorControl(url).configure(...)`).
"""

from .config import ConfigError, SimulatorConfig
from .control import ControlError, SimulatorControl
from .records import AcceptedSubmit
from .server import SmscSimulator

__all__ = [
    "AcceptedSubmit",
    "ConfigError",
    "ControlError",
    "SimulatorConfig",
    "SimulatorControl",
    "SmscSimulator",
]
