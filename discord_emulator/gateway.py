"""Gateway v10 over a websocket: HELLO, IDENTIFY/READY, heartbeats, RESUME with replay, and
dispatches filtered by each session's intents (and MESSAGE_CONTENT stripping).

A session outlives its connection: events are sequenced into the session's log as they happen,
a connection writes the log out in order, and a RESUME replays whatever the client missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from discord_emulator import wire
from discord_emulator.errors import JSON, Violation
from discord_emulator.models import Message
from discord_emulator.state import EmulatorState, GatewayEvent, Intent

_log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_DISALLOWED_INTENTS = 4014


@dataclass
class Session:
    id: str
    intents: int
    shard: list[int]
    log: list[tuple[int, str, JSON]] = field(default_factory=list)  # (seq, event name, data)
    connection: Connection | None = None
    resumable: bool = True
    identified_count: int = 1
    resumed_count: int = 0

    @property
    def seq(self) -> int:
        return self.log[-1][0] if self.log else 0


class Connection:
    """One websocket. Writes go through a lock so control ops and dispatches never interleave."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, compress: bool) -> None:
        self.ws = ws
        self.request = request
        self.compressor = zlib.compressobj() if compress else None
        self.session: Session | None = None
        self.sent_upto = 0
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.writer: asyncio.Task[None] | None = None

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        if self.compressor is None:
            await self.ws.send_str(text)
        else:
            # zlib-stream: one shared context; each message ends with a Z_SYNC_FLUSH marker.
            data = self.compressor.compress(text.encode()) + self.compressor.flush(
                zlib.Z_SYNC_FLUSH
            )
            await self.ws.send_bytes(data)

    async def send_op(self, op: int, d: Any) -> None:
        async with self.lock:
            await self.send({"op": op, "d": d, "s": None, "t": None})

    async def flush_log(self) -> None:
        """Write out every logged dispatch this connection has not sent yet."""
        session = self.session
        if session is None:
            return
        async with self.lock:
            for seq, name, data in session.log:
                if seq > self.sent_upto and not self.ws.closed:
                    await self.send({"op": DISPATCH, "d": data, "s": seq, "t": name})
                    self.sent_upto = seq

    async def run_writer(self) -> None:
        while not self.ws.closed:
            await self.wake.wait()
            self.wake.clear()
            try:
                await self.flush_log()
            except ConnectionError:
                return


def _strip_content(data: JSON, message: Message, bot_id: int) -> JSON:
    """Without MESSAGE_CONTENT, guild messages arrive empty unless they are the bot's own or
    mention it (Discord's rule; DMs always keep their content)."""
    if message.guild_id is None or message.author.id == bot_id:
        return data
    if bot_id in message.mentions or f"<@{bot_id}>" in message.content:
        return data
    stripped = dict(data)
    stripped.update(content="", embeds=[], attachments=[], components=[])
    stripped.pop("poll", None)
    return stripped


class GatewayHub:
    def __init__(
        self,
        state: EmulatorState,
        *,
        token: Callable[[], str],
        enabled_privileged_intents: Callable[[], int],
        record_violation: Callable[[Violation], None],
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        self._state = state
        self._token = token
        self._enabled_privileged = enabled_privileged_intents
        self._violation = record_violation
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.resume_url = ""
        self.identify_count = 0
        self.resume_count = 0
        state.event_sink = self.dispatch

    # --- dispatching -------------------------------------------------------------------------

    def dispatch(self, event: GatewayEvent) -> None:
        for session in self.sessions.values():
            if not session.resumable:
                continue
            if event.intent and not session.intents & event.intent:
                continue
            data = event.data
            if event.message is not None and not session.intents & Intent.MESSAGE_CONTENT:
                data = _strip_content(data, event.message, self._state.bot_user.id)
            self._log(session, event.name, data)

    def _log(self, session: Session, name: str, data: JSON) -> None:
        session.log.append((session.seq + 1, name, data))
        if session.connection is not None:
            session.connection.wake.set()

    def guild_create(self, guild_id: int) -> None:
        """GUILD_CREATE for a guild the bot joined after READY (members per session intents)."""
        guild = self._state.guilds[guild_id]
        for session in self.sessions.values():
            if session.resumable and session.intents & Intent.GUILDS:
                members = bool(session.intents & Intent.GUILD_MEMBERS)
                self._log(
                    session, "GUILD_CREATE", wire.guild(guild, self._state, include_members=members)
                )
        self._state.changed()

    # --- connections -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream") or request.query.get("encoding", "json") != "json":
            self._violation(
                Violation("GET", str(request.rel_url), "unsupported gateway encoding/compression")
            )
            await ws.close(code=4002)
            return ws
        conn = Connection(ws, request, compress == "zlib-stream")
        self.connections.add(conn)
        conn.writer = asyncio.create_task(conn.run_writer())
        try:
            await conn.send_op(HELLO, {"heartbeat_interval": self.heartbeat_interval_ms})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._receive(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    await self._receive(conn, json.loads(zlib.decompress(msg.data)))
        except ConnectionError:
            pass
        finally:
            self.connections.discard(conn)
            conn.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await conn.writer
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self._state.changed()
        return ws

    async def _receive(self, conn: Connection, payload: JSON) -> None:
        op = payload.get("op")
        data: Any = payload.get("d")
        if op in (IDENTIFY, RESUME, REQUEST_MEMBERS) and not isinstance(data, dict):
            self._violation(Violation("WS", "/gateway", f"op {op} without a payload object"))
            return
        if op == HEARTBEAT:
            await conn.send_op(HEARTBEAT_ACK, None)
        elif op == IDENTIFY:
            await self._identify(conn, data)
        elif op == RESUME:
            await self._resume(conn, data)
        elif op == REQUEST_MEMBERS:
            self._request_members(conn, data)
        elif op == PRESENCE:
            pass
        else:
            _log.info("ignoring gateway op %s", op)

    async def _identify(self, conn: Connection, data: JSON) -> None:
        if data.get("token") != self._token():
            await conn.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & Intent.PRIVILEGED & ~self._enabled_privileged():
            await conn.ws.close(code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        session = Session(
            id=secrets.token_hex(16), intents=intents, shard=list(data.get("shard") or [0, 1])
        )
        self.identify_count += 1
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        state = self._state
        guilds = [g for g in state.guilds.values() if state.bot_user.id in g.members]
        ready = {
            "v": 10,
            "user": wire.user(state.bot_user),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url,
            "shard": session.shard,
            "application": {"id": str(state.application_id), "flags": self._app_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }
        self._log(session, "READY", ready)
        if intents & Intent.GUILDS:
            members = bool(intents & Intent.GUILD_MEMBERS)
            for guild in guilds:
                self._log(
                    session, "GUILD_CREATE", wire.guild(guild, state, include_members=members)
                )
        state.changed()

    def _app_flags(self) -> int:
        enabled = self._enabled_privileged()
        flags = 0
        if enabled & Intent.GUILD_PRESENCES:
            flags |= 1 << 12
        if enabled & Intent.GUILD_MEMBERS:
            flags |= 1 << 14
        if enabled & Intent.MESSAGE_CONTENT:
            flags |= 1 << 18
        return flags

    async def _resume(self, conn: Connection, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self._token() or session is None or not session.resumable:
            await conn.send_op(INVALID_SESSION, False)
            return
        if session.connection is not None and session.connection is not conn:
            await session.connection.ws.close(code=4000)
        self.resume_count += 1
        session.resumed_count += 1
        session.connection = conn
        conn.session = session
        conn.sent_upto = int(data.get("seq") or 0)
        # Replayed events go out first, then RESUMED, all in sequence order.
        self._log(session, "RESUMED", {})
        self._state.changed()

    def _request_members(self, conn: Connection, data: JSON) -> None:
        session = conn.session
        guild = self._state.guilds.get(int(data.get("guild_id", 0)))
        if session is None or guild is None:
            return
        query = str(data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        limit = int(data.get("limit") or 0) or len(guild.members)
        members = [
            m
            for m in guild.members.values()
            if (not wanted or m.id in wanted) and m.user.username.lower().startswith(query)
        ][:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [wire.member(m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        self._log(session, "GUILD_MEMBERS_CHUNK", chunk)

    # --- faults ------------------------------------------------------------------------------

    def _live(self) -> list[Connection]:
        return [c for c in self.connections if c.session is not None and not c.ws.closed]

    async def send_reconnect(self) -> int:
        """Op 7: the client should close and RESUME. Returns how many connections were told."""
        live = self._live()
        for conn in live:
            await conn.send_op(RECONNECT, None)
        return len(live)

    async def drop(self) -> int:
        """Cut the TCP connection without a close frame (the client sees code 1006)."""
        live = self._live()
        for conn in live:
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
        return len(live)

    async def invalidate_session(self, *, resumable: bool = False) -> int:
        live = self._live()
        for conn in live:
            if conn.session is not None and not resumable:
                conn.session.resumable = False
            await conn.send_op(INVALID_SESSION, resumable)
        return len(live)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close(code=1001)
