"""`POST /carrier-callbacks/{connection_id}/{kind}` (or GET: Vonage may send its receipts so):
HTTP providers' status reports (`status`) and inbound texts (`inbound`). No API key: the
provider's signature (X-Twilio-Signature, Vonage's `sig`) is checked against the connection's
secret, and a callback is stored before it is acknowledged (services.carrier_callbacks). The
dispatcher then processes it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from proactive_sms.services import carrier_callbacks
from proactive_sms.services.carrier_callbacks import MAX_CALLBACK_BYTES, Received

# Not in the OpenAPI: providers post here, not the API's clients (docs/http_providers.md).
router = APIRouter(tags=["carrier callbacks"], include_in_schema=False)

# Twilio reads the answer to an inbound text as TwiML: an empty Response sends no reply (ours
# are sent by the dispatcher, paced and DNC-checked, as every text).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.api_route("/carrier-callbacks/{connection_id}/{kind}", methods=["GET", "POST"],
             responses={403: {"description": "bad signature"},
                        404: {"description": "no such HTTP connection or kind"},
                        413: {"description": "too large for a callback"}})
async def carrier_callback(connection_id: int, kind: str, request: Request) -> Response:
    """Store a provider's callback (signature checked), then acknowledge it. A duplicate is
    acknowledged and not stored again."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CALLBACK_BYTES:
            return Response("too large", status_code=413)
    headers = {k.lower(): v for k, v in request.headers.items()}
    received = await run_in_threadpool(
        carrier_callbacks.receive, request.app.state.engine, request.app.state.clock,
        connection_id, kind, request.url.query, body, headers)
    if received is Received.BAD_SIGNATURE:
        return Response("bad signature", status_code=403)
    if received is Received.UNKNOWN:
        return Response("no such callback", status_code=404)
    if kind == "inbound":
        return Response(EMPTY_TWIML, media_type="text/xml")
    return Response(status_code=204)
