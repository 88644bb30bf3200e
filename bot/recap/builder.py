"""Building a week's recap from the library: ranking, details, numbers, contributors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chats.models import Chat, ChatRun
from bot.guilds.models import GuildMember
from bot.learning.community import community_week
from bot.library.models import LibraryResource, LibrarySave, LibraryShare, LibraryTag, LibraryVote
from bot.members.models import MemberPrivacy
from bot.recap import ranking
from bot.recap.records import Contributor, RecapEntry, TopicSection, WeekNumbers
from bot.recap.window import Week
from bot.topics.service import TopicInfo

PER_TOPIC = 3
CONTRIBUTORS = 5
CHATS = 10
FEED_ITEMS = 3


class _FirstShare(NamedTuple):
    member_id: int
    channel_id: int
    message_id: int | None
    shared_at: datetime


async def ranked_entries(
    session: AsyncSession, guild_id: int, week: Week, ranked: Sequence[ranking.Ranked]
) -> list[RecapEntry]:
    """Titles, tags and the week's first share (who, where) for ranked resources, in order."""
    ids = sorted({r.resource_id for r in ranked})
    if not ids:
        return []
    resources = {
        row.id: row
        for row in await session.scalars(
            select(LibraryResource).where(
                LibraryResource.guild_id == guild_id, LibraryResource.id.in_(ids)
            )
        )
    }
    tags: dict[int, list[str]] = {}
    for resource_id, tag in await session.execute(
        select(LibraryTag.resource_id, LibraryTag.tag)
        .where(LibraryTag.guild_id == guild_id, LibraryTag.resource_id.in_(ids))
        .order_by(LibraryTag.resource_id, LibraryTag.tag)
    ):
        tags.setdefault(resource_id, []).append(tag)
    in_week = (
        LibraryShare.guild_id == guild_id,
        LibraryShare.resource_id.in_(ids),
        LibraryShare.shared_at >= week.start,
        LibraryShare.shared_at < week.end,
        LibraryShare.member_is_bot.is_(False),
    )
    earliest = (
        select(LibraryShare.resource_id, func.min(LibraryShare.shared_at).label("at"))
        .where(*in_week)
        .group_by(LibraryShare.resource_id)
        .subquery()
    )
    first: dict[int, _FirstShare] = {}
    rows = await session.execute(
        select(
            LibraryShare.resource_id,
            LibraryShare.member_id,
            LibraryShare.channel_id,
            LibraryShare.message_id,
            LibraryShare.shared_at,
        )
        .join(
            earliest,
            and_(
                earliest.c.resource_id == LibraryShare.resource_id,
                earliest.c.at == LibraryShare.shared_at,
            ),
        )
        .where(*in_week)
        .order_by(LibraryShare.id)
    )
    for row in rows:
        first.setdefault(row.resource_id, _FirstShare(*row[1:]))
    names = await member_names(session, guild_id, (s.member_id for s in first.values()))
    entries: list[RecapEntry] = []
    ranks: dict[int | None, int] = {}
    for item in ranked:  # ranks count within each group (the top list, or one topic)
        rank = ranks[item.group] = ranks.get(item.group, 0) + 1
        resource = resources[item.resource_id]
        share = first[item.resource_id]
        entries.append(
            RecapEntry(
                rank=rank,
                resource_id=resource.id,
                title=resource.title or resource.url,
                url=resource.url,
                domain=resource.domain,
                tags=tuple(tags.get(resource.id, ())),
                sharers=item.sharers,
                engagement=item.engagement,
                first_sharer_id=share.member_id,
                first_sharer_name=names.get(share.member_id, ""),
                channel_id=share.channel_id,
                message_id=share.message_id,
                first_shared_at=share.shared_at,
            )
        )
    return entries


async def member_names(
    session: AsyncSession, guild_id: int, member_ids: Iterable[int]
) -> dict[int, str]:
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(GuildMember.user_id, GuildMember.display_name).where(
            GuildMember.guild_id == guild_id, GuildMember.user_id.in_(ids)
        )
    )
    return {int(user_id): name for user_id, name in rows}


async def topic_sections(
    session: AsyncSession, guild_id: int, week: Week, topics: Sequence[TopicInfo]
) -> list[TopicSection]:
    """The top 3 of each active topic: resources shared this week in the topic's channel."""
    by_channel = {t.channel_id: t for t in topics if t.channel_id is not None}
    if not by_channel:
        return []
    ranked = await ranking.run(
        session,
        ranking.per_channel_query(guild_id, week.start, week.end, list(by_channel), PER_TOPIC),
    )
    entries = await ranked_entries(session, guild_id, week, ranked)
    sections: list[TopicSection] = []
    for topic in topics:
        mine = tuple(e for r, e in zip(ranked, entries, strict=True) if r.group == topic.channel_id)
        if mine:
            sections.append(TopicSection(topic.id, topic.name, mine))
    return sections


async def week_numbers(
    session: AsyncSession, guild_id: int, week: Week, topics: Sequence[TopicInfo]
) -> WeekNumbers:
    s = LibraryShare
    in_week = (
        s.guild_id == guild_id,
        s.shared_at >= week.start,
        s.shared_at < week.end,
        s.member_is_bot.is_(False),
    )
    links = await session.scalar(select(func.count()).select_from(s).where(*in_week))
    earlier = LibraryShare.__table__.alias("earlier")
    new_sharers = await session.scalar(
        select(func.count(distinct(s.member_id))).where(
            *in_week,
            ~exists().where(
                earlier.c.guild_id == guild_id,
                earlier.c.member_id == s.member_id,
                earlier.c.shared_at < week.start,
            ),
        )
    )
    new_topics = tuple(t.name for t in topics if week.contains(t.created_at))
    chats = await chats_held(session, guild_id, week)
    learning = await community_week(session, guild_id, week.start, week.end)
    return WeekNumbers(int(links or 0), int(new_sharers or 0), new_topics, chats, learning)


async def chats_held(
    session: AsyncSession, guild_id: int, week: Week, limit: int = CHATS
) -> tuple[tuple[str, str], ...]:
    """(title, thread link) of the chats that ran this week with a thread, in order."""
    rows = await session.execute(
        select(Chat.title, ChatRun.thread_id)
        .join(Chat, Chat.id == ChatRun.chat_id)
        .where(
            ChatRun.guild_id == guild_id,
            ChatRun.slot_at >= week.start,
            ChatRun.slot_at < week.end,
            ChatRun.thread_id.is_not(None),
        )
        .order_by(ChatRun.slot_at, ChatRun.id)
        .limit(limit)
    )
    return tuple(
        (title, f"https://discord.com/channels/{guild_id}/{thread_id}") for title, thread_id in rows
    )


async def top_contributors(
    session: AsyncSession, guild_id: int, week: Week, limit: int = CONTRIBUTORS
) -> list[Contributor]:
    """Members by distinct links shared this week; those who opted out are left out."""
    s = LibraryShare
    r = LibraryResource
    links = func.count(distinct(s.resource_id))
    query = (
        select(s.member_id, links.label("links"))
        .join(r, r.id == s.resource_id)
        .where(
            s.guild_id == guild_id,
            s.shared_at >= week.start,
            s.shared_at < week.end,
            s.member_is_bot.is_(False),
            r.deleted_at.is_(None),
            ~exists().where(
                MemberPrivacy.guild_id == guild_id,
                MemberPrivacy.user_id == s.member_id,
                MemberPrivacy.hide_from_contributors.is_(True),
            ),
        )
        .group_by(s.member_id)
        .order_by(links.desc(), s.member_id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    names = await member_names(session, guild_id, (int(m) for m, _ in rows))
    return [Contributor(int(m), names.get(int(m), ""), int(n)) for m, n in rows]


async def feed_highlights(
    session: AsyncSession, guild_id: int, week: Week, limit: int = FEED_ITEMS
) -> list[RecapEntry]:
    """The week's feed items (filed by the bot from a feed) with the most votes and saves in
    the week; items nobody voted on or saved are left out."""
    posted = {
        row.resource_id: row
        for row in await session.execute(
            select(
                LibraryShare.resource_id,
                LibraryShare.channel_id,
                LibraryShare.message_id,
                LibraryShare.shared_at,
            )
            .where(
                LibraryShare.guild_id == guild_id,
                LibraryShare.source == "feed",
                LibraryShare.shared_at >= week.start,
                LibraryShare.shared_at < week.end,
            )
            .order_by(LibraryShare.id.desc())
        )
    }
    if not posted:
        return []
    ids = sorted(posted)
    votes = dict(
        (
            await session.execute(
                select(LibraryVote.resource_id, func.count())
                .where(
                    LibraryVote.guild_id == guild_id,
                    LibraryVote.resource_id.in_(ids),
                    LibraryVote.voted_at >= week.start,
                    LibraryVote.voted_at < week.end,
                )
                .group_by(LibraryVote.resource_id)
            )
        ).all()
    )
    saves = dict(
        (
            await session.execute(
                select(LibrarySave.resource_id, func.count())
                .where(
                    LibrarySave.guild_id == guild_id,
                    LibrarySave.resource_id.in_(ids),
                    LibrarySave.saved_at >= week.start,
                    LibrarySave.saved_at < week.end,
                )
                .group_by(LibrarySave.resource_id)
            )
        ).all()
    )
    engagement = {rid: int(votes.get(rid, 0)) + int(saves.get(rid, 0)) for rid in ids}
    best = sorted(
        (rid for rid in ids if engagement[rid] > 0),
        key=lambda rid: (-engagement[rid], posted[rid].shared_at),
    )[:limit]
    if not best:
        return []
    resources = {
        row.id: row
        for row in await session.scalars(
            select(LibraryResource).where(
                LibraryResource.id.in_(best), LibraryResource.deleted_at.is_(None)
            )
        )
    }
    tags: dict[int, list[str]] = {}
    for resource_id, tag in await session.execute(
        select(LibraryTag.resource_id, LibraryTag.tag)
        .where(LibraryTag.guild_id == guild_id, LibraryTag.resource_id.in_(best))
        .order_by(LibraryTag.resource_id, LibraryTag.tag)
    ):
        tags.setdefault(resource_id, []).append(tag)
    entries: list[RecapEntry] = []
    for rid in best:
        resource = resources.get(rid)
        if resource is None:
            continue
        share = posted[rid]
        entries.append(
            RecapEntry(
                rank=len(entries) + 1,
                resource_id=rid,
                title=resource.title or resource.url,
                url=resource.url,
                domain=resource.domain,
                tags=tuple(tags.get(rid, ())),
                sharers=0,
                engagement=engagement[rid],
                first_sharer_id=0,
                first_sharer_name="",
                channel_id=share.channel_id,
                message_id=share.message_id,
                first_shared_at=share.shared_at,
            )
        )
    return entries
