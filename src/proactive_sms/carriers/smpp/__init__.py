"""The SMPP 3.4 carrier connection (ESME) on aiosmpplib: see client.SmppCarrier."""

from proactive_sms.carriers.smpp.client import SmppCarrier
from proactive_sms.carriers.smpp.config import SmppConfig

__all__ = ["SmppCarrier", "SmppConfig"]
