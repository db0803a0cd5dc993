"""The provider simulator's second shape: the Vonage SMS API (/sms/json, /account/get-balance),
its signed delivery receipts (one per part: Vonage splits a long text itself) and signed inbound
texts. The same knobs as the Twilio shape where they make sense (throttling, refusals,
undeliverable numbers, duplicate callbacks, bad signatures)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proactive_sms.carriers.http.vonage import reason, signature

if TYPE_CHECKING:
    from proactive_sms.carriers.provider_sim.server import ProviderSimulator

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def split(text: str, unicode: bool) -> list[str]:
    """How Vonage would split a text (by characters: close enough for a simulator)."""
    single, part = (UCS2_SINGLE, UCS2_PART) if unicode else (GSM_SINGLE, GSM_PART)
    if len(text) <= single:
        return [text]
    return [text[i:i + part] for i in range(0, len(text), part)]


def _message_id() -> str:
    return uuid.uuid4().hex[:16].upper()


class VonageApi:
    def __init__(self, sim: ProviderSimulator) -> None:
        self.sim = sim

    async def _params(self, request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        params.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        return params

    def _authorized(self, params: dict[str, str]) -> bool:
        config = self.sim.config
        return (params.get("api_key") == config.api_key
                and params.get("api_secret") == config.api_secret)

    async def balance(self, request: Request) -> Response:
        if not self._authorized(await self._params(request)):
            return JSONResponse({"type": "https://developer.nexmo.com/api-errors#unauthorized",
                                 "title": "Invalid credentials supplied"}, status_code=401)
        return JSONResponse({"value": 10.5, "autoReload": False})

    async def submit(self, request: Request) -> Response:
        sim, config = self.sim, self.sim.config
        number = sim.count_submit()
        params = await self._params(request)
        if not self._authorized(params):
            sim.refused["4"] += 1
            return _refused(4, params.get("to", ""))
        to, sender, text = params.get("to", ""), params.get("from", ""), params.get("text", "")
        if not to or not sender or not text:
            sim.refused["2"] += 1
            return _refused(2, to)
        if config.slow_answer_s:
            await asyncio.sleep(config.slow_answer_s)
        e164 = "+" + to.removeprefix("+")
        code = config.refuse.get(e164, config.refuse.get(to))
        if code is not None:
            sim.refused[str(code)] += 1
            return _refused(code, to)
        if sim.over_rate(config):
            sim.refused["1"] += 1
            return _refused(1, to)
        if config.error_5xx_every and number % config.error_5xx_every == 0:
            sim.refused["500"] += 1
            return Response("Internal Server Error", status_code=500)
        parts = split(text, params.get("type") == "unicode")
        ids = [_message_id() for _ in parts]
        callback = params.get("callback")
        for n, message_id in enumerate(ids):
            sim.take_as(message_id, e164, sender, parts[n], "200",
                        self._post_receipt(message_id, to, sender, callback,
                                           params.get("client-ref"))
                        if callback and params.get("status-report-req") == "1" else None)
        return JSONResponse({"message-count": str(len(parts)), "messages": [
            {"to": to, "message-id": message_id, "status": "0",
             "remaining-balance": "10.0", "message-price": "0.0333", "network": "23410"}
            for message_id in ids]})

    async def _post_receipt(self, message_id: str, to: str, sender: str, url: str,
                            client_ref: str | None) -> None:
        config = self.sim.config
        await asyncio.sleep(config.callback_delay_s)
        error = config.undeliverable.get("+" + to.removeprefix("+"))
        fields = {"msisdn": to, "to": sender, "network-code": "23410",
                  "messageId": message_id, "price": "0.0333",
                  "status": "failed" if error is not None else "delivered",
                  "scts": time.strftime("%y%m%d%H%M", time.gmtime()),
                  "err-code": str(error if error is not None else 0),
                  "api-key": config.api_key,
                  "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
        if client_ref:
            fields["client-ref"] = client_ref
        for _ in range(2 if config.duplicate_callbacks else 1):
            await self.post_signed(url, fields)

    def signed(self, fields: dict[str, str]) -> dict[str, str]:
        config = self.sim.config
        secret = ("not-" + config.signature_secret if config.bad_signatures
                  else config.signature_secret)
        fields = {**fields, "timestamp": str(int(time.time())), "nonce": uuid.uuid4().hex}
        return {**fields, "sig": signature(secret, fields)}

    async def post_signed(self, url: str, fields: dict[str, str]) -> int | None:
        """Sent as Vonage does (a signed GET with the fields in the query)."""
        return await self.sim.deliver(
            lambda client: client.get(url, params=self.signed(fields)))

    async def inject(self, sender: str, to: str, text: str, url: str) -> dict[str, Any]:
        message_id = _message_id()
        fields = {"msisdn": sender.removeprefix("+"), "to": to.removeprefix("+"),
                  "messageId": message_id, "text": text, "type": "text",
                  "keyword": (text.split() or [""])[0].upper(),
                  "api-key": self.sim.config.api_key,
                  "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
        answered = await self.post_signed(url, fields)
        if self.sim.config.duplicate_callbacks:
            await self.post_signed(url, fields)
        return {"sid": message_id, "status_code": answered}


def _refused(code: int, to: str) -> Response:
    # Vonage answers a refusal with HTTP 200 and the status in messages[].
    return JSONResponse({"message-count": "1", "messages": [
        {"to": to, "status": str(code), "error-text": reason(code)}]})

