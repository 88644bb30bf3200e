"""The week's ranking as ONE backend-neutral SQL query (SQLAlchemy Core, CTEs).

Score of a resource in the week [start, end):
  1. distinct non-bot members who shared it in the week (five shares by one member count once),
  2. then votes (one per member and emoji) plus saves made in the week, leaving out those by
     known bots and those on "their own share": by a member who shared the resource this week
     or who first brought it to the library,
  3. then the earliest share in the week (earlier first), then the resource id (stable).
Removed resources (`deleted_at`) never appear; an old resource re-shared this week qualifies with
this week's shares only.

Indexes used: library_shares (guild_id, shared_at, member_is_bot, resource_id, member_id,
channel_id), which covers the week's shares so they are read from the index alone; library_votes
(guild_id, voted_at); library_saves (guild_id, saved_at); the primary keys of library_resources
and guild_members. See docs/recap.md for figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CTE,
    Select,
    and_,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.guilds.models import GuildMember
from bot.library.models import LibraryResource, LibrarySave, LibraryShare, LibraryTag, LibraryVote

FORMULA = (
    "Ranked by distinct members who shared a link this week, then votes + saves this week "
    "(not on one's own share; bots never count), then the earliest share."
)


@dataclass(frozen=True)
class Ranked:
    resource_id: int
    sharers: int
    engagement: int
    first_at: datetime
    group: int | None = None  # the channel (topic) for per-topic rankings


@dataclass(frozen=True)
class Filter:
    """Narrow the ranking (digests): shared in these channels or tagged, minus a member's own."""

    channel_ids: Sequence[int] = ()
    tags: Sequence[str] = ()
    exclude_member_id: int | None = None


def _week_shares(guild_id: int, start: datetime, end: datetime) -> CTE:
    s = LibraryShare.__table__.c
    return (
        select(s.resource_id, s.member_id, s.channel_id, s.shared_at)
        .where(
            s.guild_id == guild_id,
            s.shared_at >= start,
            s.shared_at < end,
            s.member_is_bot.is_(False),
        )
        .cte("week_shares")
    )


def _not_bot(guild_id: int, member_col: Any) -> Any:
    members = GuildMember.__table__.c
    return ~exists().where(
        members.guild_id == guild_id,
        members.user_id == member_col,
        members.is_bot.is_(True),
    )


def _scored(guild_id: int, start: datetime, end: datetime, week: CTE) -> CTE:
    r = LibraryResource.__table__.c
    v = LibraryVote.__table__.c
    sv = LibrarySave.__table__.c
    sharers = (
        select(
            week.c.resource_id,
            func.count(distinct(week.c.member_id)).label("sharers"),
            func.min(week.c.shared_at).label("first_at"),
        )
        .group_by(week.c.resource_id)
        .cte("sharers")
    )
    # Votes and saves by a member on "their own share" do not count: a resource they shared this
    # week, or first brought to the library. Rather than an anti-join (which some planners run
    # as votes × shares), those (resource, member) pairs (own = 1) and the week's reactions
    # (reaction = 1) are grouped by pair: a pair counts its reactions only if it is not own.
    # Sorting and grouping ~2 × 10^5 rows plans the same way on every backend.
    pairs = union_all(
        select(
            week.c.resource_id,
            week.c.member_id,
            literal(0).label("reaction"),
            literal(1).label("own"),
        ),
        select(r.id, r.first_sharer_id, literal(0), literal(1))
        .select_from(sharers)
        .join(LibraryResource.__table__, r.id == sharers.c.resource_id),
        select(v.resource_id, v.member_id, literal(1), literal(0)).where(
            v.guild_id == guild_id,
            v.voted_at >= start,
            v.voted_at < end,
            _not_bot(guild_id, v.member_id),
        ),
        select(sv.resource_id, sv.member_id, literal(1), literal(0)).where(
            sv.guild_id == guild_id,
            sv.saved_at >= start,
            sv.saved_at < end,
            _not_bot(guild_id, sv.member_id),
        ),
    ).subquery("pairs")
    per_member = (
        select(
            pairs.c.resource_id,
            func.sum(pairs.c.reaction).label("reactions"),
        )
        .group_by(pairs.c.resource_id, pairs.c.member_id)
        .having(func.max(pairs.c.own) == 0)
        .subquery("per_member")
    )
    engagement = (
        select(per_member.c.resource_id, func.sum(per_member.c.reactions).label("engagement"))
        .group_by(per_member.c.resource_id)
        .cte("engagement")
    )
    return (
        select(
            sharers.c.resource_id,
            sharers.c.sharers,
            func.coalesce(engagement.c.engagement, 0).label("engagement"),
            sharers.c.first_at,
        )
        .join(
            LibraryResource.__table__, and_(r.id == sharers.c.resource_id, r.guild_id == guild_id)
        )
        .outerjoin(engagement, engagement.c.resource_id == sharers.c.resource_id)
        .where(r.deleted_at.is_(None))
        .cte("scored")
    )


def _order(scored: Any) -> list[Any]:
    return [
        scored.c.sharers.desc(),
        scored.c.engagement.desc(),
        scored.c.first_at.asc(),
        scored.c.resource_id.asc(),
    ]


def top_query(
    guild_id: int, start: datetime, end: datetime, limit: int, where: Filter | None = None
) -> Select[Any]:
    """The top `limit` resources of the week (optionally narrowed for a digest)."""
    week = _week_shares(guild_id, start, end)
    scored = _scored(guild_id, start, end, week)
    query = select(
        scored.c.resource_id,
        scored.c.sharers,
        scored.c.engagement,
        scored.c.first_at,
        literal(None).label("grp"),
    )
    if where is not None:
        query = query.where(*_narrow(guild_id, scored, week, where))
    return query.order_by(*_order(scored)).limit(limit)


def _narrow(guild_id: int, scored: CTE, week: CTE, where: Filter) -> list[Any]:
    t = LibraryTag.__table__.c
    s = LibraryShare.__table__.c
    conditions: list[Any] = []
    wanted: list[Any] = []
    if where.channel_ids:
        wanted.append(
            exists().where(
                week.c.resource_id == scored.c.resource_id,
                week.c.channel_id.in_(list(where.channel_ids)),
            )
        )
    if where.tags:
        wanted.append(
            exists().where(
                t.guild_id == guild_id,
                t.resource_id == scored.c.resource_id,
                t.tag.in_(list(where.tags)),
            )
        )
    conditions.append(or_(*wanted) if wanted else literal(False))
    if where.exclude_member_id is not None:
        conditions.append(
            ~exists().where(
                s.resource_id == scored.c.resource_id, s.member_id == where.exclude_member_id
            )
        )
    return conditions


def per_channel_query(
    guild_id: int, start: datetime, end: datetime, channel_ids: Sequence[int], per: int
) -> Select[Any]:
    """The top `per` resources shared (this week) in each of `channel_ids` (topic channels)."""
    week = _week_shares(guild_id, start, end)
    scored = _scored(guild_id, start, end, week)
    pairs = (
        select(week.c.resource_id, week.c.channel_id)
        .where(week.c.channel_id.in_(list(channel_ids)))
        .distinct()
        .cte("topic_pairs")
    )
    numbered = (
        select(
            scored.c.resource_id,
            scored.c.sharers,
            scored.c.engagement,
            scored.c.first_at,
            pairs.c.channel_id.label("grp"),
            func.row_number()
            .over(partition_by=pairs.c.channel_id, order_by=_order(scored))
            .label("rn"),
        )
        .join(pairs, pairs.c.resource_id == scored.c.resource_id)
        .subquery("numbered")
    )
    return (
        select(
            numbered.c.resource_id,
            numbered.c.sharers,
            numbered.c.engagement,
            numbered.c.first_at,
            numbered.c.grp,
        )
        .where(numbered.c.rn <= per)
        .order_by(numbered.c.grp, numbered.c.rn)
    )


async def run(session: AsyncSession, query: Select[Any]) -> list[Ranked]:
    rows = (await session.execute(query)).all()
    return [
        Ranked(
            resource_id=int(row.resource_id),
            sharers=int(row.sharers),
            engagement=int(row.engagement),
            first_at=_aware(row.first_at),
            group=int(row.grp) if row.grp is not None else None,
        )
        for row in rows
    ]


def _aware(value: Any) -> datetime:
    """min() over a UTCDateTime column keeps the type; SQLite may still hand back text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
