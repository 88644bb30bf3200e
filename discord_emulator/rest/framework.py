"""Route registration and the request pipeline shared by every REST route.

Every request goes: record it -> injected fault? -> rate limits (when on) -> authorisation -> parse
JSON or multipart body -> OpenAPI schema check -> handler. A `DiscordError` from any step becomes
Discord's JSON error; if it carries a violation (a broken rule), the violation is recorded so the
test fails.
Route templates use the OpenAPI spec's parameter names, so one string names a route for the
handler, for fault injection and for schema lookup.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import BodyPartReader, web

from discord_emulator.errors import JSON, DiscordError, Violation
from discord_emulator.faults import FaultInjector
from discord_emulator.gateway import GatewayHub
from discord_emulator.messaging import UploadedFile
from discord_emulator.ratelimits import RateLimits
from discord_emulator.state import EmulatorState

API_PREFIX = "/api/v10"
JSON_CONTENT_TYPE = "application/json"


class SchemaValidator(Protocol):
    def request_errors(self, method: str, template: str, body: Any) -> list[str]: ...


@dataclass
class Services:
    """What route handlers may use. One per emulator."""

    state: EmulatorState
    hub: GatewayHub
    faults: FaultInjector
    token: Callable[[], str]
    violations: list[Violation]
    schema: SchemaValidator | None = None
    rate_limits: RateLimits | None = None
    interaction_deadline: float = 3.0
    followup_window: float = 15 * 60
    # Seconds each REST request takes to reach Discord (real time), as over a real network.
    latency: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)


@dataclass
class RecordedRequest:
    method: str
    path: str
    template: str
    status: int = 0
    body: Any = None


@dataclass
class Ctx:
    request: web.Request
    services: Services
    params: dict[str, str]
    body: Any
    files: list[UploadedFile]

    @property
    def state(self) -> EmulatorState:
        return self.services.state

    def id(self, name: str) -> int:
        """A snowflake path parameter; a malformed one is a 404 like Discord's."""
        value = self.params[name]
        if not value.isdigit():
            raise DiscordError(404, 0, "404: Not Found")
        return int(value)

    def json(self) -> JSON:
        if not isinstance(self.body, dict):
            raise DiscordError(400, 50109, "The request body contains invalid JSON.")
        return self.body

    def query_flag(self, name: str) -> bool:
        return self.request.query.get(name, "").lower() in ("1", "true")


Result = JSON | list[Any] | None | web.Response
Handler = Callable[[Ctx], Awaitable[Result]]


@dataclass(frozen=True)
class RouteSpec:
    method: str
    template: str
    handler: Handler
    needs_bot_token: bool = True


class RouteTable:
    def __init__(self) -> None:
        self.routes: list[RouteSpec] = []

    def route(
        self, method: str, template: str, *, needs_bot_token: bool = True
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(RouteSpec(method, template, handler, needs_bot_token))
            return handler

        return register


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # Exactly "application/json": with "; charset=utf-8" discord.py reads the body as text.
    response = web.Response(body=json.dumps(data).encode(), status=status, headers=headers or {})
    response.headers["Content-Type"] = JSON_CONTENT_TYPE
    return response


def error_response(error: DiscordError) -> web.Response:
    return json_response(error.body(), status=error.status)


_FILE_FIELD = re.compile(r"^files\[(\d+)\]$")


async def _parse_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    if request.content_type.startswith("multipart/"):
        body: Any = {}
        files: list[UploadedFile] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart: Discord does not accept it either
            data = await part.read()
            match = _FILE_FIELD.match(part.name or "")
            if part.name == "payload_json":
                body = json.loads(data)
            elif match:
                files.append(
                    UploadedFile(
                        index=int(match.group(1)),
                        filename=part.filename or f"file{match.group(1)}",
                        data=bytes(data),
                        content_type=part.headers.get("Content-Type"),
                    )
                )
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None


def make_handler(
    spec: RouteSpec, services: Services
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        if services.latency:
            await asyncio.sleep(services.latency)  # the request is "on its way" to Discord
        record = RecordedRequest(request.method, request.path, spec.template)
        services.requests.append(record)
        response = await _pipeline(spec, services, request, record)
        record.status = response.status
        services.state.changed()
        return response

    return handle


async def _pipeline(
    spec: RouteSpec, services: Services, request: web.Request, record: RecordedRequest
) -> web.Response:
    fault = services.faults.take(spec.method, spec.template)
    if fault is not None:
        return fault
    stall = services.faults.take_stall(spec.method, spec.template)
    if stall is not None and not stall.after_handler and not await stall.hold():
        return json_response({"message": "503: Service Unavailable", "code": 0}, status=503)
    response = await _limited(spec, services, request, record)
    if stall is not None and stall.after_handler:
        await stall.hold()
    return response


async def _limited(
    spec: RouteSpec, services: Services, request: web.Request, record: RecordedRequest
) -> web.Response:
    if services.rate_limits is None:
        return await _admitted(spec, services, request, record)
    verdict = services.rate_limits.check(spec.method, spec.template, request.match_info)
    if verdict.limited:
        return json_response(verdict.body(), status=429, headers=dict(verdict.headers))
    response = await _admitted(spec, services, request, record)
    # Discord sends the bucket's headers with every answer, errors included.
    response.headers.update(verdict.headers)
    return response


async def _admitted(
    spec: RouteSpec, services: Services, request: web.Request, record: RecordedRequest
) -> web.Response:
    if spec.needs_bot_token and request.headers.get("Authorization") != f"Bot {services.token()}":
        return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
    try:
        body, files = await _parse_body(request)
        record.body = body
        if body is not None and services.schema is not None:
            problems = services.schema.request_errors(spec.method, spec.template, body)
            if problems:
                raise DiscordError(
                    400,
                    50035,
                    "Invalid Form Body",
                    errors={
                        "_errors": [{"code": "OPENAPI_SCHEMA", "message": p} for p in problems]
                    },
                    violation="request body does not match Discord's OpenAPI schema: "
                    + "; ".join(problems),
                )
        ctx = Ctx(request, services, dict(request.match_info), body, files)
        result = await spec.handler(ctx)
    except DiscordError as error:
        if error.violation:
            services.violations.append(
                Violation(spec.method, request.path_qs, error.violation, {"body": record.body})
            )
        return error_response(error)
    if isinstance(result, web.Response):
        return result
    if result is None:
        return web.Response(status=204)
    return json_response(result)


def install(app: web.Application, tables: list[RouteTable], services: Services) -> None:
    for table in tables:
        for spec in table.routes:
            app.router.add_route(
                spec.method, API_PREFIX + spec.template, make_handler(spec, services)
            )

    async def unknown_route(request: web.Request) -> web.Response:
        services.requests.append(RecordedRequest(request.method, request.path, "?", 404))
        services.violations.append(
            Violation(request.method, request.path_qs, "the emulator does not implement this route")
        )
        return json_response({"message": "404: Not Found", "code": 0}, status=404)

    app.router.add_route("*", API_PREFIX + "/{tail:.*}", unknown_route)
