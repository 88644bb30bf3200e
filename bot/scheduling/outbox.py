"""The outbox: each post the bot makes on a schedule happens exactly once, across crashes.

A post has a scope (what it belongs to: "run:12" for a slot, "recap:3", "chat:7" for a chat's
run) and a part ("prompt", "q3", "0"). Before it is sent, its row is written: where it goes, a
fingerprint of what it says, its nonce. Right after, the id Discord gave it. Running the same
scope again (a slot resumed after its process died, a recap finished later) then:

- skips a part recorded as sent;
- for a part whose row is written but not its id (the process died while sending), asks the
  Discord side whether it arrived (`Finder`: the bot's message with that fingerprint in the
  channel since the row was written); found, it is recorded and not sent again;
- sends the rest with the part's nonce, which Discord enforces for a few minutes: a resend inside
  that window returns the first message, even one the lookup could not see.

Discord-free: the Discord side describes each post as an `Outgoing` (bot/ui/outbox.py) and
answers the lookups.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.clock import Clock
from bot.database import SessionFactory, insert_ignoring_conflicts
from bot.scheduling.models import OutboxPost

Memo = dict[str, Any]
# (kind, channel id, fingerprint, written at) -> the id of the bot's post found there, or None.
Finder = Callable[[str, int, str, datetime], Awaitable[int | None]]
MAX_NONCE = 25  # Discord's limit


@dataclass(frozen=True)
class Outgoing:
    """One post as the Discord side describes it: `send(nonce)` makes it and returns its id."""

    kind: str  # "message" or "thread"
    channel_id: int
    fingerprint: str
    send: Callable[[str], Awaitable[int]]
    memo: Memo = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """A part's post: its id, and whether it was made just now (else by an earlier attempt)."""

    id: int
    fresh: bool
    memo: Memo


def nonce_for(scope: str, part: str) -> str:
    """The part's nonce, the same on every attempt (readable when short enough)."""
    plain = f"{scope}/{part}"
    if len(plain) <= MAX_NONCE:
        return plain
    return "pln" + hashlib.sha256(plain.encode()).hexdigest()[: MAX_NONCE - 3]


def fresh_nonce() -> str:
    """A nonce for a post that needs no outbox (an answer to a moderator's command)."""
    return "pln" + secrets.token_hex(11)


async def _not_found(_kind: str, _channel_id: int, _fingerprint: str, _since: datetime) -> None:
    return None


class Outbox:
    def __init__(self, sessions: SessionFactory, clock: Clock, find: Finder | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        # Without a finder (Discord-free tests) a post whose fate is unknown is sent again.
        self._find = find or _not_found

    def scope(self, guild_id: int, name: str) -> OutboxScope:
        return OutboxScope(self._sessions, self._clock, self._find, guild_id, name)


class OutboxScope:
    """The posts of one scope (a slot's run, a recap, a chat's run) in one guild."""

    def __init__(
        self, sessions: SessionFactory, clock: Clock, find: Finder, guild_id: int, name: str
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._find = find
        self.guild_id = guild_id
        self.name = name

    async def sent(self) -> dict[str, int]:
        """part -> id of every part recorded as sent."""
        query = select(OutboxPost.part, OutboxPost.message_id).where(
            OutboxPost.guild_id == self.guild_id,
            OutboxPost.scope == self.name,
            OutboxPost.message_id.is_not(None),
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return {part: int(message_id) for part, message_id in rows if message_id is not None}

    async def memo(self, part: str) -> Memo | None:
        """What an earlier attempt of this part chose (its `Outgoing.memo`), if there was one."""
        row = await self._row(part)
        return dict(row.memo or {}) if row is not None else None

    async def once(self, part: str, outgoing: Outgoing) -> Sent:
        """Post `outgoing` unless an earlier attempt of this part did (see the module)."""
        row = await self._row(part)
        if row is None and await self._write(part, outgoing):
            return await self._send(part, outgoing, nonce_for(self.name, part))
        if row is None:  # another attempt wrote it first (a race inside a chat's run)
            row = await self._row(part)
            assert row is not None
        if row.message_id is not None:
            return Sent(int(row.message_id), False, dict(row.memo or {}))
        found = await self._find(row.kind, row.channel_id, row.fingerprint, row.started_at)
        if found is not None:
            await self._record(part, found)
            return Sent(found, False, dict(row.memo or {}))
        await self._rewrite(part, outgoing)
        return await self._send(part, outgoing, row.nonce)

    async def _send(self, part: str, outgoing: Outgoing, nonce: str) -> Sent:
        posted = await outgoing.send(nonce)
        await self._record(part, posted)
        return Sent(posted, True, outgoing.memo)

    async def _row(self, part: str) -> OutboxPost | None:
        async with self._sessions() as session:
            row = await session.get(OutboxPost, (self.name, part))
        return row if row is not None and row.guild_id == self.guild_id else None

    async def _write(self, part: str, outgoing: Outgoing) -> bool:
        """Write the part's row before it is sent; False if one was written meanwhile."""
        values = {
            "scope": self.name,
            "part": part,
            "guild_id": self.guild_id,
            "kind": outgoing.kind,
            "channel_id": outgoing.channel_id,
            "fingerprint": outgoing.fingerprint,
            "nonce": nonce_for(self.name, part),
            "memo": outgoing.memo,
            "started_at": self._clock.now(),
        }
        async with self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            written = await session.execute(
                insert_ignoring_conflicts(dialect, OutboxPost, ["scope", "part"])
                .values(**values)
                .returning(OutboxPost.part)
            )
            return written.first() is not None

    async def _rewrite(self, part: str, outgoing: Outgoing) -> None:
        """A retry of a part that never arrived: what it says now (e.g. "posted late"). Its time
        stays the first attempt's, so a later lookup still covers every attempt."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(OutboxPost)
                .where(OutboxPost.scope == self.name, OutboxPost.part == part)
                .values(
                    kind=outgoing.kind,
                    channel_id=outgoing.channel_id,
                    fingerprint=outgoing.fingerprint,
                    memo=outgoing.memo,
                )
            )

    async def _record(self, part: str, posted: int) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(OutboxPost)
                .where(OutboxPost.scope == self.name, OutboxPost.part == part)
                .values(message_id=posted, sent_at=self._clock.now())
            )
