"""A world for HTTP provider tests: the real store, the provider simulator over HTTP on
loopback, and the real API (`create_app`) on loopback to take the simulator's callbacks."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy import Engine, select

from proactive_sms.carriers.provider_sim import ProviderSimConfig, ProviderSimulator
from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import administration
from proactive_sms.services.dispatch import Dispatcher, DispatchOptions
from proactive_sms.store.schema import carrier_callback, message
from proactive_sms.store.tenancy import BusinessUnit
from tests.services.dispatch_world import FAST, DaytimeClock, World


class ApiServer:
    """The API app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, engine: Engine, clock) -> None:
        config = uvicorn.Config(create_app(engine, clock), host="127.0.0.1", port=0,
                                log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                break
            threading.Event().wait(0.02)
        assert self.server.started, "the API did not start"
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# Submits answered within a second or called uncertain: the lost-answer knob holds its answer
# 30 s, and tests should not wait as long as production would (10 s).
HTTP_FAST = DispatchOptions(**{**FAST.__dict__, "http_timeout_s": 1.0,
                               "http_connect_timeout_s": 1.0})


@dataclass
class HttpWorld(World):
    provider: ProviderSimulator = None  # type: ignore[assignment]
    api: ApiServer = None  # type: ignore[assignment]

    def http_connection(self, name: str = "twilio", window: int = 10,
                        token: str | None = None) -> int:
        config = self.provider.config
        found = administration.add_http_connection(
            self.engine, self.bu, self.clock, name, provider="twilio",
            account=config.account_sid, token=token or config.auth_token,
            base_url=self.provider.base_url, callback_url=self.api.url, window_size=window)
        self.provider.configure(inbound_url=f"{self.api.url}/carrier-callbacks/{found.id}/inbound")
        return found.id

    def vonage_connection(self, name: str = "vonage", window: int = 10) -> int:
        """A connection in the Vonage shape, to the simulator's Vonage routes; its inbound
        texts come in that shape too."""
        config = self.provider.config
        found = administration.add_http_connection(
            self.engine, self.bu, self.clock, name, provider="vonage", account=config.api_key,
            token=config.api_secret, signature_secret=config.signature_secret,
            base_url=self.provider.base_url, callback_url=self.api.url, window_size=window)
        self.provider.configure(inbound_url=f"{self.api.url}/carrier-callbacks/{found.id}/inbound",
                                inbound_shape="vonage")
        return found.id

    def code(self, code: str, kind: str = "short", rate: float = 1000.0,
             connection: str = "twilio", dnc_group: str | None = None) -> None:
        super().code(code, kind, rate, connection, dnc_group)

    def dispatcher(self, options: DispatchOptions = HTTP_FAST) -> Dispatcher:
        return Dispatcher(self.engine, self.clock, options)

    async def run_until_idle(self, options: DispatchOptions = HTTP_FAST, grace_s: float = 5.0,
                             timeout_s: float = 120.0) -> Dispatcher:
        return await super().run_until_idle(options, grace_s, timeout_s)

    def sent_twice(self) -> dict[str, int]:
        return {to: n for to, n in self.provider.per_destination().items() if n > 1}

    def details(self, skill_id: int) -> Counter:
        return Counter((r.state, r.detail) for r in self.rows(skill_id))

    def callbacks(self):
        with self.engine.connect() as conn:
            return conn.execute(select(carrier_callback).order_by(carrier_callback.c.id)).all()

    def states_by_destination(self, skill_id: int) -> dict[str, str]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(message.c.destination, message.c.state)
                                     .where(message.c.skill_id == skill_id)).all())

    async def inject(self, sender: str, to: str, text: str) -> dict:
        """A person texts one of our codes through the provider (its webhook to our API)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.provider.inject_now, sender, to, text)


def make_world(engine: Engine, bu: BusinessUnit, tmp_path: Path,
               config: ProviderSimConfig | None = None) -> HttpWorld:
    clock = DaytimeClock()
    provider = ProviderSimulator(config or ProviderSimConfig()).start_in_thread()
    api = ApiServer(engine, clock)
    return HttpWorld(engine, bu, None, tmp_path, clock, provider=provider, api=api)  # type: ignore[arg-type]
