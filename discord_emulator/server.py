"""`DiscordEmulator`: one aiohttp app serving the fake REST API, the gateway and attachments."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from discord_emulator import openapi
from discord_emulator.driver import Driver
from discord_emulator.errors import Violation
from discord_emulator.faults import FaultInjector
from discord_emulator.gateway import GatewayHub
from discord_emulator.models import Clock
from discord_emulator.ratelimits import RateLimits
from discord_emulator.rest import application, channels, guilds, interactions, threads
from discord_emulator.rest.framework import API_PREFIX, RecordedRequest, Services, install
from discord_emulator.state import EmulatorState, Intent

_FROM_ENV = "env"


class DiscordEmulator(Driver):
    """A fake Discord for tests. Use as `async with DiscordEmulator() as emu:`.

    `token`: the bot token it accepts; by default one shaped like Discord's (the application id
    in base64, then two more parts), so tools that read the id from a token work.
    `openapi_spec`: path to Discord's OpenAPI spec to validate request bodies against; by default
    the file named by $PLNBOT_DISCORD_OPENAPI (validation is off if it is unset or missing).
    `rate_limits`: Discord's global and per-route rate limits (off by default), see `RateLimits`.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        token: str | None = None,
        enabled_privileged_intents: int = Intent.PRIVILEGED,
        openapi_spec: str | Path | None = _FROM_ENV,
        interaction_deadline: float = 3.0,
        rate_limits: RateLimits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = EmulatorState(clock)
        self.token = token or _bot_token(self.state.application_id)
        self.enabled_privileged_intents = enabled_privileged_intents
        self.violations: list[Violation] = []
        self.faults = FaultInjector()
        self.rate_limits = rate_limits
        self.hub = GatewayHub(
            self.state,
            token=lambda: self.token,
            enabled_privileged_intents=lambda: self.enabled_privileged_intents,
            record_violation=self.violations.append,
        )
        spec_path = openapi.spec_path_from_env() if openapi_spec == _FROM_ENV else openapi_spec
        self.openapi = openapi.load_validator(str(spec_path)) if spec_path else None
        self.services = Services(
            state=self.state,
            hub=self.hub,
            faults=self.faults,
            token=lambda: self.token,
            violations=self.violations,
            schema=self.openapi,
            rate_limits=rate_limits,
            interaction_deadline=interaction_deadline,
        )
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.hub.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment)
        install(
            app,
            [
                application.routes,
                interactions.routes,
                channels.routes,
                threads.routes,
                guilds.routes,
            ],
            self.services,
        )
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{self._host}:{port}"
        self.state.public_base = self.base_url
        self.hub.resume_url = self.gateway_url

    async def stop(self) -> None:
        self.faults.drop_stalls()
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def api_base_url(self) -> str:
        """Set `discord.http.Route.BASE` to this."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Set `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` to `yarl.URL(this)`."""
        return self.base_url.replace("http://", "ws://", 1) + "/gateway"

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.state.attachments.get(int(request.match_info["attachment_id"]))
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    # --- checks for tests --------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every REST request received, in order (method, path, route template, status, body)."""
        return self.services.requests

    @property
    def latency(self) -> float:
        """Seconds every REST request takes before Discord sees it (0 by default)."""
        return self.services.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.services.latency = seconds

    @property
    def interaction_deadline(self) -> float:
        return self.services.interaction_deadline

    @interaction_deadline.setter
    def interaction_deadline(self, seconds: float) -> None:
        self.services.interaction_deadline = seconds

    def take_violations(self) -> list[Violation]:
        """Return and clear the recorded violations (for tests that provoke them on purpose)."""
        taken = list(self.violations)
        self.violations.clear()
        return taken

    def assert_no_violations(self) -> None:
        if self.violations:
            lines = "\n".join(f"  - {v}" for v in self.violations)
            raise AssertionError(f"the bot broke Discord's rules or used unknown routes:\n{lines}")

    # --- gateway faults ----------------------------------------------------------------------

    async def gateway_reconnect(self) -> int:
        """Send op 7 RECONNECT; the client should reconnect and RESUME."""
        return await self.hub.send_reconnect()

    async def gateway_drop(self) -> int:
        """Abort the TCP connection with no close frame (the client sees 1006) and must RESUME."""
        return await self.hub.drop()

    async def gateway_invalidate_session(self, *, resumable: bool = False) -> int:
        """Send op 9; with resumable=False the client must IDENTIFY again."""
        return await self.hub.invalidate_session(resumable=resumable)


def _bot_token(application_id: int) -> str:
    first = base64.b64encode(str(application_id).encode()).decode().rstrip("=")
    return f"{first}.emulator.{secrets.token_urlsafe(27)}"
