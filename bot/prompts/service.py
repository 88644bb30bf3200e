"""The prompt bank: add, import, list, remove, suggest/decide, and pick the next prompt to post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row, record_audit
from bot.prompts.models import Prompt

MAX_PROMPT_LENGTH = 1000
MAX_BANK_SIZE = 1000
MAX_IMPORT_BYTES = 200_000


@dataclass(frozen=True)
class PromptInfo:
    id: int
    guild_id: int
    topic_id: int | None
    text: str
    status: str
    use_count: int
    last_used_at: datetime | None
    created_by: int


@dataclass(frozen=True)
class ImportResult:
    added: int
    duplicates: int
    too_long: int
    blank: int


def clean_prompt(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise UserFacingError("A prompt needs some text.")
    if len(cleaned) > MAX_PROMPT_LENGTH:
        raise UserFacingError(
            f"A prompt is at most {MAX_PROMPT_LENGTH} characters (this one has {len(cleaned)})."
        )
    return cleaned


class PromptService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def add(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        text: str,
        *,
        topic_id: int | None = None,
        status: str = "active",
    ) -> PromptInfo:
        cleaned = clean_prompt(text)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            if cleaned.casefold() in await _existing_texts(session, guild_id, topic_id):
                raise UserFacingError("That prompt is already in the bank.")
            if await _bank_size(session, guild_id) >= MAX_BANK_SIZE:
                raise UserFacingError(f"The prompt bank is full ({MAX_BANK_SIZE} prompts).")
            row = Prompt(
                guild_id=guild_id,
                topic_id=topic_id,
                text=cleaned,
                status=status,
                use_count=0,
                created_by=actor_id,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            if status == "active":
                await record_audit(
                    session,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action="prompt.add",
                    target=f"prompt #{row.id}",
                    now=now,
                )
        return _info(row)

    async def suggest(
        self, guild_id: int, guild_name: str, user_id: int, text: str, topic_id: int | None = None
    ) -> PromptInfo:
        """A member's suggestion, pending until a moderator approves it."""
        return await self.add(
            guild_id, guild_name, user_id, text, topic_id=topic_id, status="pending"
        )

    async def decide(
        self, guild_id: int, prompt_id: int, actor_id: int, *, approve: bool
    ) -> PromptInfo:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, prompt_id)
            if row.status != "pending":
                raise UserFacingError(f"Prompt #{prompt_id} was already decided ({row.status}).")
            row.status = "active" if approve else "rejected"
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="prompt.approve" if approve else "prompt.reject",
                target=f"prompt #{row.id}",
                now=now,
            )
        return _info(row)

    async def import_lines(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        content: str,
        *,
        topic_id: int | None = None,
    ) -> ImportResult:
        """One prompt per line; duplicates, blank and over-long lines are skipped and counted."""
        now = self._clock.now()
        added = duplicates = too_long = blank = 0
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            seen = await _existing_texts(session, guild_id, topic_id)
            room = MAX_BANK_SIZE - await _bank_size(session, guild_id)
            for line in content.splitlines():
                text = " ".join(line.split())
                if not text:
                    blank += 1
                elif len(text) > MAX_PROMPT_LENGTH:
                    too_long += 1
                elif text.casefold() in seen:
                    duplicates += 1
                elif added >= room:
                    raise UserFacingError(
                        f"That file would overflow the prompt bank ({MAX_BANK_SIZE} prompts); "
                        "nothing was imported."
                    )
                else:
                    seen.add(text.casefold())
                    session.add(
                        Prompt(
                            guild_id=guild_id,
                            topic_id=topic_id,
                            text=text,
                            status="active",
                            use_count=0,
                            created_by=actor_id,
                            created_at=now,
                        )
                    )
                    added += 1
            if added:
                await record_audit(
                    session,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action="prompt.import",
                    target=f"{added} prompts",
                    now=now,
                )
        return ImportResult(added, duplicates, too_long, blank)

    async def list_bank(
        self, guild_id: int, *, topic_id: int | None = None, status: str = "active"
    ) -> list[PromptInfo]:
        query = (
            select(Prompt)
            .where(Prompt.guild_id == guild_id, Prompt.status == status)
            .order_by(Prompt.id)
        )
        if topic_id is not None:
            query = query.where(Prompt.topic_id == topic_id)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [_info(row) for row in rows]

    async def get(self, guild_id: int, prompt_id: int) -> PromptInfo:
        async with self._sessions() as session:
            return _info(await _row(session, guild_id, prompt_id))

    async def remove(self, guild_id: int, prompt_id: int, actor_id: int) -> PromptInfo:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, prompt_id)
            info = _info(row)
            await session.delete(row)
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="prompt.remove",
                target=f"prompt #{prompt_id}",
                now=now,
                details={"text": info.text[:200]},
            )
        return info

    async def take_next(self, guild_id: int, topic_id: int | None) -> PromptInfo | None:
        """The next prompt to post, marked used; None when the bank is empty.

        Least used first (so nothing repeats until every prompt was posted as often), then the
        topic's own prompts before general ones, then least recently used, then oldest.
        """
        now = self._clock.now()
        pool: ColumnElement[bool] = Prompt.topic_id.is_(None)
        if topic_id is not None:
            pool = or_(pool, Prompt.topic_id == topic_id)
        query = (
            select(Prompt)
            .where(
                Prompt.guild_id == guild_id,
                Prompt.status == "active",
                pool,
            )
            .order_by(
                Prompt.use_count,
                case((Prompt.topic_id.is_(None), 1), else_=0),
                case((Prompt.last_used_at.is_(None), 0), else_=1),
                Prompt.last_used_at,
                Prompt.id,
            )
            .limit(1)
        )
        async with self._sessions() as session, session.begin():
            row = await session.scalar(query.with_for_update())
            if row is None:
                return None
            row.use_count += 1
            row.last_used_at = now
        return _info(row)


async def _row(session: AsyncSession, guild_id: int, prompt_id: int) -> Prompt:
    row = await session.get(Prompt, prompt_id)
    if row is None or row.guild_id != guild_id:
        raise UserFacingError(f"There is no prompt #{prompt_id} on this server.")
    return row


async def _existing_texts(session: AsyncSession, guild_id: int, topic_id: int | None) -> set[str]:
    query = select(Prompt.text).where(
        Prompt.guild_id == guild_id,
        Prompt.status.in_(("active", "pending")),
        Prompt.topic_id.is_(None) if topic_id is None else Prompt.topic_id == topic_id,
    )
    return {text.casefold() for text in (await session.scalars(query)).all()}


async def _bank_size(session: AsyncSession, guild_id: int) -> int:
    query = select(func.count(Prompt.id)).where(
        Prompt.guild_id == guild_id, Prompt.status.in_(("active", "pending"))
    )
    return int(await session.scalar(query) or 0)


def _info(row: Prompt) -> PromptInfo:
    return PromptInfo(
        id=row.id,
        guild_id=row.guild_id,
        topic_id=row.topic_id,
        text=row.text,
        status=row.status,
        use_count=row.use_count,
        last_used_at=row.last_used_at,
        created_by=row.created_by,
    )
