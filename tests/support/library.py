"""Writing library rows directly, so recap tests do not depend on the library's commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.database import SessionFactory
from bot.guilds.models import GuildMember
from bot.guilds.service import ensure_guild_row
from bot.library.models import LibraryResource, LibrarySave, LibraryShare, LibraryTag, LibraryVote

CHANNEL = 500


@dataclass
class Library:
    """A guild's library seeded row by row; `at` values are offsets back from `now`."""

    sessions: SessionFactory
    guild_id: int
    now: datetime
    message_ids: list[int] = field(default_factory=lambda: [9000])

    async def member(self, user_id: int, name: str, *, bot: bool = False) -> None:
        async with self.sessions() as session, session.begin():
            await ensure_guild_row(session, self.guild_id, f"guild {self.guild_id}", self.now)
            session.add(
                GuildMember(
                    guild_id=self.guild_id,
                    user_id=user_id,
                    display_name=name,
                    is_bot=bot,
                    first_seen_at=self.now,
                    last_seen_at=self.now,
                )
            )

    async def resource(
        self,
        url: str,
        title: str | None = None,
        *,
        sharer: int = 1,
        ago: timedelta = timedelta(days=1),
        tags: tuple[str, ...] = (),
        deleted: bool = False,
    ) -> int:
        async with self.sessions() as session, session.begin():
            await ensure_guild_row(session, self.guild_id, f"guild {self.guild_id}", self.now)
            row = LibraryResource(
                guild_id=self.guild_id,
                canonical_url=url,
                url=url,
                domain=url.split("/")[2],
                title=title,
                title_source="member" if title else "",
                first_sharer_id=sharer,
                first_shared_at=self.now - ago,
                search_text=title or url,
                deleted_at=self.now if deleted else None,
            )
            session.add(row)
            await session.flush()
            session.add_all(
                LibraryTag(resource_id=row.id, tag=t, guild_id=self.guild_id) for t in tags
            )
            return row.id

    async def share(
        self,
        resource_id: int,
        member_id: int,
        ago: timedelta,
        *,
        bot: bool = False,
        channel_id: int = CHANNEL,
    ) -> None:
        self.message_ids.append(self.message_ids[-1] + 1)
        async with self.sessions() as session, session.begin():
            session.add(
                LibraryShare(
                    guild_id=self.guild_id,
                    resource_id=resource_id,
                    member_id=member_id,
                    member_is_bot=bot,
                    channel_id=channel_id,
                    message_id=self.message_ids[-1],
                    source="command",
                    shared_at=self.now - ago,
                )
            )

    async def vote(
        self, resource_id: int, member_id: int, ago: timedelta, emoji: str = "⭐"
    ) -> None:
        async with self.sessions() as session, session.begin():
            session.add(
                LibraryVote(
                    guild_id=self.guild_id,
                    resource_id=resource_id,
                    member_id=member_id,
                    emoji=emoji,
                    message_id=1,
                    voted_at=self.now - ago,
                )
            )

    async def save(self, resource_id: int, member_id: int, ago: timedelta) -> None:
        async with self.sessions() as session, session.begin():
            session.add(
                LibrarySave(
                    guild_id=self.guild_id,
                    resource_id=resource_id,
                    member_id=member_id,
                    saved_at=self.now - ago,
                )
            )
