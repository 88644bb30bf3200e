"""Members' topic suggestions: made once per name, decided once by a moderator."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row, record_audit
from bot.topics import rules
from bot.topics.models import TopicSuggestion
from bot.topics.records import SuggestionInfo, suggestion_info
from bot.topics.service import TopicService


class TopicSuggestions:
    def __init__(self, sessions: SessionFactory, clock: Clock, topics: TopicService) -> None:
        self._sessions = sessions
        self._clock = clock
        self._topics = topics

    async def suggest(
        self, guild_id: int, guild_name: str, user_id: int, name: str, reason: str
    ) -> SuggestionInfo:
        cleaned = rules.clean_name(name)
        why = reason.strip()
        if len(why) > rules.REASON_MAX:
            raise UserFacingError(f"Keep the reason under {rules.REASON_MAX} characters.")
        existing = await self._topics.by_name(guild_id, cleaned)
        if existing is not None:
            raise UserFacingError(
                f"“{existing.name}” already exists"
                + (": join it with `/topic join`." if existing.state == "active" else ".")
            )
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            pending = await session.scalar(
                select(func.count())
                .select_from(TopicSuggestion)
                .where(
                    TopicSuggestion.guild_id == guild_id,
                    TopicSuggestion.state == "pending",
                    func.lower(TopicSuggestion.name) == cleaned.lower(),
                )
            )
            if pending:
                raise UserFacingError(f"“{cleaned}” was already suggested and awaits a moderator.")
            row = TopicSuggestion(
                guild_id=guild_id,
                user_id=user_id,
                name=cleaned,
                reason=why,
                state="pending",
                created_at=now,
            )
            session.add(row)
            await session.flush()
            return suggestion_info(row)

    async def suggestion(self, guild_id: int, suggestion_id: int) -> SuggestionInfo | None:
        async with self._sessions() as session:
            row = await session.get(TopicSuggestion, suggestion_id)
        return suggestion_info(row) if row is not None and row.guild_id == guild_id else None

    async def decide(
        self,
        guild_id: int,
        suggestion_id: int,
        actor_id: int,
        *,
        approved: bool,
        note: str | None = None,
        topic_id: int | None = None,
    ) -> SuggestionInfo:
        """Approve or reject a pending suggestion once; a second decision is refused."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await session.get(TopicSuggestion, suggestion_id, with_for_update=True)
            if row is None or row.guild_id != guild_id:
                raise UserFacingError("That suggestion no longer exists.")
            if row.state != "pending":
                raise UserFacingError(f"That suggestion was already {row.state}.")
            row.state = "approved" if approved else "rejected"
            row.decided_by = actor_id
            row.decided_at = now
            row.decision_note = (note or "").strip()[: rules.REASON_MAX] or None
            row.topic_id = topic_id
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action=f"topic.suggestion.{row.state}",
                target=row.name,
                now=now,
                details={"suggestion_id": row.id, "topic_id": topic_id},
            )
            return suggestion_info(row)
