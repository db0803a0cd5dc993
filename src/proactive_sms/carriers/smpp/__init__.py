"""The SMPP 3.4 carrier connection (ESME) on aiosmpplib 0.7.4: `SmppCarrier`, `SmppConfig`.

Decisions other layers can rely on (details in each module):
- Text leaves exactly as the domain split it: each part is encoded here (GSM-7 unpacked with
  data_coding 0, or UCS-2/UTF-16BE with 8) and, for a long text, prefixed with the UDH
  `05 00 03 ref total seq` (esm_class 0x40). aiosmpplib gets a pre-built submit_sm body
  (pdus.PreEncodedSubmitSm) and only numbers and writes it: it never splits, re-encodes or uses
  its SAR path.
- validity_until is sent as an absolute UTC time, "YYMMDDhhmmss000+"; none means the SMSC default.
- deliver_sm is acknowledged only after on_receipt / on_inbound returned; a handler that raises
  gets ESME_RX_T_APPN (0x64) so the SMSC delivers it again later (at-least-once: handlers must
  tolerate a repeat). The parts of a long reply are acknowledged together after the whole text
  was handed up. Receipts are passed up whatever their id; matching is the store's business.
- submit() statuses follow carriers/base.py exactly; see client.py for the long-text rules.
"""

from proactive_sms.carriers.smpp.client import SmppCarrier
from proactive_sms.carriers.smpp.config import SmppConfig

__all__ = ["SmppCarrier", "SmppConfig"]
