"""The bundled HTTP provider simulator: a real HTTP server on loopback speaking the Twilio
Messages API shape, with fault knobs (`psms provider-sim`).

    sim = ProviderSimulator(ProviderSimConfig(throttle_above_per_s=20)).start_in_thread()
    ...point a connection of kind http at sim.base_url...
    sim.accepted()  # what it took, to count duplicates
    sim.stop()
"""

from .config import ProviderSimConfig
from .server import ProviderSimulator

__all__ = ["ProviderSimConfig", "ProviderSimulator"]
